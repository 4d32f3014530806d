"""The session page's voice plot: pitch (F0) and intensity over the recording, on the same time
axis as the emotion timeline, with the pauses between speech shaded. Drawn from an analysis's
voice.npz (contours every 10 ms of analysed speech) with matplotlib's Figure API, as `plots` does;
an hour's recording is thinned to a few thousand points per line first, so the drawing stays
legible and the SVG small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.utils.functional import Promise
from django.utils.translation import gettext
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import plots

F0_COLOUR = "#0072B2"
INTENSITY_COLOUR = "#009E73"
CONTOUR_GAP_S = 0.05  # contour frames are 10 ms apart within a segment; a wider step is between them
MAX_POINTS = 3000  # per line; above it the contour is drawn as medians of equal time bins
BINS = 1500  # about two bins per horizontal pixel of the plot area


def _broken(times: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """The contour with a NaN wherever consecutive frames are more than CONTOUR_GAP_S apart, so a
    line breaks between segments instead of being drawn straight across a silence."""
    gaps = np.flatnonzero(np.diff(times) > CONTOUR_GAP_S) + 1
    if gaps.size == 0:
        return (times, *values)
    return (np.insert(times, gaps, np.nan), *(np.insert(v, gaps, np.nan) for v in values))


def thin(times: np.ndarray, *values: np.ndarray, span_s: float, bins: int = BINS) -> tuple[np.ndarray, ...]:
    """At most MAX_POINTS frames: as they are (lines broken between segments), or the median of
    each of `bins` equal slices of [0, span_s] (NaNs ignored; a slice with no value is NaN, so
    the line still breaks at longer silences and unvoiced stretches)."""
    times = np.asarray(times, dtype=float)
    values = tuple(np.asarray(v, dtype=float) for v in values)
    if times.size <= MAX_POINTS:
        return _broken(times, *values)
    width = max(span_s, float(times.max(initial=0.0))) / bins
    slot = np.minimum((times / width).astype(int), bins - 1)
    order = np.argsort(slot, kind="stable")
    starts = np.searchsorted(slot[order], np.arange(bins + 1))
    centres = (np.arange(bins) + 0.5) * width
    out = []
    for v in values:
        sorted_v = v[order]
        med = np.full(bins, np.nan)
        for i in range(bins):
            chunk = sorted_v[starts[i] : starts[i + 1]]
            chunk = chunk[np.isfinite(chunk)]
            if chunk.size:
                med[i] = np.median(chunk)
        out.append(med)
    return (centres, *out)


def _limits(values: np.ndarray, lo: float, hi: float, *, floor: float, ceiling: float) -> tuple[float, float]:
    """The y range: the values' `lo`–`hi` percentiles with a margin, kept within [floor, ceiling]
    (an octave jump or a click must not squash the rest of the contour)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return floor, ceiling
    a, b = np.percentile(finite, [lo, hi])
    pad = max(0.1 * (b - a), 1.0)
    return max(floor, float(a - pad)), min(ceiling, float(b + pad))


def voice_figure(
    times_s: np.ndarray,
    f0_hz: np.ndarray,
    intensity_db: np.ndarray,
    duration_s: float,
    *,
    pauses: Sequence[Sequence[float]] = (),
    pitch_range: tuple[float, float] = (75.0, 500.0),
    note: str | Promise = plots.FOOTNOTE,
) -> Figure:
    fig = plots._figure(9.0, 4.4)
    top, bottom = fig.subplots(2, 1, sharex=True)
    span = max(float(duration_s), 1.0)
    t, f0, db = thin(times_s, f0_hz, intensity_db, span_s=span)
    for ax in (top, bottom):
        if len(pauses):
            plots.pause_spans(ax, pauses)
        ax.grid(alpha=0.3)
    top.plot(t, f0, color=F0_COLOUR, linewidth=0.9)
    top.set_ylim(*_limits(f0, 1, 99, floor=pitch_range[0] * 0.9, ceiling=pitch_range[1] * 1.05))
    top.set_ylabel(gettext("pitch F0 (Hz)"))
    if not np.isfinite(f0).any():
        top.text(0.5, 0.5, gettext("no voiced speech"), transform=top.transAxes, ha="center", color="#52606d")
    bottom.plot(t, db, color=INTENSITY_COLOUR, linewidth=0.9)
    bottom.set_ylim(*_limits(db, 1, 99.5, floor=-50.0, ceiling=140.0))
    bottom.set_ylabel(gettext("intensity (dB)"))
    bottom.set_xlim(0, span)
    bottom.set_xlabel(gettext("time in the recording (s); lines break at silence and unvoiced speech"))
    handles: list[Any] = [
        Line2D([], [], color=F0_COLOUR, label=gettext("pitch (F0)")),
        Line2D([], [], color=INTENSITY_COLOUR, label=gettext("intensity")),
    ]
    if len(pauses):
        handles.append(plots.pause_handle())
    top.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False
    ).set_gid("legend")
    plots._note(fig, note)
    return fig


def voice_svg(
    times_s: np.ndarray, f0_hz: np.ndarray, intensity_db: np.ndarray, duration_s: float, **kwargs: Any
) -> bytes:
    """Pitch and intensity contours over the recording, pauses shaded."""
    return plots._svg(voice_figure(times_s, f0_hz, intensity_db, duration_s, **kwargs))
