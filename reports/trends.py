"""A patient's trend across sessions, computed from stored aggregates only (one query for the
analyses, one for the baseline choice): the emotion trajectory, drift of each session's embedding
from the patient's baseline, a patient-relative band, review flags, a 2-D session map and nearest
sessions. Embeddings of different model variants live in different spaces, so everything here is
computed within one variant, and the page says which."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.engine.voice import BY_KEY as VOICE_MEASURES
from ser.engine.voice import MEASURE_KEYS as VOICE_KEYS
from ser.models import EmotionAnalysis
from ser.selectors import done_analyses

from . import restrictions as restriction

SAD, FEARFUL = EMOTIONS.index("sad"), EMOTIONS.index("fearful")


@dataclass(frozen=True)
class Flag:
    kind: str  # "rising-distress", "drift", "low-speech"
    title: str
    detail: str
    sessions: tuple[int, ...]  # session numbers concerned

    @property
    def numbers(self) -> str:
        """The session numbers in a sentence, in the active language ("4, 5, 6" or "4、5、6")."""
        return restriction.join(self.sessions)


@dataclass(frozen=True)
class VoiceBand:
    """A voice measure's usual range for this patient: the baseline sessions' mean ± VOICE_BAND_SD
    SD (at least ± VOICE_BAND_MIN_REL of the mean), from `n` baseline sessions."""

    low: float
    high: float
    mean: float
    n: int


@dataclass(frozen=True)
class Provenance:
    """Which model made a result: hub id or directory, weights revision, variant, numeric path."""

    model_id: str
    model_revision: str
    model_variant: str
    precision: str
    device: str
    is_test_model: bool


@dataclass
class Trend:
    variant: str | None
    variants: list[str]
    is_test_model: bool = False
    session_ids: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    dates: list[datetime] = field(default_factory=list)
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 9)))
    dominant: list[str] = field(default_factory=list)
    speech_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    baseline: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per session
    euclidean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cosine: np.ndarray = field(default_factory=lambda: np.zeros(0))
    band: tuple[float, float] | None = None
    baseline_note: str = ""
    flags: list[Flag] = field(default_factory=list)
    # Voice measures per session (columns in VOICE_KEYS order, NaN where a session has none) and
    # each measure's baseline band (absent where the baseline has fewer than two values).
    voice: np.ndarray = field(default_factory=lambda: np.zeros((0, len(VOICE_KEYS))))
    voice_bands: dict[str, VoiceBand] = field(default_factory=dict)
    # Per session: the analyses it combines and the models that made them.
    analysis_ids: list[list[str]] = field(default_factory=list)
    provenance: list[list[Provenance]] = field(default_factory=list)
    # Per session: the voice library behind its measures, each distinct one once
    # ("praat-parselmouth 0.4.7 / Praat 6.1.38"); empty where it has none.
    voice_provenance: list[tuple[str, ...]] = field(default_factory=list)
    # Per session: whose speech it rests on (reports.restrictions: "mix", "channel", "voice",
    # "mixed") and whether that is the baseline's, so its drift is compared; the baseline sessions'
    # numbers by restriction (they may lie outside a date range).
    restrictions: list[str] = field(default_factory=list)
    comparable: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    baseline_restrictions: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.numbers)

    @property
    def confidence(self) -> np.ndarray:
        """Per session: the share of the dominant emotion (of the speech-weighted scores)."""
        return self.scores.max(axis=1) if self.count else np.zeros(0)

    @property
    def baseline_restriction(self) -> str:
        """The baseline's restriction ("mixed" when its sessions differ; "" with none)."""
        return restriction.of_baseline(self.baseline_restrictions)

    @property
    def restriction_note(self) -> str:
        """Which sessions' drift is not compared with the baseline, and why ("" when all are)."""
        return restriction.note(self.restrictions, self.numbers, self.comparable, self.baseline_restrictions)

    def models(self) -> list[Provenance]:
        """Every model behind the sessions shown, each once, in order of first use."""
        return list(dict.fromkeys(p for per in self.provenance for p in per))

    def within(self, date_from: date | None = None, date_to: date | None = None) -> Trend:
        """The sessions dated from `date_from` to `date_to` (inclusive, in the clinic's time zone).
        Drift keeps the patient's baseline (which may lie outside the range: the baseline note says
        which sessions it is); flags are judged on the sessions in the range only."""
        if date_from is None and date_to is None:
            return self
        days = [timezone.localdate(d) for d in self.dates]
        keep = [
            i
            for i, day in enumerate(days)
            if (date_from is None or day >= date_from) and (date_to is None or day <= date_to)
        ]
        pick = np.array(keep, dtype=int)

        def rows(a: np.ndarray) -> np.ndarray:
            return a[pick] if a.size else a

        sliced = replace(
            self,
            session_ids=[self.session_ids[i] for i in keep],
            numbers=[self.numbers[i] for i in keep],
            dates=[self.dates[i] for i in keep],
            scores=self.scores[pick].reshape(-1, 9),
            dominant=[self.dominant[i] for i in keep],
            speech_s=rows(self.speech_s),
            embeddings=self.embeddings[pick] if self.embeddings.size else self.embeddings,
            baseline=rows(self.baseline),
            euclidean=rows(self.euclidean),
            cosine=rows(self.cosine),
            voice=self.voice[pick].reshape(-1, len(VOICE_KEYS)),
            analysis_ids=[self.analysis_ids[i] for i in keep],
            provenance=[self.provenance[i] for i in keep],
            voice_provenance=[self.voice_provenance[i] for i in keep],
            restrictions=[self.restrictions[i] for i in keep],
            comparable=rows(self.comparable),
        )
        sliced.is_test_model = any(p.is_test_model for per in sliced.provenance for p in per)
        sliced.flags = _flags(sliced)
        return sliced

    def voice_row(self, i: int) -> dict[str, float | None]:
        """Session `i`'s voice measures by key (None where it has none)."""
        return {
            k: (None if not np.isfinite(v) else float(v))
            for k, v in zip(VOICE_KEYS, self.voice[i], strict=True)
        }

    def voice_beyond(self, i: int) -> dict[str, str]:
        """Session `i`'s measures outside their band: key → "above" or "below"."""
        out = {}
        for j, key in enumerate(VOICE_KEYS):
            band, v = self.voice_bands.get(key), self.voice[i, j]
            if band is not None and np.isfinite(v) and not self.baseline[i]:
                if v > band.high:
                    out[key] = "above"
                elif v < band.low:
                    out[key] = "below"
        return out

    @property
    def has_voice(self) -> bool:
        return bool(np.isfinite(self.voice).any())

    def beyond_band(self, i: int) -> bool:
        """Session `i`'s drift is above the band (only ever a session restricted like the baseline)."""
        return bool(self.band is not None and self.comparable[i] and self.euclidean[i] > self.band[1])

    def rows(self) -> list[dict[str, object]]:
        """The numbers behind every plot, one row per session."""
        out = []
        for i in range(self.count):
            out.append(
                {
                    "session_id": self.session_ids[i],
                    "number": self.numbers[i],
                    "date": self.dates[i],
                    "dominant": self.dominant[i],
                    "scores": [round(float(v), 3) for v in self.scores[i]],
                    "speech_s": float(self.speech_s[i]),
                    "baseline": bool(self.baseline[i]),
                    "euclidean": float(self.euclidean[i]) if self.euclidean.size else None,
                    "cosine": float(self.cosine[i]) if self.cosine.size else None,
                    "beyond_band": self.beyond_band(i),
                    "restriction": self.restrictions[i],
                    "restriction_words": restriction.WORDS[self.restrictions[i]],
                    "drift_comparable": bool(self.comparable[i]),
                    "voice": self.voice_row(i),
                }
            )
        return out


