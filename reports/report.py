"""The trend report: what every export (PDF, CSV, FHIR) says about one patient over a date range,
gathered once so the three formats cannot disagree. Numbers come from `trends` — the same ones the
dashboard shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.models import Profile, profile_of
from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.engine.messages import gettext_noop, render, said
from ser.engine.notices import DISCLAIMER, TEST_MODEL_WARNING

from .restrictions import WORDS
from .trends import Flag, Provenance, Trend, VoiceBand, patient_trend


def range_message(
    first: date | None, last: date | None, *, fmt: Callable[[date], str] = date.isoformat
) -> dict[str, Any]:
    """A date range in words, kept translatable ({"msgid", "params"}; ser.engine.messages)."""
    if first is None and last is None:
        return said(gettext_noop("all sessions"))
    if first is None:
        return said(gettext_noop("sessions up to %(last)s"), last=fmt(last))  # type: ignore[arg-type]
    if last is None:
        return said(gettext_noop("sessions from %(first)s"), first=fmt(first))
    return said(gettext_noop("sessions from %(first)s to %(last)s"), first=fmt(first), last=fmt(last))


def range_words(first: date | None, last: date | None) -> str:
    """A date range in words, as the dashboard and every report say it (in the active language)."""
    return render(range_message(first, last, fmt=lambda d: date_format(d, "SHORT_DATE_FORMAT")), gettext)


@dataclass(frozen=True)
class ReportRow:
    """One analysed session. A session with several recordings is their speech-weighted combination;
    `confidence` is the share of its dominant emotion."""

    session_id: str
    number: int
    date: datetime
    dominant: str
    confidence: float
    scores: dict[str, float]  # EMOTIONS order
    euclidean: float
    cosine: float
    speech_s: float
    baseline: bool
    beyond_band: bool
    analysis_ids: tuple[str, ...]
    models: tuple[Provenance, ...]
    # Voice measures by key (ser.engine.voice.MEASURES; None where the session has none) and those
    # outside the patient's baseline band: key → "above" / "below".
    voice: dict[str, float | None]
    voice_beyond: dict[str, str]
    voice_provenance: tuple[str, ...]  # voice libraries, each once: "praat-parselmouth 0.4.7 / Praat 6.1.38"
    # Whose speech the row rests on (reports.restrictions) and whether that is the baseline's: a
    # session restricted differently keeps its drift numbers but is never beyond the band.
    restriction: str = "mix"
    drift_comparable: bool = True

    @property
    def restriction_words(self) -> str:
        return str(WORDS[self.restriction])


@dataclass(frozen=True)
class TrendReport:
    patient: Patient
    therapist: Any  # the patient's owner (a user)
    profile: Profile
    date_from: date | None
    date_to: date | None
    generated_at: datetime
    trend: Trend  # sliced to the range: what the plots draw
    rows: tuple[ReportRow, ...]

    @property
    def variant(self) -> str | None:
        return self.trend.variant

    @property
    def is_test_model(self) -> bool:
        return self.trend.is_test_model

    @property
    def flags(self) -> list[Flag]:
        return self.trend.flags

    @property
    def models(self) -> list[Provenance]:
        return self.trend.models()

    @property
    def range_words(self) -> str:
        return range_words(self.date_from, self.date_to)

    @property
    def voice_bands(self) -> dict[str, VoiceBand]:
        """Each voice measure's usual range for this patient (absent: fewer than two baseline values)."""
        return self.trend.voice_bands

    @property
    def has_voice(self) -> bool:
        return self.trend.has_voice

    @property
    def baseline_words(self) -> str:
        """The baseline definition in words, with the band when there is one."""
        words = gettext("Baseline: %(baseline)s.") % {"baseline": self.trend.baseline_note}
        if self.trend.band is not None:
            low, high = self.trend.band
            words += " " + gettext(
                "The usual range for this patient is the baseline sessions' own distance from the "
                "baseline, mean ± 2 SD: %(low)s to %(high)s."
            ) % {"low": f"{low:.3f}", "high": f"{high:.3f}"}
        if self.trend.restriction_note:
            words += " " + self.trend.restriction_note
        return words

    @property
    def notices(self) -> list[str]:
        """Said on every page or at the top of every file: the test-checkpoint warning when it
        applies, and always the disclaimer (in the active language)."""
        notices = [TEST_MODEL_WARNING, DISCLAIMER] if self.is_test_model else [DISCLAIMER]
        return [gettext(n) for n in notices]

    def filename(self, extension: str) -> str:
        """A file name without the patient's name (it lands in download folders and mail)."""
        ident = self.patient.external_id or self.patient.pk.hex[:8]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in ident)[:40]
        return f"emotion-trend-{safe}-{self.generated_at:%Y%m%d-%H%M}.{extension}"


def trend_report(
    *,
    patient: Patient,
    date_from: date | None = None,
    date_to: date | None = None,
    variant: str | None = None,
    now: datetime | None = None,
) -> TrendReport:
    trend = patient_trend(patient=patient, variant=variant).within(date_from, date_to)
    rows = tuple(
        ReportRow(
            session_id=trend.session_ids[i],
            number=trend.numbers[i],
            date=trend.dates[i],
            dominant=trend.dominant[i],
            confidence=float(trend.confidence[i]),
            scores={e: float(v) for e, v in zip(EMOTIONS, trend.scores[i], strict=True)},
            euclidean=float(trend.euclidean[i]),
            cosine=float(trend.cosine[i]),
            speech_s=float(trend.speech_s[i]),
            baseline=bool(trend.baseline[i]),
            beyond_band=trend.beyond_band(i),
            analysis_ids=tuple(trend.analysis_ids[i]),
            models=tuple(trend.provenance[i]),
            voice=trend.voice_row(i),
            voice_beyond=trend.voice_beyond(i),
            voice_provenance=trend.voice_provenance[i],
            restriction=trend.restrictions[i],
            drift_comparable=bool(trend.comparable[i]),
        )
        for i in range(trend.count)
    )
    return TrendReport(
        patient=patient,
        therapist=patient.owner,
        profile=profile_of(patient.owner),
        date_from=date_from,
        date_to=date_to,
        generated_at=now or timezone.now(),
        trend=trend,
        rows=rows,
    )
