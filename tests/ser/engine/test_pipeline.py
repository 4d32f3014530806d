"""Cutting long audio into windows and aggregating the pieces. No Django."""

from __future__ import annotations

import numpy as np
import pytest

from ser.engine.model import EmotionModel
from ser.engine.pipeline import NoSpeechError, analyse_waveform, windows
from tests.audio import speech_like


def test_it_cuts_into_windows_no_longer_than_the_limit() -> None:
    bounds = windows(16000 * 65, max_segment_s=30)
    assert bounds == [(0, 480000), (480000, 960000), (960000, 1040000)]
    # A tail shorter than a second joins the previous window rather than standing alone.
    assert windows(16000 * 30 + 8000, max_segment_s=30) == [(0, 488000)]


def test_it_weights_the_recording_scores_by_window_duration(test_model_dir) -> None:  # type: ignore[no-untyped-def]
    model = EmotionModel.load(str(test_model_dir), threads=2)
    wav = speech_like(5.0, seed=7)
    result = analyse_waveform(wav, model, max_segment_s=2.0)
    assert [round(s.duration_s, 3) for s in result.segments] == [2.0, 2.0, 1.0]
    expected = (
        2 * result.segments[0].probabilities
        + 2 * result.segments[1].probabilities
        + result.segments[2].probabilities
    ) / 5
    np.testing.assert_allclose(result.probabilities, expected, rtol=1e-9)
    assert result.probabilities.sum() == pytest.approx(1.0)
    assert result.analysed_s == pytest.approx(5.0)
    assert result.dominant == max(result.score_map(), key=result.score_map().get)


def test_it_refuses_audio_too_short_to_analyse(test_model_dir) -> None:  # type: ignore[no-untyped-def]
    model = EmotionModel.load(str(test_model_dir), threads=2)
    with pytest.raises(NoSpeechError):
        analyse_waveform(np.zeros(1000, np.float32), model)