def _variants(patient: Patient) -> list[str]:
    rows = (
        EmotionAnalysis.objects.filter(recording__session__patient=patient)
        .values("model_variant")
        .annotate(n=Count("id"))
        .order_by("-n", "model_variant")
    )
    return [r["model_variant"] for r in rows]


def patient_trend(*, patient: Patient, variant: str | None = None) -> Trend:
    variants = _variants(patient)
    if variant not in variants:
        variant = variants[0] if variants else None
    trend = Trend(variant=variant, variants=variants)
    if variant is None:
        return trend
    analyses = list(
        done_analyses(patient=patient, variant=variant).only(
            "scores",
            "embedding",
            "analysed_s",
            "voice",
            "is_test_model",
            "model_id",
            "model_revision",
            "model_variant",
            "precision",
            "device",
            "channel",
            "recording__channels",
            "recording__session__id",
            "recording__session__number",
            "recording__session__started_at",
        )
    )
    # A session with several recordings is their speech-weighted combination.
    by_session: dict[object, list[EmotionAnalysis]] = {}
    for a in analyses:
        by_session.setdefault(a.recording.session.id, []).append(a)
    scores, embs, speech, voice = [], [], [], []
    for group in by_session.values():
        s = group[0].recording.session
        w = np.array([max(a.analysed_s, 1e-6) for a in group])
        voice.append(_session_voice(group, w))
        trend.voice_provenance.append(_voice_library(group))
        scores.append(np.average(np.array([a.scores for a in group]), axis=0, weights=w))
        embs.append(np.average(np.stack([a.embedding_array() for a in group]), axis=0, weights=w))
        speech.append(float(w.sum()))
        trend.session_ids.append(str(s.id))
        trend.numbers.append(s.number)
        trend.dates.append(s.started_at)
        trend.is_test_model |= any(a.is_test_model for a in group)
        trend.analysis_ids.append([str(a.pk) for a in group])
        trend.restrictions.append(
            restriction.of_session(restriction.of_analysis(a.channel, a.recording.channels) for a in group)
        )
        trend.provenance.append(
            list(
                dict.fromkeys(
                    Provenance(
                        a.model_id, a.model_revision, a.model_variant, a.precision, a.device, a.is_test_model
                    )
                    for a in group
                )
            )
        )
    trend.scores = np.array(scores).reshape(-1, 9)
    trend.dominant = [EMOTIONS[int(np.argmax(r))] for r in trend.scores]
    trend.embeddings = np.array(embs, dtype=np.float32)
    trend.speech_s = np.array(speech)
    trend.voice = np.array(voice, dtype=np.float64).reshape(-1, len(VOICE_KEYS))
    _drift(trend, patient)
    _voice_bands(trend)
    trend.flags = _flags(trend)
    return trend


