"""Plots as SVG for the pages, cached in Redis under keys that change whenever what a plot shows
changes (new or re-run analyses, the baseline, the chosen classes, the date range, the width).
When the cache is unreachable the plot is drawn without it: a slower page, never a failed one."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from accounts.models import language_of
from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.engine.messages import render
from ser.models import EmotionAnalysis
from sessions.models import Recording

from . import plots, voice_contours, voice_panel
from .trends import Trend, patient_trend, session_map

log = logging.getLogger(__name__)

PATIENT_PLOTS = ("trajectory", "drift", "map", "voice")
ANALYSIS_PLOTS = ("timeline", "bars", "voice")
NO_VOICE = _("No voice measures for this analysis yet: an administrator can run manage.py voice_recompute.")


def _cached(key: str, render: Callable[[], bytes]) -> bytes:
    try:
        svg = cache.get(key)
    except Exception as exc:  # Redis down: draw it, say so once per request in the log
        log.warning("plot cache unavailable (%s); rendering without it", type(exc).__name__)
        return render()
    if svg is None:
        svg = render()
        try:
            cache.set(key, svg)
        except Exception as exc:
            log.warning("plot cache unavailable (%s); not stored", type(exc).__name__)
    return svg


def patient_stamp(patient: Patient, variant: str | None) -> str:
    """Changes whenever anything a patient plot depends on changes."""
    agg = EmotionAnalysis.objects.filter(
        recording__session__patient=patient, model_variant=variant
    ).aggregate(n=Count("id"), last=Max("updated_at"))
    raw = f"{patient.pk}|{variant}|{agg['n']}|{agg['last']}|{patient.updated_at.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _range_words(date_from: date | None, date_to: date | None) -> str:
    return f"{date_from or ''}~{date_to or ''}"


def trend_drift_svg(trend: Trend, **kwargs: Any) -> bytes:
    """A trend's drift plot (the dashboard's and the PDF's): distances, band, baseline sessions and
    the sessions not compared (restricted differently from the baseline)."""
    return plots.drift_svg(
        trend.dates,
        trend.euclidean,
        trend.cosine,
        band=trend.band,
        baseline=list(trend.baseline),
        comparable=list(trend.comparable),
        **kwargs,
    )


# Part of every cached plot's key: raise it when the drawing changes, so plots cached by the code
# before are not served after a deploy (3: speaker bands, drift not compared across restrictions;
# 4: the words in the page's language, which is part of every key).
PLOTS_VERSION = 4


def _language() -> str:
    """The language the plot's words are drawn in (part of its cache key)."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _patient_key(kind: str, stamp: str, classes: Sequence[str], selected: str, width: str, span: str) -> str:
    return f"plot:{PLOTS_VERSION}:{_language()}:{kind}:{stamp}:{','.join(classes)}:{selected}:{width}:{span}"


def patient_plot_svg(
    patient: Patient,
    kind: str,
    *,
    variant: str | None,
    classes: list[str],
    selected: str,
    width: str = plots.WIDE,
    date_from: date | None = None,
    date_to: date | None = None,
) -> bytes:
    key = _patient_key(
        kind, patient_stamp(patient, variant), classes, selected, width, _range_words(date_from, date_to)
    )

    def render() -> bytes:
        trend = patient_trend(patient=patient, variant=variant).within(date_from, date_to)
        empty = gettext("No analysed sessions in this date range.") if date_from or date_to else None
        return _draw(trend, kind, classes, selected, width, empty=empty)

    return _cached(key, render)


def _draw(
    trend: Trend, kind: str, classes: list[str], selected: str, width: str, *, empty: str | None = None
) -> bytes:
    narrow = width == plots.NARROW
    if trend.count == 0:
        return plots.empty_svg(empty or gettext("No analysed sessions yet."), width=4.4 if narrow else 9.0)
    note = plots.footnote(trend.is_test_model)
    if kind == "trajectory":
        return plots.trajectory_svg(
            trend.dates, trend.scores, classes=classes, dominant=trend.dominant, note=note, width=width
        )
    if kind == "drift":
        return trend_drift_svg(trend, note=note, width=width)
    if kind == "voice":
        if not trend.has_voice:
            return plots.empty_svg(
                str(voice_panel.EMPTY), width=4.4 if narrow else 9.0, height=1.8 if narrow else 1.2
            )
        return plots.voice_trend_svg(
            trend.dates,
            trend.voice,
            bands={key: (b.low, b.high) for key, b in trend.voice_bands.items()},
            baseline=list(trend.baseline),
            note=note,
            width=width,
        )
    coords = session_map(trend)
    if coords is None:
        return plots.empty_svg(
            gettext("The session map needs at least three analysed sessions."), width=4.4 if narrow else 6.0
        )
    highlight = trend.session_ids.index(selected) if selected in trend.session_ids else None
    return plots.session_map_svg(
        coords, trend.dates, [str(n) for n in trend.numbers], highlight=highlight, note=note, width=width
    )


PRERENDER_TASK = "reports.tasks.plots_prerender"


def prerender_soon(*, recording_id: Any = None, patient_id: Any = None) -> None:
    """After the current transaction commits, queue the pre-rendering of the patient's plots
    (ids only in the message). Off with PLOT_PRERENDER=0; a broker that is down costs nothing but
    a slower first view."""
    if not settings.PLOT_PRERENDER:
        return

    def send() -> None:
        pid = patient_id
        if pid is None:
            pid = (
                Recording.objects.filter(pk=recording_id)
                .values_list("session__patient_id", flat=True)
                .first()
            )
        if pid is None:
            return
        try:
            current_app.send_task(PRERENDER_TASK, args=(str(pid),))
        except Exception as exc:
            log.warning("could not queue plot pre-rendering (%s)", type(exc).__name__)

    transaction.on_commit(send)


