"""Audio decoding, channel choice and resampling. No Django."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ser.engine.audio import AudioError, load_16k_mono, pick_channel, probe, resample, verify_decodes
from ser.engine.messages import render
from tests.audio import speech_like, wav_bytes


def test_it_probes_the_header(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "a.wav"
    p.write_bytes(wav_bytes(2.0, sr=44100, channels=2))
    info = probe(p)
    assert (info.sample_rate, info.channels, info.format) == (44100, 2, "WAV")
    assert info.duration_s == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"MZ\x90\x00" + bytes(range(256)) * 8, "could not be read as audio"),
        (b"hello, this is a text file\n" * 20, "could not be read as audio"),
    ],
)
def test_it_rejects_what_is_not_audio_with_a_clear_message(tmp_path, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        probe(p)


def test_it_refuses_recordings_over_the_duration_limit_from_the_header(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "long.wav"
    p.write_bytes(wav_bytes(3.0))
    with pytest.raises(AudioError, match="limit"):
        probe(p, max_duration_s=2.0)


def test_its_messages_keep_the_english_template_and_parameters_apart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "long.wav"
    p.write_bytes(wav_bytes(180.0, sr=8000))
    with pytest.raises(AudioError) as err:
        probe(p, max_duration_s=60.0)
    stored = err.value.stored()
    assert stored["params"] == {"minutes": pytest.approx(3.0, abs=1e-3), "limit": 1.0}
    assert "%(minutes).0f minutes" in stored["msgid"]
    assert render(stored) == str(err.value) and str(err.value).startswith("The recording is 3 minutes long")
    # Shown in another language through its catalogue, the numbers put in there.
    chinese = {stored["msgid"]: "录音时长 %(minutes).0f 分钟，上限为 %(limit).0f 分钟。"}
    assert render(stored, lambda s: chinese.get(s, s)) == "录音时长 3 分钟，上限为 1 分钟。"


def test_it_detects_a_truncated_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "t.flac"
    data = wav_bytes(5.0, fmt="FLAC", subtype="PCM_16")
    p.write_bytes(data[: len(data) // 3])
    with pytest.raises(AudioError):
        verify_decodes(p, probe(p))


def test_it_picks_the_requested_channel() -> None:
    left, right = np.ones(10, np.float32), -np.ones(10, np.float32)
    data = np.stack([left, right], axis=1)
    assert (pick_channel(data, "left") == 1).all()
    assert (pick_channel(data, "right") == -1).all()
    assert (pick_channel(data, "mix") == 0).all()
    with pytest.raises(AudioError):
        pick_channel(data, "centre")


def test_it_resamples_to_16k_without_dropping_content(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sr = 44100
    t = np.arange(sr * 2) / sr
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = resample(tone, sr)
    assert y.shape[0] == 32000
    # The 440 Hz tone survives with its energy (a sample-dropping decimator would alias or lose it).
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * 16000 / y.shape[0] == pytest.approx(440, abs=1)
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_it_loads_16k_mono_from_a_stereo_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "s.wav"
    sf.write(p, np.stack([speech_like(1.0, 22050), np.zeros(22050, np.float32)], axis=1), 22050)
    left = load_16k_mono(p, channel="left")
    right = load_16k_mono(p, channel="right")
    assert left.shape == right.shape == (16000,)
    assert np.abs(right).max() == 0 and np.abs(left).max() > 0.05