def _session_voice(group: list[EmotionAnalysis], weights: np.ndarray) -> list[float]:
    """A session's voice measures: each the speech-weighted mean of its recordings' values, over
    the recordings that have it (NaN where none has)."""
    out = []
    for key in VOICE_KEYS:
        vals = [(a.voice_values.get(key), w) for a, w in zip(group, weights, strict=True)]
        vals = [(v, w) for v, w in vals if v is not None]
        out.append(float(np.average([v for v, _ in vals], weights=[w for _, w in vals])) if vals else np.nan)
    return out


def _voice_library(group: list[EmotionAnalysis]) -> tuple[str, ...]:
    """A session's voice libraries, each once: "praat-parselmouth 0.4.7 / Praat 6.1.38"."""
    out = []
    for a in group:
        p = (a.voice or {}).get("provenance") or {}
        if p.get("library"):
            out.append(f"{p['library']} {p.get('version', '?')} / Praat {p.get('praat', '?')}")
    return tuple(dict.fromkeys(out))


def _voice_bands(trend: Trend) -> None:
    """Each voice measure's usual range from the baseline sessions (the same ones as drift)."""
    trend.voice_bands = {}
    if trend.count == 0:
        return
    for j, key in enumerate(VOICE_KEYS):
        own = trend.voice[trend.baseline, j]
        own = own[np.isfinite(own)]
        if own.size < 2:
            continue
        mean, sd = float(own.mean()), float(own.std(ddof=1))
        half = max(settings.VOICE_BAND_SD * sd, settings.VOICE_BAND_MIN_REL * abs(mean))
        # Rates, shares, durations and pitch cannot go below 0 (dB values can).
        low = mean - half if VOICE_MEASURES[key].unit == "dB" else max(0.0, mean - half)
        trend.voice_bands[key] = VoiceBand(low, mean + half, mean, int(own.size))


