"""Plots as SVG bytes, drawn with matplotlib's Figure API (no pyplot: it keeps global state that
leaks in servers). One colour-blind-safe palette (Okabe–Ito) for the nine classes, used everywhere."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_SHORT

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
FOOTNOTE = DISCLAIMER


def footnote(is_test_model: bool) -> str:
    """The line under every plot: the disclaimer, led by the test-checkpoint warning when it applies."""
    return f"{TEST_MODEL_SHORT} {DISCLAIMER}" if is_test_model else DISCLAIMER


def _figure(width: float = 9.0, height: float = 3.6):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("constrained")
    return fig


def _svg(fig) -> bytes:  # type: ignore[no-untyped-def]
    import matplotlib

    buf = io.BytesIO()
    # No date and a fixed id salt: the same data always draws the same bytes.
    with matplotlib.rc_context({"svg.hashsalt": "clinic"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _note(fig, text: str) -> None:  # type: ignore[no-untyped-def]
    # Constrained layout ignores fig.text: keep a strip free so the note never covers the date labels.
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=7, color="#52606d")


def empty_svg(message: str, *, width: float = 9.0, height: float = 1.2) -> bytes:
    fig = _figure(width, height)
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#52606d")
    return _svg(fig)


def trajectory_svg(
    dates: Sequence[datetime],
    scores: np.ndarray,
    *,
    classes: Sequence[str] = EMOTIONS,
    dominant: Sequence[str] | None = None,
    title: str = "",
    note: str = FOOTNOTE,
) -> bytes:
    """The nine class probabilities per session over time (session dates on the x axis), with each
    session's dominant emotion as a coloured marker in a strip above the plot."""
    fig = _figure(9.0, 3.9)
    if dominant is not None:
        strip, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 11])
        for name in dict.fromkeys(dominant):  # one collection per class, not one per session
            when = [d for d, dom in zip(dates, dominant, strict=True) if dom == name]
            strip.scatter(when, [0] * len(when), color=PALETTE[name], marker=MARKERS[name], s=34)
        strip.set_yticks([0], ["dominant"], fontsize=8)
        strip.tick_params(axis="x", bottom=False, labelbottom=False)
        for side in ("top", "right", "bottom", "left"):
            strip.spines[side].set_visible(False)
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
            label=name,
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    fig.autofmt_xdate()
    _note(fig, note)
    return _svg(fig)


def drift_svg(
    dates: Sequence[datetime],
    euclidean: np.ndarray,
    cosine: np.ndarray,
    *,
    band: tuple[float, float] | None,
    baseline: Sequence[bool],
    title: str = "",
    note: str = FOOTNOTE,
) -> bytes:
    """Euclidean drift from the baseline embedding with the patient's own band, cosine beside it."""
    fig = _figure(9.0, 4.2)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[3, 2])
    x = list(dates)
    if band is not None:
        ax1.axhspan(
            band[0], band[1], color="#0072B2", alpha=0.12, label="usual for this patient (mean ± 2 SD)"
        )
    ax1.plot(
        x, euclidean, color="#0072B2", marker="o", markersize=4, linewidth=1.6, label="Euclidean distance"
    )
    base_x = [d for d, b in zip(x, baseline, strict=True) if b]
    base_y = [v for v, b in zip(euclidean, baseline, strict=True) if b]
    ax1.scatter(
        base_x, base_y, s=70, facecolors="none", edgecolors="#000000", label="baseline session", zorder=3
    )
    if band is not None:
        out_x = [d for d, v in zip(x, euclidean, strict=True) if v > band[1]]
        out_y = [v for v in euclidean if v > band[1]]
        ax1.scatter(out_x, out_y, s=60, marker="^", color="#D55E00", label="beyond the band", zorder=4)
    ax1.set_ylabel("distance from baseline")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, loc="upper left", frameon=False)
    ax2.plot(x, cosine, color="#009E73", marker="s", markersize=4, linewidth=1.4)
    ax2.set_ylabel("cosine distance")
    ax2.grid(alpha=0.3)
    for ax in (ax1, ax2):
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_ha("right")
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    _note(fig, note)
    return _svg(fig)


