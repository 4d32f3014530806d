"""Plots are SVG bytes from matplotlib's Figure API, with one palette and the disclaimer on each."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from reports import plots
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_SHORT

DATES = [datetime(2026, 1, 5) + timedelta(weeks=i) for i in range(4)]


def _text(svg: bytes) -> str:
    return svg.decode()


def test_every_class_has_one_colour_and_marker() -> None:
    assert set(plots.PALETTE) == set(EMOTIONS) == set(plots.MARKERS)
    assert len(set(plots.PALETTE.values())) == len(EMOTIONS)


def test_the_footnote_leads_with_the_test_checkpoint_warning_only_when_it_applies() -> None:
    assert plots.footnote(False) == DISCLAIMER
    assert plots.footnote(True).startswith(TEST_MODEL_SHORT) and DISCLAIMER in plots.footnote(True)


def test_the_trajectory_draws_only_the_chosen_classes_and_the_note() -> None:
    scores = np.random.default_rng(0).dirichlet(np.ones(9), size=4)
    dominant = [EMOTIONS[int(np.argmax(r))] for r in scores]
    svg = _text(
        plots.trajectory_svg(DATES, scores, classes=["sad", "happy"], dominant=dominant, note="NOTE-X")
    )
    assert svg.startswith("<?xml") and "<svg" in svg and "NOTE-X" in svg
    assert plots.PALETTE["sad"].lower() in svg.lower() and plots.PALETTE["happy"].lower() in svg.lower()


def test_drift_timeline_bars_and_map_render_as_svg() -> None:
    euclid, cosine = np.array([0.1, 0.2, 0.15, 0.9]), np.array([0.01, 0.02, 0.01, 0.2])
    assert b"<svg" in plots.drift_svg(
        DATES, euclid, cosine, band=(0.0, 0.3), baseline=[True, True, True, False]
    )
    segments = [[0.0, 2.0, *([1 / 9] * 9)], [3.0, 5.5, *([1 / 9] * 9)]]
    frames = (np.arange(0, 5.5, 0.02), np.full((275, 9), 1 / 9))
    assert b"<svg" in plots.timeline_svg(segments, 6.0, frames=frames, note="n")
    assert b"<svg" in plots.bars_svg([1 / 9] * 9)
    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], float)
    assert b"<svg" in plots.session_map_svg(coords, DATES, ["1", "2", "3", "4"], highlight=2, note="n")


def test_the_same_data_draws_the_same_bytes() -> None:
    # Cached SVGs must not differ by a timestamp: matplotlib's Date metadata is switched off.
    assert plots.bars_svg([1 / 9] * 9) == plots.bars_svg([1 / 9] * 9)


def test_an_empty_plot_says_why() -> None:
    assert "No analysed sessions yet." in _text(plots.empty_svg("No analysed sessions yet."))
