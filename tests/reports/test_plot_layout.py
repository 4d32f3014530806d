"""The plot defects of issue 10, each measured on the drawn figure (matplotlib's own renderer):
the footnote never touches an axis or its labels, dates never collide, session-map labels never
overlap, the dominant strip has a legend, the phone drawing puts the legend below with fewer
ticks, and frame-score lines break at silences."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
import pytest

from reports import plots
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_SHORT

LONG_NOTE = f"{TEST_MODEL_SHORT} {DISCLAIMER}"


def _dates(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + timedelta(days=7 * i) for i in range(n)]


def _renderer(fig):  # type: ignore[no-untyped-def]
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _footnote(fig):  # type: ignore[no-untyped-def]
    (note,) = [t for t in fig.texts if t.get_gid() == "footnote"]
    return note


def _visible_tick_labels(ax, renderer):  # type: ignore[no-untyped-def]
    lo, hi = sorted(ax.get_xlim())
    return [
        t.get_window_extent(renderer)
        for tick, t in zip(ax.xaxis.get_major_ticks(), ax.get_xticklabels(), strict=True)
        if t.get_text() and t.get_visible() and lo <= tick.get_loc() <= hi
    ]


def _figures(width: str):  # type: ignore[no-untyped-def]
    n = 200
    rng = np.random.default_rng(1)
    scores = rng.dirichlet(np.ones(9), size=n)
    dominant = [EMOTIONS[int(np.argmax(r))] for r in scores]
    euclid = rng.uniform(0, 2, n)
    segments = [[float(s), float(s) + 4.0, *([1 / 9] * 9)] for s in range(0, 60, 6)]
    frames = (np.arange(0, 4, 0.02), np.full((200, 9), 1 / 9))
    return {
        "trajectory": plots.trajectory_figure(
            _dates(n), scores, dominant=dominant, note=LONG_NOTE, width=width
        ),
        "drift": plots.drift_figure(
            _dates(n),
            euclid,
            euclid / 10,
            band=(0.2, 1.0),
            baseline=[i < 3 for i in range(n)],
            note=LONG_NOTE,
            width=width,
        ),
        "map": plots.session_map_figure(
            rng.normal(size=(n, 2)), _dates(n), [str(i + 1) for i in range(n)], note=LONG_NOTE, width=width
        ),
        "timeline": plots.timeline_figure(segments, 64.0, frames=frames, note=LONG_NOTE),
    }


@pytest.mark.parametrize("width", plots.WIDTHS)
def test_it_keeps_the_test_checkpoint_footnote_clear_of_every_axis_and_label(width: str) -> None:
    for name, fig in _figures(width).items():
        renderer = _renderer(fig)
        note = _footnote(fig).get_window_extent(renderer)
        assert fig.bbox.contains(note.x0, note.y0) and fig.bbox.contains(note.x1, note.y1), name
        # Each axes' tight box holds its tick labels, axis labels, title and legends.
        for ax in fig.axes:
            assert not note.overlaps(ax.get_tightbbox(renderer)), (name, ax.get_ylabel() or ax.get_label())
        for legend in fig.legends:
            assert not note.overlaps(legend.get_window_extent(renderer)), name


def test_it_wraps_the_footnote_on_a_narrow_drawing_rather_than_cutting_it() -> None:
    fig = plots.trajectory_figure(_dates(5), np.full((5, 9), 1 / 9), note=LONG_NOTE * 2, width=plots.NARROW)
    renderer = _renderer(fig)
    note = _footnote(fig)
    assert "\n" in note.get_text()
    box = note.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1
    for ax in fig.axes:
        assert not box.overlaps(ax.get_tightbbox(renderer))


@pytest.mark.parametrize("width", plots.WIDTHS)
def test_the_cosine_plot_dates_do_not_collide_for_200_sessions(width: str) -> None:
    fig = _figures(width)["drift"]
    renderer = _renderer(fig)
    for ax in fig.axes:
        labels = _visible_tick_labels(ax, renderer)
        assert 2 <= len(labels) <= 7, (ax.get_ylabel(), len(labels))
        for a, b in combinations(labels, 2):
            assert not a.overlaps(b), ax.get_ylabel()
    cosine = next(ax for ax in fig.axes if ax.get_ylabel() == "cosine distance")
    assert len(_visible_tick_labels(cosine, renderer)) <= 5


def test_the_session_map_labels_do_not_overlap_for_50_sessions() -> None:
    rng = np.random.default_rng(7)
    coords = np.vstack([rng.normal(0, 0.3, size=(40, 2)), rng.normal(3, 1, size=(10, 2))])  # a tight cluster
    fig = plots.session_map_figure(coords, _dates(50), [str(i + 1) for i in range(50)], highlight=20)
    renderer = _renderer(fig)
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "point-label"]
    assert 5 <= len(labels) < 50  # some labelled, the crowded ones left out
    assert "21" in {t.get_text() for t in labels}  # the chosen session always has its number
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (i, a), (j, b) in combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), (labels[i].get_text(), labels[j].get_text())


def test_the_dominant_strip_has_a_legend_of_the_classes_it_shows() -> None:
    scores = np.full((4, 9), 0.05)
    scores[[0, 1], EMOTIONS.index("sad")] = 0.6
    scores[[2, 3], EMOTIONS.index("neutral")] = 0.6
    dominant = [EMOTIONS[int(np.argmax(r))] for r in scores]
    fig = plots.trajectory_figure(_dates(4), scores, classes=["happy"], dominant=dominant)
    legends = [a.get_legend() for a in fig.axes]
    (legend,) = [lg for lg in legends if lg is not None and lg.get_gid() == "dominant-legend"]
    assert [t.get_text() for t in legend.get_texts()] == ["neutral", "sad"]
    assert "dominant" in legend.get_title().get_text()
    svg = plots.trajectory_svg(_dates(4), scores, classes=["happy"], dominant=dominant).decode()
    assert 'id="dominant-legend"' in svg


def test_the_narrow_drawing_has_its_legend_below_and_fewer_ticks() -> None:
    n = 200
    scores = np.random.default_rng(2).dirichlet(np.ones(9), size=n)
    wide = plots.trajectory_figure(_dates(n), scores)
    narrow = plots.trajectory_figure(_dates(n), scores, width=plots.NARROW)
    assert narrow.get_figwidth() < 5 < wide.get_figwidth()
    renderer = _renderer(narrow)
    (legend,) = narrow.legends
    lines = narrow.axes[-1]
    plot_box = lines.get_tightbbox(renderer)
    assert plot_box is not None
    assert legend.get_window_extent(renderer).y1 <= plot_box.y0 + 1
    assert len(_visible_tick_labels(lines, renderer)) <= 4
    assert len(_visible_tick_labels(lines, renderer)) <= len(
        _visible_tick_labels(wide.axes[-1], _renderer(wide))
    )
    drift = plots.drift_figure(
        _dates(n), np.ones(n), np.ones(n), band=None, baseline=[True] * n, width=plots.NARROW
    )
    a1, a2 = drift.axes
    assert a1.get_position().y0 > a2.get_position().y1  # the panels stacked, not side by side


def test_frame_score_lines_break_at_silences() -> None:
    speech = np.arange(0, 2, 0.02)
    times = np.concatenate([speech, speech + 5.0, speech + 5.0 + 2.05])  # a 3 s silence, then a 50 ms step
    probs = np.full((len(times), 9), 1 / 9)
    xs, ys = plots.frame_lines(times, probs)
    assert int(np.isnan(xs).sum()) == 1 and np.isnan(ys).all(axis=1).sum() == 1
    gap = int(np.flatnonzero(np.isnan(xs))[0])
    assert xs[gap - 1] < 2.0 < 5.0 <= xs[gap + 1]
    fig = plots.timeline_figure(
        [[0.0, 2.0, *([1 / 9] * 9)], [5.0, 9.05, *([1 / 9] * 9)]], 10.0, frames=(times, probs)
    )
    frame_axes = fig.axes[1]
    assert len(frame_axes.lines) == 9
    for line in frame_axes.lines:
        assert np.isnan(np.asarray(line.get_ydata(), float)).sum() == 1
    # No gap, no break.
    xs, _ = plots.frame_lines(speech, np.full((len(speech), 9), 0.1))
    assert not np.isnan(xs).any()