def _voice_flags(trend: Trend) -> list[Flag]:
    """A measure outside its band in each of the last K sessions, all on the same side (and none
    of them a baseline session): said in plain words, for review."""
    k = settings.VOICE_FLAG_SESSIONS
    if k < 1 or trend.count < k or trend.baseline[-k:].any():
        return []
    flags = []
    for key in settings.VOICE_FLAG_MEASURES:
        band = trend.voice_bands.get(key)
        if band is None or key not in VOICE_KEYS:
            continue
        m = VOICE_MEASURES[key]
        last = trend.voice[-k:, VOICE_KEYS.index(key)]
        if not np.isfinite(last).all():
            continue
        side = "above" if (last > band.high).all() else "below" if (last < band.low).all() else ""
        if not side:
            continue
        label = gettext(m.label)
        fmt = f"{{:.{m.decimals}f}}"
        params = {
            "measure": label,
            "measure_lower": label[0].lower() + label[1:],
            "k": k,
            "low": fmt.format(band.low),
            "high": fmt.format(band.high),
            "unit": m.unit,
            "sd": f"{settings.VOICE_BAND_SD:g}",
            "rel": f"{settings.VOICE_BAND_MIN_REL:.0%}",
            "values": restriction.join(fmt.format(v) for v in last),
        }
        if side == "above":
            title = gettext("%(measure)s above this patient's usual range") % params
            detail = (
                ngettext(
                    "In the last session the %(measure_lower)s was above the usual %(low)s–%(high)s %(unit)s "
                    "(baseline mean ± %(sd)s SD, at least ± %(rel)s of the mean): %(values)s %(unit)s. For "
                    "review, not a diagnosis.",
                    "In each of the last %(k)s sessions the %(measure_lower)s was above the usual "
                    "%(low)s–%(high)s %(unit)s (baseline mean ± %(sd)s SD, at least ± %(rel)s of the mean): "
                    "%(values)s %(unit)s. For review, not a diagnosis.",
                    k,
                )
                % params
            )
        else:
            title = gettext("%(measure)s below this patient's usual range") % params
            detail = (
                ngettext(
                    "In the last session the %(measure_lower)s was below the usual %(low)s–%(high)s %(unit)s "
                    "(baseline mean ± %(sd)s SD, at least ± %(rel)s of the mean): %(values)s %(unit)s. For "
                    "review, not a diagnosis.",
                    "In each of the last %(k)s sessions the %(measure_lower)s was below the usual "
                    "%(low)s–%(high)s %(unit)s (baseline mean ± %(sd)s SD, at least ± %(rel)s of the mean): "
                    "%(values)s %(unit)s. For review, not a diagnosis.",
                    k,
                )
                % params
            )
        flags.append(Flag(f"voice-{key}", title, detail, tuple(trend.numbers[-k:])))
    return flags


def _baseline_mask(trend: Trend, patient: Patient) -> tuple[np.ndarray, str]:
    mask = np.zeros(trend.count, bool)
    if patient.baseline_mode == Patient.Baseline.FIRST_N:
        n = max(1, patient.baseline_n)
        mask[:n] = True
        shown = min(n, trend.count)
        return mask, ngettext(
            "mean of the first %(n)s analysed session", "mean of the first %(n)s analysed sessions", shown
        ) % {"n": shown}
    chosen = {str(pk) for pk in patient.baseline_sessions.values_list("id", flat=True)}
    mask = np.array([sid in chosen for sid in trend.session_ids], bool)
    if not mask.any():
        mask[:1] = True
        return mask, gettext(
            "the chosen sessions have no analysis in this model variant; using the first session"
        )
    if patient.baseline_mode == Patient.Baseline.SESSION:
        return mask, gettext("session %(number)s") % {"number": trend.numbers[int(np.argmax(mask))]}
    return mask, gettext("mean of sessions %(numbers)s") % {
        "numbers": restriction.join(n for n, m in zip(trend.numbers, mask, strict=True) if m)
    }


def _drift(trend: Trend, patient: Patient) -> None:
    if trend.count == 0:
        return
    mask, note = _baseline_mask(trend, patient)
    base = trend.embeddings[mask].mean(axis=0)
    diff = trend.embeddings - base
    trend.euclidean = np.linalg.norm(diff, axis=1)
    norms = np.linalg.norm(trend.embeddings, axis=1) * max(float(np.linalg.norm(base)), 1e-12)
    trend.cosine = 1.0 - (trend.embeddings @ base) / np.maximum(norms, 1e-12)
    trend.baseline = mask
    trend.baseline_restrictions = restriction.baseline_sessions(trend.restrictions, trend.numbers, mask)
    trend.comparable = restriction.comparable(trend.restrictions, trend.baseline_restriction)
    own = trend.euclidean[mask & trend.comparable]
    if own.size >= 2:
        mean, sd = float(own.mean()), float(own.std(ddof=1))
        trend.band = (max(0.0, mean - 2 * sd), mean + 2 * sd)
    elif trend.baseline_restriction == restriction.MIXED:
        note = gettext("%(baseline)s (no band: the baseline sessions were restricted differently)") % {
            "baseline": note
        }
    else:
        note = gettext("%(baseline)s (the band needs at least two baseline sessions)") % {"baseline": note}
    trend.baseline_note = note


