"""Plots as SVG bytes, drawn with matplotlib's Figure API (no pyplot: it keeps global state that
leaks in servers). One colour-blind-safe palette (Okabe–Ito) for the nine classes, used everywhere.
Each patient plot has a `*_figure` builder (tests measure its layout) and an `*_svg` wrapper, and a
narrow variant for phones. matplotlib is imported with this module, i.e. when the web process
starts, not on the first plot a clinician asks for."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import matplotlib
import numpy as np
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.dates import MONTHLY
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from ser.emotions import emotion_name, emotion_names
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_SHORT
from ser.engine.voice import BY_KEY as VOICE_MEASURES
from ser.engine.voice import MEASURE_KEYS as VOICE_KEYS

from . import fonts

# Every plot's words are in the page's language: matplotlib's own sans-serif first, then Noto Sans
# CJK SC for the Chinese glyphs it lacks (matplotlib falls back glyph by glyph along this list). The
# text is written into the SVG as paths, so the browser and the PDF need no fonts of their own.
matplotlib.rcParams["font.family"] = fonts.matplotlib_families()

# Okabe & Ito's colour-blind-safe palette; neutral grey, unknown black.
PALETTE: dict[str, str] = {
    "angry": "#D55E00",
    "disgusted": "#009E73",
    "fearful": "#CC79A7",
    "happy": "#E69F00",
    "neutral": "#999999",
    "other": "#56B4E9",
    "sad": "#0072B2",
    "surprised": "#F0E442",
    "unknown": "#000000",
}
MARKERS = dict(zip(EMOTIONS, "os^Dv<>Px", strict=True))  # shapes too, for print and colour blindness
FOOTNOTE: Promise = _(DISCLAIMER)  # the default note: the disclaimer, in the active language


def footnote(is_test_model: bool) -> str:
    """The line under every plot: the disclaimer, led by the test-checkpoint warning when it applies
    (in the active language)."""
    return f"{gettext(TEST_MODEL_SHORT)} {gettext(DISCLAIMER)}" if is_test_model else gettext(DISCLAIMER)


# Phones: a narrow drawing (legend below, fewer date ticks) that the page's <picture> picks.
WIDE, NARROW = "wide", "narrow"
WIDTHS = (WIDE, NARROW)
NOTE_PT = 7.0
LABEL_PT = 7.0


def _figure(width: float = 9.0, height: float = 3.6) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)  # a renderer to measure text with (labels that must not overlap)
    fig.set_layout_engine("constrained")
    return fig


_CLIP_ID = re.compile(rb'(?<=url\(#)p[0-9a-f]{10}(?=\))|(?<=<clipPath id=")p[0-9a-f]{10}(?=")')


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No date and a fixed id salt: the same data always draws the same bytes. Clip paths that are
    # not rectangles (the voice bands' spans) are named by matplotlib from the path's memory
    # address, so they are renamed in order of first use.
    with matplotlib.rc_context({"svg.hashsalt": "clinic"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    names: dict[bytes, bytes] = {}
    return _CLIP_ID.sub(lambda m: names.setdefault(m.group(0), b"clip%d" % len(names)), buf.getvalue())


def _note(fig: Figure, text: str | Promise, *, legend_below: Legend | None = None) -> None:
    """The footnote (disclaimer, test-checkpoint warning) in a strip of its own at the bottom, and
    on phone drawings the legend just above it. Constrained layout ignores fig.text and figure
    legends, so both are kept out of the layout's rectangle; the heights are measured (points,
    not a share of the figure) and the note wrapped to the figure's width, so neither ever
    reaches the axis labels whatever the figure's size."""
    width_in, height_in = fig.get_size_inches()
    text = str(text)
    chars = max(20, int(width_in * 72 / (NOTE_PT * 0.55)))  # 0.55 em: a generous average glyph width
    if _wide_glyphs(text):
        chars = max(10, int(chars * 0.55))  # a CJK glyph is a full em wide
    wrapped = "\n".join(textwrap.wrap(text, chars)) or " "
    lines = wrapped.count("\n") + 1
    strip = (lines * NOTE_PT * 1.25 + 6) / 72 / height_in
    bottom = strip
    if legend_below is not None:
        legend_below.set_bbox_to_anchor((0.5, strip), transform=fig.transFigure)
        height = legend_below.get_window_extent(fig.canvas.get_renderer()).height  # type: ignore[attr-defined]
        bottom += (height + 4) / fig.dpi / height_in
    fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))  # type: ignore[union-attr,call-arg]
    fig.text(
        0.995, 2 / 72 / height_in, wrapped, ha="right", va="bottom", fontsize=NOTE_PT, color="#52606d"
    ).set_gid("footnote")


