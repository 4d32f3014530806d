"""The engine reports each stage's own progress through one callback: speech detection per
decoded block (16 kHz samples of the header's total), then the model per batch of segments."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from ser.engine.model import EmotionModel
from ser.engine.pipeline import ANALYSING, DETECTING_SPEECH, analyse_file, analyse_waveform
from tests.audio import speech_like


@pytest.fixture(scope="module")
def model(test_model_dir):  # type: ignore[no-untyped-def]
    return EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")


def test_it_reports_speech_detection_block_by_block_then_segments(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "long.wav"
    sf.write(path, speech_like(35.0, 22050, seed=3), 22050, subtype="PCM_16")  # resampled, ~4 blocks
    calls: list[tuple[str, int, int]] = []
    result = analyse_file(path, model, progress=lambda *c: calls.append(c))

    detecting = [c for c in calls if c[0] == DETECTING_SPEECH]
    analysing = [c for c in calls if c[0] == ANALYSING]
    assert calls.index(analysing[0]) > calls.index(detecting[-1])  # one stage, then the next
    total = 35 * 16000
    assert {c[2] for c in detecting} == {total}
    assert detecting[0][1] == 0 and detecting[-1][1] == total
    done = [c[1] for c in detecting]
    assert done == sorted(done) and len(set(done)) >= 4  # several blocks, each reported
    assert analysing[0] == (ANALYSING, 0, len(result.segments))
    assert analysing[-1] == (ANALYSING, len(result.segments), len(result.segments))


def test_an_array_in_memory_reports_the_same_stages(model) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, int, int]] = []
    wav = speech_like(6.0, seed=1)
    analyse_waveform(wav, model, progress=lambda *c: calls.append(c))
    assert calls[0] == (DETECTING_SPEECH, 0, wav.size) and calls[1] == (DETECTING_SPEECH, wav.size, wav.size)
    assert calls[-1][0] == ANALYSING and calls[-1][1] == calls[-1][2] > 0