def session_map_svg(
    coords: np.ndarray,
    dates: Sequence[datetime],
    labels: Sequence[str],
    *,
    highlight: int | None = None,
    note: str = FOOTNOTE,
) -> bytes:
    """Sessions in 2-D (PCA of embeddings), coloured by date."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    fig = _figure(6.0, 4.6)
    ax = fig.add_subplot()
    t = np.array([d.timestamp() for d in dates])
    norm = Normalize(t.min(), t.max() if t.max() > t.min() else t.min() + 1)
    cmap = colormaps["cividis"]
    ax.scatter(
        coords[:, 0], coords[:, 1], c=[cmap(norm(v)) for v in t], s=46, edgecolors="#1f2933", linewidths=0.5
    )
    ax.plot(coords[:, 0], coords[:, 1], color="#9aa5b1", linewidth=0.6, zorder=0)
    for (px, py), text in zip(coords, labels, strict=True):
        ax.annotate(text, (px, py), xytext=(3, 3), textcoords="offset points", fontsize=7)
    if highlight is not None:
        ax.scatter(
            coords[highlight, 0],
            coords[highlight, 1],
            s=160,
            facecolors="none",
            edgecolors="#D55E00",
            linewidths=2,
        )
    sm = __import__("matplotlib.cm", fromlist=["ScalarMappable"]).ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, fraction=0.05)
    ticks = np.linspace(t.min(), t.max(), 3)
    bar.set_ticks(ticks)
    bar.set_ticklabels([datetime.fromtimestamp(v).strftime("%Y-%m-%d") for v in ticks], fontsize=7)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.grid(alpha=0.3)
    _note(fig, note)
    return _svg(fig)


def timeline_svg(
    segments: Sequence[Sequence[float]],
    duration_s: float,
    *,
    frames: tuple[np.ndarray, np.ndarray] | None = None,
    note: str = FOOTNOTE,
) -> bytes:
    """Within-session timeline: each speech segment's nine scores as stacked bars over time, and
    the 20 ms frame scores as lines when the session was analysed at frame granularity."""
    fig = _figure(9.0, 3.8 if frames is None else 5.2)
    axes = fig.subplots(2 if frames is not None else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    for row in segments:
        start, end, probs = row[0], row[1], np.asarray(row[2:])
        bottom = 0.0
        for name, p in zip(EMOTIONS, probs, strict=True):
            ax.bar(
                start,
                p,
                width=end - start,
                bottom=bottom,
                align="edge",
                color=PALETTE[name],
                edgecolor="none",
            )
            bottom += p
    ax.set_xlim(0, max(duration_s, 1.0))
    ax.set_ylim(0, 1)
    ax.set_ylabel("segment scores")
    handles = [
        __import__("matplotlib.patches", fromlist=["Patch"]).Patch(color=PALETTE[e], label=e)
        for e in EMOTIONS
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    if frames is not None:
        times, probs = frames
        fx = axes[1]
        for i, name in enumerate(EMOTIONS):
            fx.plot(times, probs[:, i], color=PALETTE[name], linewidth=0.8)
        fx.set_ylim(0, 1)
        fx.set_ylabel("frame scores (20 ms)")
    axes[-1].set_xlabel("time in the recording (s); gaps are silence or the other speaker")
    _note(fig, note)
    return _svg(fig)


def bars_svg(scores: Sequence[float], *, note: str = FOOTNOTE) -> bytes:
    """The nine scores of one recording."""
    fig = _figure(6.0, 2.8)
    ax = fig.add_subplot()
    ax.barh(list(EMOTIONS)[::-1], list(scores)[::-1], color=[PALETTE[e] for e in EMOTIONS][::-1])
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.grid(axis="x", alpha=0.3)
    _note(fig, note)
    return _svg(fig)
