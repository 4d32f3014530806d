"""The session page's voice plot (pitch and intensity over the recording, pauses shaded), the pauses
on the emotion timeline, and how the charts layer picks the voice plot or says why there is none."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest

from reports import charts, plots, voice_contours
from ser.engine.voice import unavailable
from ser.models import EmotionAnalysis
from tests.factories import AnalysisFactory

PAUSES = [[2.0, 2.6], [5.0, 6.2]]


def _contour(
    seconds: float, *, period: float = 10.0, speech: float = 8.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`speech` s of speech in every `period` s (10 ms frames), every other 0.3 s unvoiced."""
    t = np.arange(0.0, seconds, 0.01)
    t = t[(t % period) < speech]
    f0 = 150 + 20 * np.sin(t)
    f0[(t % 0.6) < 0.3] = np.nan
    db = 60 + 5 * np.cos(3 * t)
    return t.astype(np.float32), f0.astype(np.float32), db.astype(np.float32)


def test_it_draws_pitch_and_intensity_with_their_units_and_the_pauses() -> None:
    t, f0, db = _contour(9.0)
    svg = voice_contours.voice_svg(t, f0, db, 9.0, pauses=PAUSES, note="NOTE-V").decode()
    assert svg.startswith("<?xml")
    for text in ("pitch F0 (Hz)", "intensity (dB)", "time in the recording (s)", "pause", "NOTE-V"):
        assert text in svg, text
    assert svg.count('id="pauses"') == 2  # shaded on both axes
    assert voice_contours.voice_svg(t, f0, db, 9.0, pauses=PAUSES) == voice_contours.voice_svg(
        t, f0, db, 9.0, pauses=PAUSES
    )


def test_it_shares_the_time_axis_of_the_timeline_and_keeps_the_footnote_off_the_axes() -> None:
    t, f0, db = _contour(30.0)
    fig = voice_contours.voice_figure(t, f0, db, 30.0, pauses=PAUSES)
    top, bottom = fig.axes
    assert top.get_xlim() == bottom.get_xlim() == (0.0, 30.0)
    timeline = plots.timeline_figure([[0.0, 8.0, *([1 / 9] * 9)]], 30.0)
    assert timeline.axes[0].get_xlim() == top.get_xlim()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    (note,) = [x for x in fig.texts if x.get_gid() == "footnote"]
    axes_box = bottom.get_tightbbox(renderer)
    assert axes_box is not None and not note.get_window_extent(renderer).overlaps(axes_box)


def test_an_hour_is_thinned_to_a_legible_line_that_still_breaks_at_silences() -> None:
    t, f0, db = _contour(3600.0, period=30.0, speech=24.0)  # 6 s silences: wider than a bin
    assert t.size > 250_000
    tt, ff, dd = voice_contours.thin(t, f0, db, span_s=3600.0)
    assert tt.size == ff.size == dd.size == voice_contours.BINS
    assert np.isnan(dd).any() and np.isfinite(dd).sum() > voice_contours.BINS * 0.6
    assert 120 < np.nanmin(ff) and np.nanmax(ff) < 180
    svg = voice_contours.voice_svg(
        t, f0, db, 3600.0, pauses=[[24.0 + 30 * i, 30.0 + 30 * i] for i in range(120)]
    )
    assert len(svg) < 1_000_000


def test_a_short_contour_breaks_between_segments_instead_of_joining_them() -> None:
    t = np.array([1.0, 1.01, 1.02, 3.0, 3.01])
    tt, vv = voice_contours.thin(t, np.arange(5.0), span_s=4.0)
    assert tt.size == 6 and np.isnan(tt[3]) and np.isnan(vv[3])


def test_no_voiced_speech_is_said_on_the_pitch_axis() -> None:
    t, _, db = _contour(5.0)
    svg = voice_contours.voice_svg(t, np.full(t.shape, np.nan), db, 5.0).decode()
    assert "no voiced speech" in svg and "intensity (dB)" in svg


def test_the_timeline_shades_the_pauses_with_a_legend_entry_only_when_there_are_some() -> None:
    segments = [[0.0, 2.0, *([1 / 9] * 9)], [2.6, 5.0, *([1 / 9] * 9)], [6.2, 8.0, *([1 / 9] * 9)]]
    frames = (np.arange(0, 8, 0.02), np.full((400, 9), 1 / 9))
    with_pauses = plots.timeline_svg(segments, 8.0, frames=frames, pauses=PAUSES).decode()
    assert with_pauses.count('id="pauses"') == 2 and "<!-- pause -->" in with_pauses
    without = plots.timeline_svg(segments, 8.0).decode()
    assert 'id="pauses"' not in without and "<!-- pause -->" not in without


@pytest.mark.django_db
def test_an_analysis_without_voice_measures_gets_the_empty_plot_and_the_way_to_fill_it() -> None:
    analysis = cast(EmotionAnalysis, AnalysisFactory())
    assert analysis.voice == {}
    svg = charts.analysis_plot_svg(analysis, "voice").decode()
    assert "No voice measures for this analysis yet" in svg and "pitch F0 (Hz)" not in svg
    assert 'id="pauses"' not in charts.analysis_plot_svg(analysis, "timeline").decode()


@pytest.mark.django_db
def test_measures_that_could_not_be_computed_say_why_instead_of_a_plot() -> None:
    analysis = cast(
        EmotionAnalysis,
        AnalysisFactory(voice=unavailable("The voice measures could not be computed (boom).")),
    )
    svg = charts.analysis_plot_svg(analysis, "voice").decode()
    assert "The voice measures could not be computed" in svg


@pytest.mark.django_db
def test_the_voice_plot_is_forgotten_with_the_analysis() -> None:
    analysis = cast(EmotionAnalysis, AnalysisFactory())
    assert any(
        k.startswith(f"aplot:{charts.PLOTS_VERSION}:voice:") for k in charts.analysis_plot_keys(analysis)
    )