def plots_prerender(*, patient_id: str) -> int:
    """Draw a patient's dashboard plots as the dashboard first asks for them (the variant it shows,
    every class, all sessions, no session chosen; wide and narrow; in the therapist's language, or
    the clinic's without a choice) into the cache, so the first view after a new analysis is a
    cache hit. Run by the worker after each analysis (`reports.tasks.plots_prerender`). Returns the
    number drawn; a deleted patient draws nothing."""
    patient = Patient.objects.select_related("owner").filter(pk=patient_id).first()
    if patient is None:
        return 0
    with translation.override(language_of(patient.owner) or settings.LANGUAGE_CODE):
        return _prerender(patient)


def _prerender(patient: Patient) -> int:
    trend = patient_trend(patient=patient)
    if trend.variant is None:
        return 0
    stamp = patient_stamp(patient, trend.variant)
    classes = list(EMOTIONS)
    drawn = 0
    for kind in PATIENT_PLOTS:
        for width in plots.WIDTHS:
            key = _patient_key(kind, stamp, classes, "", width, _range_words(None, None))
            try:
                if cache.get(key) is not None:
                    continue
                svg = _draw(trend, kind, classes, "", width)
                cache.set(key, svg)
            except (ConnectionError, OSError, RedisError) as exc:  # the page draws it when asked
                log.warning("plot cache unavailable (%s); not pre-rendered", type(exc).__name__)
                return drawn
            drawn += 1
    return drawn


def _analysis_key(analysis: EmotionAnalysis, kind: str, language: str | None = None) -> str:
    language = language or _language()
    return f"aplot:{PLOTS_VERSION}:{kind}:{language}:{analysis.pk}:{analysis.updated_at.isoformat()}"


def analysis_plot_svg(analysis: EmotionAnalysis, kind: str) -> bytes:
    """Within-session timeline (segments, and 20 ms frames at frame granularity, pauses shaded),
    the nine bars, or the voice contours (pitch and intensity)."""
    return _cached(_analysis_key(analysis, kind), lambda: _render_analysis(analysis, kind))


def analysis_plot_keys(analysis: EmotionAnalysis) -> list[str]:
    """Every cached drawing of the analysis: each kind in each language."""
    return [
        _analysis_key(analysis, kind, code) for kind in ANALYSIS_PLOTS for code, _name in settings.LANGUAGES
    ]


def plots_forget(keys: list[str]) -> None:
    """Drop a deleted analysis's cached drawings (a deleted or consent-withdrawn recording's scores
    must not linger in Redis). Patient-level plots are keyed by a stamp that changes with the
    analyses, so they are never served again and expire with the cache's timeout."""
    try:
        cache.delete_many(keys)
    except Exception as exc:
        log.warning(
            "plot cache unavailable (%s); deleted analysis plots expire on their own", type(exc).__name__
        )


def _render_analysis(analysis: EmotionAnalysis, kind: str) -> bytes:
    note = plots.footnote(analysis.is_test_model)
    if kind == "bars":
        return plots.bars_svg(analysis.scores, note=note)
    if kind == "voice":
        return _render_voice(analysis)
    frames = None
    if analysis.frames_file:
        with analysis.frames_file.open("rb") as f:
            track = np.load(f)
            frames = (track["times_s"], track["scores"])
    pauses = (analysis.voice or {}).get("pauses") or []
    # "Patient only (voice)": who spoke each segment ("voice A"/"voice B" until they are named).
    who = (analysis.speakers or {}).get("segments")
    speakers = [row[0] or f"voice {row[1]}" for row in who] if who else None  # keys of plots.SPEAKER_WORDS
    return plots.timeline_svg(
        analysis.segments, analysis.duration_s, frames=frames, pauses=pauses, note=note, speakers=speakers
    )


def _note_words(voice: dict[str, Any]) -> str:
    """The first note about the recording, in the active language (its stored message when the
    analysis has one; the English note otherwise, translated where the catalogue has it)."""
    stored = voice.get("note_messages") or []
    if stored and isinstance(stored[0], dict) and stored[0].get("msgid"):
        return render(stored[0], gettext)
    return gettext(str(voice["notes"][0]))


def _render_voice(analysis: EmotionAnalysis) -> bytes:
    voice = analysis.voice or {}
    if not voice or not analysis.voice_file:
        # Measures stored without contours are measures that could not be computed: say why.
        notes = voice.get("notes") or []
        if voice and notes:
            message = gettext("No voice contours for this analysis: %(reason)s") % {
                "reason": _note_words(voice)
            }
        else:
            message = str(NO_VOICE)
        return plots.empty_svg(message)
    with analysis.voice_file.open("rb") as f:
        track = np.load(f)
        times, f0, db = track["times_s"], track["f0_hz"], track["intensity_db"]
    prov = voice.get("provenance") or {}
    return voice_contours.voice_svg(
        times,
        f0,
        db,
        analysis.duration_s,
        pauses=voice.get("pauses") or [],
        pitch_range=(float(prov.get("pitch_floor_hz", 75.0)), float(prov.get("pitch_ceiling_hz", 500.0))),
        # The disclaimer alone: Praat measured these, so the test checkpoint's warning about
        # meaningless emotion scores does not apply to them.
        note=plots.footnote(False)
        + " "
        + gettext(
            "Intensity is Praat dB, not a calibrated sound level: compare it within one patient and one "
            "recording set-up."
        ),
    )