def _flags(trend: Trend) -> list[Flag]:
    flags: list[Flag] = []
    k = settings.FLAG_TREND_SESSIONS
    if trend.count >= k >= 2:
        distress = trend.scores[-k:, SAD] + trend.scores[-k:, FEARFUL]
        slope = float(np.polyfit(np.arange(k), distress, 1)[0])
        rise = float(distress[-1] - distress[0])
        if slope > 0 and rise >= settings.FLAG_TREND_MIN_RISE:
            flags.append(
                Flag(
                    "rising-distress",
                    gettext("Sad + fearful share rising"),
                    gettext(
                        "Over the last %(k)s sessions the combined sad and fearful share went from "
                        "%(first)s to %(last)s (threshold: a rise of %(rise)s with an upward trend)."
                    )
                    % {
                        "k": k,
                        "first": f"{distress[0]:.0%}",
                        "last": f"{distress[-1]:.0%}",
                        "rise": f"{settings.FLAG_TREND_MIN_RISE:.0%}",
                    },
                    tuple(trend.numbers[-k:]),
                )
            )
    if trend.band is not None:
        beyond = [i for i in range(trend.count) if not trend.baseline[i] and trend.beyond_band(i)]
        if beyond:
            flags.append(
                Flag(
                    "drift",
                    gettext("Voice drift beyond this patient's usual range"),
                    ngettext(
                        "%(n)s session is further from the baseline than the baseline sessions "
                        "themselves usually are (above %(high)s, the baseline mean + 2 SD).",
                        "%(n)s sessions are further from the baseline than the baseline sessions "
                        "themselves usually are (above %(high)s, the baseline mean + 2 SD).",
                        len(beyond),
                    )
                    % {"n": len(beyond), "high": f"{trend.band[1]:.3g}"},
                    tuple(trend.numbers[i] for i in beyond),
                )
            )
    flags.extend(_voice_flags(trend))
    low = [i for i in range(trend.count) if trend.speech_s[i] < settings.FLAG_MIN_SPEECH_S]
    if low:
        flags.append(
            Flag(
                "low-speech",
                gettext("Little speech analysed — less reliable"),
                ngettext(
                    "%(n)s session had under %(seconds)s s of speech analysed; its scores rest on "
                    "little evidence.",
                    "%(n)s sessions had under %(seconds)s s of speech analysed; their scores rest on "
                    "little evidence.",
                    len(low),
                )
                % {"n": len(low), "seconds": f"{settings.FLAG_MIN_SPEECH_S:.0f}"},
                tuple(trend.numbers[i] for i in low),
            )
        )
    return flags


def session_map(trend: Trend) -> np.ndarray | None:
    """2-D PCA coordinates of the session embeddings (None with fewer than 3 sessions). Plain numpy
    SVD: scikit-learn's PCA gives the same coordinates but its import alone took 0.8 s of the
    first map a web process drew. Signs are fixed (largest loading positive) so a redraw of the
    same sessions never mirrors the map."""
    if trend.count < 3:
        return None
    x = trend.embeddings.astype(np.float64)
    x = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    signs = np.sign(vt[:2, :][np.arange(2), np.argmax(np.abs(vt[:2, :]), axis=1)])
    signs[signs == 0] = 1.0
    return u[:, :2] * s[:2] * signs


def similar_sessions(trend: Trend, index: int, k: int = 3) -> list[tuple[int, float]]:
    """The k sessions nearest to session `index` by embedding (Euclidean): [(index, distance)]."""
    d = np.linalg.norm(trend.embeddings - trend.embeddings[index], axis=1)
    order = [int(i) for i in np.argsort(d) if i != index][:k]
    return [(i, float(d[i])) for i in order]