def _wide_glyphs(text: str) -> bool:
    """Whether `text` is mostly full-width (CJK) glyphs, which wrap at about half the characters."""
    wide = sum(1 for c in text if "\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    return wide * 3 > len(text)


def _phone_legend(fig: Figure, ax: Axes, ncol: int) -> Legend:
    """The legend of a phone drawing: under the plot, across the width (placed by `_note`)."""
    handles, labels = ax.get_legend_handles_labels()
    legend = fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    legend.set_gid("legend")
    return legend


def _dates(ax: Axes, *, max_ticks: int) -> None:
    """Date ticks that cannot crowd: at most `max_ticks`, short concise labels, no rotation."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=2, maxticks=max_ticks)
    ax.xaxis.set_major_locator(locator)
    if (translation.get_language() or "").startswith("zh"):
        # 2026年, 3月, 5日 rather than English month names.
        formatter = ConciseDateFormatter(
            locator,
            formats=["%Y年", "%-m月", "%-d日", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y年", "%-m月", "%-m月%-d日", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y年", "%Y年%-m月", "%Y年%-m月%-d日", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
        )
    else:
        formatter = ConciseDateFormatter(locator)
    ax.xaxis.set_major_formatter(formatter)


def _class_handles(names: Sequence[str]) -> list[Line2D]:
    return [
        Line2D([], [], color=PALETTE[n], marker=MARKERS[n], linestyle="", markersize=5, label=emotion_name(n))
        for n in names
    ]


def empty_svg(message: str, *, width: float = 9.0, height: float = 1.2) -> bytes:
    fig = _figure(width, height)
    fig.text(0.5, 0.5, str(message), ha="center", va="center", fontsize=11, color="#52606d", wrap=True)
    return _svg(fig)


def trajectory_figure(
    dates: Sequence[datetime],
    scores: np.ndarray,
    *,
    classes: Sequence[str] = EMOTIONS,
    dominant: Sequence[str] | None = None,
    title: str = "",
    note: str | Promise = FOOTNOTE,
    width: str = WIDE,
) -> Figure:
    narrow = width == NARROW
    fig = _figure(*((4.4, 5.0) if narrow else (9.0, 4.1)))
    if dominant is not None:
        strip, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 11])
        present = [e for e in EMOTIONS if e in set(dominant)]
        for name in present:  # one collection per class, not one per session
            when = [d for d, dom in zip(dates, dominant, strict=True) if dom == name]
            strip.scatter(when, [0] * len(when), color=PALETTE[name], marker=MARKERS[name], s=34)
        strip.set_yticks([0], [pgettext("plot", "dominant")], fontsize=8)
        strip.tick_params(axis="x", bottom=False, labelbottom=False)
        for side in ("top", "right", "bottom", "left"):
            strip.spines[side].set_visible(False)
        # The strip's own key: its markers are the dominant class of each session, which need not
        # be among the classes ticked for the lines below.
        strip.legend(
            handles=_class_handles(present),
            title=gettext("dominant emotion of each session"),
            title_fontsize=7,
            fontsize=7,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.05),
            ncol=min(len(present), 3 if narrow else 9),
            frameon=False,
            handletextpad=0.2,
            columnspacing=0.9,
            alignment="left",
            borderaxespad=0.0,
        ).set_gid("dominant-legend")
    else:
        ax = fig.add_subplot()
    for name in classes:
        i = EMOTIONS.index(name)
        ax.plot(
            list(dates),
            scores[:, i],
            color=PALETTE[name],
            marker=MARKERS[name],
            markevery=max(1, len(dates) // 30),  # shapes stay readable; 200 × 9 markers do not
            markersize=4,
            linewidth=1.6,
            label=emotion_name(name),
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel(gettext("probability"))
    ax.grid(alpha=0.3)
    _dates(ax, max_ticks=4 if narrow else 8)
    below = _phone_legend(fig, ax, 3) if narrow else None
    if not narrow:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False).set_gid("legend")
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    _note(fig, note, legend_below=below)
    return fig


def trajectory_svg(dates: Sequence[datetime], scores: np.ndarray, **kwargs: Any) -> bytes:
    """The nine class probabilities per session over time (session dates on the x axis), with each
    session's dominant emotion as a coloured marker in a strip above the plot."""
    return _svg(trajectory_figure(dates, scores, **kwargs))


def drift_figure(
    dates: Sequence[datetime],
    euclidean: np.ndarray,
    cosine: np.ndarray,
    *,
    band: tuple[float, float] | None,
    baseline: Sequence[bool],
    comparable: Sequence[bool] | None = None,
    title: str = "",
    note: str | Promise = FOOTNOTE,
    width: str = WIDE,
) -> Figure:
    """`comparable`: per session, restricted the way the baseline is (reports.restrictions); the
    others are drawn hollow and are never "beyond the band"."""
    narrow = width == NARROW
    same = [True] * len(dates) if comparable is None else [bool(c) for c in comparable]
    if narrow:
        fig = _figure(4.4, 6.2)
        ax1, ax2 = fig.subplots(2, 1, height_ratios=[3, 2])
    else:
        fig = _figure(9.0, 4.2)
        ax1, ax2 = fig.subplots(1, 2, width_ratios=[3, 2])
    x = list(dates)
    if band is not None:
        ax1.axhspan(
            band[0],
            band[1],
            color="#0072B2",
            alpha=0.12,
            label=gettext("usual for this patient (mean ± 2 SD)"),
        )
    ax1.plot(
        x,
        euclidean,
        color="#0072B2",
        marker="o",
        markersize=4,
        linewidth=1.6,
        label=gettext("Euclidean distance"),
    )
    base_x = [d for d, b in zip(x, baseline, strict=True) if b]
    base_y = [v for v, b in zip(euclidean, baseline, strict=True) if b]
    ax1.scatter(
        base_x,
        base_y,
        s=70,
        facecolors="none",
        edgecolors="#000000",
        label=pgettext("plot", "baseline session"),
        zorder=3,
    )
    if band is not None:
        out = [(d, v) for d, v, c in zip(x, euclidean, same, strict=True) if c and v > band[1]]
        out_x, out_y = [d for d, _ in out], [v for _, v in out]
        ax1.scatter(
            out_x, out_y, s=60, marker="^", color="#D55E00", label=gettext("beyond the band"), zorder=4
        )
    if not all(same):
        # Hollow: the point is drawn, its drift is not compared (whose speech it rests on differs).
        apart = [i for i, c in enumerate(same) if not c]
        for ax, values, colour in ((ax1, euclidean, "#0072B2"), (ax2, cosine, "#009E73")):
            ax.scatter(
                [x[i] for i in apart],
                [values[i] for i in apart],
                s=30,
                facecolors="white",
                edgecolors=colour,
                linewidths=1.4,
                zorder=5,
                label=gettext("restricted differently from baseline") if ax is ax1 else None,
            )
    ax1.set_ylabel(gettext("distance from baseline"))
    ax1.grid(alpha=0.3)
    below = _phone_legend(fig, ax1, 2) if narrow else None
    if not narrow:
        ax1.legend(fontsize=7, loc="upper left", frameon=False).set_gid("legend")
    ax2.plot(x, cosine, color="#009E73", marker="s", markersize=4, linewidth=1.4)
    ax2.set_ylabel(gettext("cosine distance"))
    ax2.grid(alpha=0.3)
    # The cosine panel is the narrow one: fewer dates there, or 200 sessions' labels run together.
    _dates(ax1, max_ticks=4 if narrow else 7)
    _dates(ax2, max_ticks=4)
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    _note(fig, note, legend_below=below)
    return fig


def drift_svg(dates: Sequence[datetime], euclidean: np.ndarray, cosine: np.ndarray, **kwargs: Any) -> bytes:
    """Euclidean drift from the baseline embedding with the patient's own band, cosine beside it."""
    return _svg(drift_figure(dates, euclidean, cosine, **kwargs))


VOICE_COLOUR, BEYOND_COLOUR = "#0072B2", "#D55E00"
LOUDNESS_NOTE: Promise = _(
    "Loudness in dB as Praat measures it, not calibrated: compare within this patient and set-up."
)


def _voice_cells(groups: Sequence[str], cols: int) -> list[tuple[int, int]]:
    """Each small panel's (row, column): a group of measures (pitch, loudness, …) starts a new row
    when it does not fit in what is left of the current one, so a row reads as one topic; in plain
    order instead when that would cost a row (phones: two columns, no gaps)."""
    cells: list[tuple[int, int]] = []
    row = col = 0
    for i, group in enumerate(groups):
        if i and group != groups[i - 1]:
            size = next((j for j in range(i, len(groups)) if groups[j] != group), len(groups)) - i
            if col and col + size > cols:
                row, col = row + 1, 0
        if col == cols:
            row, col = row + 1, 0
        cells.append((row, col))
        col += 1
    plain = -(-len(groups) // cols)
    if cells and cells[-1][0] + 1 > plain:
        return [divmod(i, cols) for i in range(len(groups))]
    return cells


def _voice_panel(
    ax: Axes,
    x: list[Any],  # session dates
    y: np.ndarray,
    band: tuple[float, float] | None,
    baseline: np.ndarray,
) -> None:
    """One measure across sessions: the band (shaded, edges dashed), the values (NaN breaks the
    line), baseline sessions ringed, sessions outside the band as triangles pointing the way out."""
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    finite = np.isfinite(y)
    if not finite.any():
        ax.text(
            0.5,
            0.5,
            gettext("no data"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color="#52606d",
        )
        ax.tick_params(axis="y", left=False, labelleft=False)
        ax.grid(False)
        return
    if band is not None:
        ax.axhspan(band[0], band[1], color=VOICE_COLOUR, alpha=0.12, linewidth=0)
        for edge in band:
            ax.axhline(edge, color=VOICE_COLOUR, linestyle="--", linewidth=0.7, alpha=0.7)
    many = len(x) > 60  # 200 sessions in a 2-inch panel: thinner, or the line is a solid block
    ax.plot(
        x, y, color=VOICE_COLOUR, marker="o", markersize=1.2 if many else 2.5, linewidth=0.8 if many else 1.2
    )

    def pick(mask: np.ndarray) -> tuple[list[Any], np.ndarray]:
        return [d for d, m in zip(x, mask, strict=True) if m], y[mask]

    ax.scatter(
        *pick(baseline & finite), s=36, facecolors="none", edgecolors="#000000", linewidths=0.9, zorder=3
    )
    if band is not None:
        with np.errstate(invalid="ignore"):
            above, below = ~baseline & (y > band[1]), ~baseline & (y < band[0])
        ax.scatter(*pick(above), s=30, marker="^", color=BEYOND_COLOUR, zorder=4)
        ax.scatter(*pick(below), s=30, marker="v", color=BEYOND_COLOUR, zorder=4)


def voice_trend_figure(
    dates: Sequence[datetime],
    voice: np.ndarray,
    *,
    bands: dict[str, tuple[float, float]],
    baseline: Sequence[bool],
    keys: Sequence[str] = VOICE_KEYS,
    note: str | Promise = FOOTNOTE,
    width: str = WIDE,
) -> Figure:
    narrow = width == NARROW
    cols = 2 if narrow else 4
    measures = [VOICE_MEASURES[k] for k in keys]
    cells = _voice_cells([m.group for m in measures], cols)
    rows = max(r for r, _ in cells) + 1
    fig = _figure(4.4 if narrow else 9.0, rows * (1.55 if narrow else 1.6) + 1.2)
    grid = fig.add_gridspec(rows, cols)
    x = list(dates)
    values = np.asarray(voice, dtype=float).reshape(len(x), len(keys))
    base = np.asarray(baseline, dtype=bool)
    taken = set(cells)
    first: Axes | None = None
    for j, (m, (r, c)) in enumerate(zip(measures, cells, strict=True)):
        ax = fig.add_subplot(grid[r, c], sharex=first)
        if first is None:
            first = ax
            _dates(ax, max_ticks=4)
            # A year between ticks too: with 4 ticks over ~1.5 years the default steps (at most 6
            # months) all give too many, and matplotlib warns and crowds the small panel.
            ax.xaxis.get_major_locator().intervald[MONTHLY] = [1, 2, 3, 4, 6, 12]  # type: ignore[attr-defined]
        ax.set_title(f"{gettext(m.label)} ({m.unit})", fontsize=8, loc="left")
        ax.set_gid(f"voice-{m.key}")
        _voice_panel(ax, x, values[:, j], bands.get(m.key), base)
        # Dates under the lowest panel of each column only: the panels share their time axis.
        ax.tick_params(axis="x", labelbottom=(r + 1, c) not in taken)
        ax.xaxis.get_offset_text().set_fontsize(7)  # the year under the dates, no larger than they are
    handles = [
        Line2D(
            [],
            [],
            color=VOICE_COLOUR,
            marker="o",
            markersize=3,
            linewidth=1.2,
            label=pgettext("plot", "session"),
        ),
        Patch(
            facecolor=VOICE_COLOUR,
            alpha=0.25,
            edgecolor=VOICE_COLOUR,
            linestyle="--",
            label=gettext("usual range"),
        ),
        Line2D(
            [],
            [],
            marker="o",
            markersize=6,
            markerfacecolor="none",
            markeredgecolor="#000000",
            linestyle="",
            label=pgettext("plot", "baseline session"),
        ),
        Line2D(
            [],
            [],
            marker="^",
            markersize=5,
            color=BEYOND_COLOUR,
            linestyle="",
            label=gettext("above the range"),
        ),
        Line2D(
            [],
            [],
            marker="v",
            markersize=5,
            color=BEYOND_COLOUR,
            linestyle="",
            label=gettext("below the range"),
        ),
    ]
    legend = fig.legend(
        handles=handles, loc="lower center", ncol=3 if narrow else 5, fontsize=7, frameon=False
    )
    legend.set_gid("legend")
    if any(m.group == "loudness" and m.unit == "dB" for m in measures):
        note = f"{LOUDNESS_NOTE} {note}"
    _note(fig, note, legend_below=legend)
    return fig


def voice_trend_svg(dates: Sequence[datetime], voice: np.ndarray, **kwargs: Any) -> bytes:
    """Small multiples of the voice measures across sessions, each with the patient's usual range
    from the baseline sessions; gaps where a session has no value, "no data" where none has."""
    return _svg(voice_trend_figure(dates, voice, **kwargs))


def session_map_figure(
    coords: np.ndarray,
    dates: Sequence[datetime],
    labels: Sequence[str],
    *,
    highlight: int | None = None,
    note: str | Promise = FOOTNOTE,
    width: str = WIDE,
) -> Figure:
    fig = _figure(*((4.4, 4.4) if width == NARROW else (6.0, 4.6)))
    ax = fig.add_subplot()
    t = np.array([d.timestamp() for d in dates])
    norm = Normalize(t.min(), t.max() if t.max() > t.min() else t.min() + 1)
    cmap = colormaps["cividis"]
    ax.scatter(
        coords[:, 0], coords[:, 1], c=t, cmap=cmap, norm=norm, s=46, edgecolors="#1f2933", linewidths=0.5
    )
    ax.plot(coords[:, 0], coords[:, 1], color="#9aa5b1", linewidth=0.6, zorder=0)
    if highlight is not None:
        ax.scatter(
            coords[highlight, 0],
            coords[highlight, 1],
            s=160,
            facecolors="none",
            edgecolors="#D55E00",
            linewidths=2,
        )
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.05)
    ticks = np.linspace(t.min(), t.max(), 3)
    bar.set_ticks(list(ticks))
    bar.set_ticklabels(
        [date_format(datetime.fromtimestamp(v), "SHORT_DATE_FORMAT") for v in ticks], fontsize=7
    )
    ax.set_xlabel(gettext("PC 1"))
    ax.set_ylabel(gettext("PC 2"))
    ax.grid(alpha=0.3)
    _note(fig, note)
    _point_labels(fig, ax, coords, labels, first=highlight)
    return fig


def _point_labels(
    fig: Figure, ax: Axes, coords: np.ndarray, labels: Sequence[str], *, first: int | None
) -> None:
    """Label the points, skipping any label that would overlap one already placed (the chosen
    session first, then the latest and the first, then in order). The layout is settled first and
    then frozen, so the boxes measured here are where the labels are drawn; only kept labels
    become artists (measuring 200 Text artists cost more than drawing the whole map)."""
    ax.get_xlim()  # settle the data limits the layout and the transform depend on
    fig.get_layout_engine().execute(fig)  # type: ignore[union-attr]
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # FigureCanvasAgg's
    font = FontProperties(size=LABEL_PT)
    offset = 3 * fig.dpi / 72
    at = ax.transData.transform(coords)
    n = len(labels)
    order = list(dict.fromkeys([i for i in (first, n - 1, 0) if i is not None] + list(range(n))))
    placed: list[Bbox] = []
    for i in order:
        width, height, descent = renderer.get_text_width_height_descent(labels[i], font, ismath=False)
        x, y = at[i] + offset  # the text's baseline starts here
        box = Bbox.from_bounds(x, y - descent, width, height).padded(2.0)
        if any(box.overlaps(other) for other in placed):
            continue
        placed.append(box)
        ax.annotate(
            labels[i], tuple(coords[i]), xytext=(3, 3), textcoords="offset points", fontsize=LABEL_PT
        ).set_gid("point-label")


def session_map_svg(
    coords: np.ndarray, dates: Sequence[datetime], labels: Sequence[str], **kwargs: Any
) -> bytes:
    """Sessions in 2-D (PCA of embeddings), coloured by date."""
    return _svg(session_map_figure(coords, dates, labels, **kwargs))


FRAME_GAP_S = 0.1  # frames are 20 ms apart within speech; a wider step is silence or the other speaker


def frame_lines(times: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame track with a NaN row wherever consecutive frames are more than FRAME_GAP_S apart,
    so each line breaks at a silence instead of being drawn straight across it."""
    times = np.asarray(times, dtype=float)
    probs = np.asarray(probs, dtype=float).reshape(len(times), -1)
    gaps = np.flatnonzero(np.diff(times) > FRAME_GAP_S) + 1
    if gaps.size == 0:
        return times, probs
    return np.insert(times, gaps, np.nan), np.insert(probs, gaps, np.nan, axis=0)


PAUSE_COLOUR = "#d5dae0"  # far lighter than the neutral class's grey, and only where no segment is


def pause_spans(ax: Axes, pauses: Sequence[Sequence[float]]) -> None:
    """The pauses ((start_s, end_s) each) as light grey spans the full height of `ax`, behind
    everything, in one collection (an hour's recording has hundreds of pauses)."""
    boxes = [[(a, 0.0), (a, 1.0), (b, 1.0), (b, 0.0)] for a, b in pauses]
    spans = PolyCollection(
        boxes,
        transform=ax.get_xaxis_transform(),  # x in seconds, y the axes' full height
        facecolor=PAUSE_COLOUR,
        edgecolor=PAUSE_COLOUR,
        linewidth=0.4,  # a hairline still shows a short pause on an hour-long axis
        alpha=0.6,
        zorder=0,
    )
    spans.set_gid("pauses")
    ax.add_collection(spans, autolim=False)


def pause_handle() -> Patch:
    return Patch(facecolor=PAUSE_COLOUR, edgecolor="#9aa5b1", alpha=0.6, label=gettext("pause"))


# Who spoke each segment ("patient only (voice)"): a band of its own above the scores, so its
# colours never read as emotions; the two voices before the therapist says which is theirs.
SPEAKER_COLOURS: dict[str, tuple[str, str]] = {  # label → (colour, hatch)
    "patient": ("#332288", ""),
    "therapist": ("#c8c8c8", "//"),
    "uncertain": ("#ffffff", ".."),
    "voice A": ("#332288", ""),
    "voice B": ("#88ccee", "\\\\"),
}
SPEAKER_WORDS: dict[str, Promise] = {  # label → as the legend says it
    "patient": pgettext_lazy("speaker", "patient"),
    "therapist": pgettext_lazy("speaker", "therapist"),
    "uncertain": pgettext_lazy("speaker", "uncertain"),
    "voice A": pgettext_lazy("speaker", "voice A"),
    "voice B": pgettext_lazy("speaker", "voice B"),
}


def speaker_band(ax: Axes, segments: Sequence[Sequence[float]], speakers: Sequence[str]) -> None:
    """Each segment's speaker as a coloured span on a thin axis of its own, with its legend."""
    for label, (colour, hatch) in SPEAKER_COLOURS.items():
        spans = [
            (float(r[0]), float(r[1]) - float(r[0]))
            for r, who in zip(segments, speakers, strict=True)
            if who == label
        ]
        if spans:
            ax.broken_barh(
                spans,
                (0, 1),
                facecolors=colour,
                edgecolor="#52606d",
                linewidth=0.3,
                hatch=hatch,
                label=str(SPEAKER_WORDS.get(label, label)),
            )
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel(gettext("speaker"), rotation=0, ha="right", va="center", fontsize=7)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.4), fontsize=7, frameon=False, ncol=1)


def timeline_figure(
    segments: Sequence[Sequence[float]],
    duration_s: float,
    *,
    frames: tuple[np.ndarray, np.ndarray] | None = None,
    pauses: Sequence[Sequence[float]] = (),
    note: str | Promise = FOOTNOTE,
    speakers: Sequence[str] | None = None,
) -> Figure:
    fig = _figure(9.0, (3.8 if frames is None else 5.2) + (0.5 if speakers is not None else 0.0))
    n = 2 if frames is not None else 1
    if speakers is not None and len(speakers) == len(segments):
        grid = fig.subplots(n + 1, 1, sharex=True, squeeze=False, height_ratios=[0.12, *[1.0] * n])[:, 0]
        speaker_band(grid[0], segments, speakers)
        axes = grid[1:]
    else:
        axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    if len(segments):
        rows = np.asarray(segments, dtype=float)
        starts, widths, seg_probs = rows[:, 0], rows[:, 1] - rows[:, 0], rows[:, 2:]
        bottom = np.zeros(len(rows))
        for i, name in enumerate(EMOTIONS):  # one call per class, not one per segment and class
            ax.bar(
                starts,
                seg_probs[:, i],
                width=widths,
                bottom=bottom,
                align="edge",
                color=PALETTE[name],
                edgecolor="none",
            )
            bottom = bottom + seg_probs[:, i]
    ax.set_xlim(0, max(duration_s, 1.0))
    ax.set_ylim(0, 1)
    ax.set_ylabel(gettext("segment scores"))
    handles = [Patch(color=PALETTE[e], label=emotion_name(e)) for e in EMOTIONS]
    if len(pauses):
        for a in axes:
            pause_spans(a, pauses)
        handles.append(pause_handle())
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    if frames is not None:
        times, probs = frame_lines(*frames)
        fx = axes[1]
        for i, name in enumerate(EMOTIONS):
            fx.plot(times, probs[:, i], color=PALETTE[name], linewidth=0.8)
        fx.set_ylim(0, 1)
        fx.set_ylabel(gettext("frame scores (20 ms)"))
    axes[-1].set_xlabel(gettext("time in the recording (s); gaps are silence or the other speaker"))
    _note(fig, note)
    return fig


def timeline_svg(segments: Sequence[Sequence[float]], duration_s: float, **kwargs: Any) -> bytes:
    """Within-session timeline: each speech segment's nine scores as stacked bars over time, and
    the 20 ms frame scores as lines (broken at silences) at frame granularity; the pauses between
    speech (from the voice measures) shaded when given."""
    return _svg(timeline_figure(segments, duration_s, **kwargs))


def bars_svg(scores: Sequence[float], *, note: str | Promise = FOOTNOTE) -> bytes:
    """The nine scores of one recording."""
    fig = _figure(6.0, 2.8)
    ax = fig.add_subplot()
    ax.barh(emotion_names()[::-1], list(scores)[::-1], color=[PALETTE[e] for e in EMOTIONS][::-1])
    ax.set_xlim(0, 1)
    ax.set_xlabel(gettext("probability"))
    ax.grid(axis="x", alpha=0.3)
    _note(fig, note)
    return _svg(fig)
