"""Plots as SVG for the pages, cached in Redis under keys that change whenever what a plot shows
changes (new or re-run analyses, the baseline, the chosen classes). When the cache is unreachable
the plot is drawn without it: a slower page, never a failed one."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max

from patients.models import Patient
from ser.models import EmotionAnalysis

from . import plots
from .trends import patient_trend, session_map

log = logging.getLogger(__name__)

PATIENT_PLOTS = ("trajectory", "drift", "map")
ANALYSIS_PLOTS = ("timeline", "bars")


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


def patient_plot_svg(
    patient: Patient, kind: str, *, variant: str | None, classes: list[str], selected: str
) -> bytes:
    key = f"plot:{kind}:{patient_stamp(patient, variant)}:{','.join(classes)}:{selected}"
    return _cached(key, lambda: _render_patient(patient, kind, variant, classes, selected))


def _render_patient(
    patient: Patient, kind: str, variant: str | None, classes: list[str], selected: str
) -> bytes:
    trend = patient_trend(patient=patient, variant=variant)
    if trend.count == 0:
        return plots.empty_svg("No analysed sessions yet.")
    note = plots.footnote(trend.is_test_model)
    if kind == "trajectory":
        return plots.trajectory_svg(
            trend.dates, trend.scores, classes=classes, dominant=trend.dominant, note=note
        )
    if kind == "drift":
        return plots.drift_svg(
            trend.dates,
            trend.euclidean,
            trend.cosine,
            band=trend.band,
            baseline=list(trend.baseline),
            note=note,
        )
    coords = session_map(trend)
    if coords is None:
        return plots.empty_svg("The session map needs at least three analysed sessions.", width=6.0)
    highlight = trend.session_ids.index(selected) if selected in trend.session_ids else None
    return plots.session_map_svg(
        coords, trend.dates, [str(n) for n in trend.numbers], highlight=highlight, note=note
    )


def _analysis_key(analysis: EmotionAnalysis, kind: str) -> str:
    return f"aplot:{kind}:{analysis.pk}:{analysis.updated_at.isoformat()}"


def analysis_plot_svg(analysis: EmotionAnalysis, kind: str) -> bytes:
    """Within-session timeline (segments, and 20 ms frames at frame granularity) or the nine bars."""
    return _cached(_analysis_key(analysis, kind), lambda: _render_analysis(analysis, kind))


def analysis_plot_keys(analysis: EmotionAnalysis) -> list[str]:
    return [_analysis_key(analysis, kind) for kind in ANALYSIS_PLOTS]


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
    frames = None
    if analysis.frames_file:
        with analysis.frames_file.open("rb") as f:
            track = np.load(f)
            frames = (track["times_s"], track["scores"])
    return plots.timeline_svg(analysis.segments, analysis.duration_s, frames=frames, note=note)
