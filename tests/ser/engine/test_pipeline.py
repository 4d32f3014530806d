"""The recording pipeline on espeak-ng speech with pauses: VAD segments, channel choice, frames,
aggregates, fast path vs fp32, and the clear errors. No Django."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ser.engine.audio import AudioError
from ser.engine.model import EmotionModel
from ser.engine.pipeline import NoSpeechError, analyse_file, analyse_waveform
from ser.engine.vad import VadConfig, shape_segments
from tests.audio import conversation, espeak

SR = 16000
LINES = [
    ("left", "I have been sleeping badly and I feel tired most days."),
    ("right", "Tell me more about what happens in the evenings."),
    ("left", "I keep going over the same worries again and again."),
]


@pytest.fixture(scope="module")
def model(test_model_dir):  # type: ignore[no-untyped-def]
    return EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")


@pytest.fixture(scope="module")
def talk():  # type: ignore[no-untyped-def]
    return conversation(LINES, pause_s=2.0)


def _overlaps(seg, turn) -> bool:  # type: ignore[no-untyped-def]
    return seg.start_s < turn[1] and turn[0] < seg.end_s


def test_segments_cover_the_speech_and_skip_the_silence(model, talk) -> None:  # type: ignore[no-untyped-def]
    audio, turns = talk
    result = analyse_waveform(audio.mean(axis=1), model)
    assert result.segments, "speech was not found"
    for seg in result.segments:
        assert any(_overlaps(seg, t) for t in turns), (seg.start_s, seg.end_s)
    for t in turns:
        assert any(_overlaps(s, t) for s in result.segments), t
    speech = sum(e - s for s, e, _ in turns)
    assert 0.6 * speech < result.analysed_s < 1.3 * speech
    assert result.analysed_s < 0.8 * result.duration_s  # the pauses were not analysed


def test_the_chosen_channel_is_the_one_analysed(model, talk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    audio, turns = talk
    path = tmp_path / "two.wav"
    sf.write(path, audio, SR)
    left = analyse_file(path, model, channel="left")
    right = analyse_file(path, model, channel="right")
    left_turns = [t for t in turns if t[2] == "left"]
    right_turns = [t for t in turns if t[2] == "right"]
    assert all(any(_overlaps(s, t) for t in left_turns) for s in left.segments)
    assert not any(_overlaps(s, t) for s in left.segments for t in right_turns)
    assert all(any(_overlaps(s, t) for t in right_turns) for s in right.segments)
    assert left.channel == "left" and right.channel == "right"


def test_recording_scores_are_duration_weighted_means_of_segments(model, talk) -> None:  # type: ignore[no-untyped-def]
    result = analyse_waveform(talk[0].mean(axis=1), model)
    w = np.array([s.duration_s for s in result.segments])
    expected = (w[:, None] * np.stack([s.probabilities for s in result.segments])).sum(0) / w.sum()
    np.testing.assert_allclose(result.probabilities, expected / expected.sum(), rtol=1e-9)
    emb = (w[:, None] * np.stack([s.embedding for s in result.segments])).sum(0) / w.sum()
    np.testing.assert_allclose(result.embedding, emb, rtol=1e-5, atol=1e-6)
    assert result.dominant == max(result.score_map(), key=result.score_map().get)
    assert result.confidence == pytest.approx(result.probabilities.max())


def test_frame_granularity_gives_50_frames_a_second_of_nine_scores(model, talk) -> None:  # type: ignore[no-untyped-def]
    result = analyse_waveform(talk[0].mean(axis=1), model, granularity="frame")
    frames = result.frames
    assert frames is not None
    assert frames.probabilities.shape[1] == 9
    assert frames.embeddings.shape == (frames.probabilities.shape[0], model.info.embedding_dim)
    assert abs(frames.probabilities.shape[0] - 50 * result.analysed_s) <= 2 * len(result.segments)
    np.testing.assert_allclose(frames.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.diff(frames.times_s) > 0) or len(result.segments) > 1


def test_a_silent_recording_says_no_speech_found(model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR * 5, np.float32), SR)
    with pytest.raises(NoSpeechError, match="No speech was found"):
        analyse_file(path, model)


def test_a_corrupt_file_says_what_is_wrong(model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.mp3"
    path.write_bytes(b"ID3" + bytes(range(256)) * 20)
    with pytest.raises(AudioError, match="could not be read as audio|could not be decoded"):
        analyse_file(path, model)


def test_the_fast_paths_agree_with_fp32(test_model_dir, talk, model) -> None:  # type: ignore[no-untyped-def]
    wav = talk[0].mean(axis=1)
    reference = analyse_waveform(wav, model)
    for precision in ("bf16", "int8"):
        fast = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
        assert fast.info.precision == precision
        result = analyse_waveform(wav, fast)
        assert len(result.segments) == len(reference.segments)
        for a, b in zip(reference.segments, result.segments, strict=True):
            cos = np.dot(a.embedding, b.embedding) / np.linalg.norm(a.embedding) / np.linalg.norm(b.embedding)
            assert cos > 0.995, (precision, cos)
            assert np.abs(a.probabilities - b.probabilities).max() < 0.05


def test_batched_scoring_matches_one_at_a_time_and_funasr_generate(model, talk) -> None:  # type: ignore[no-untyped-def]
    wav = talk[0].mean(axis=1)
    pieces = [wav[int(a * SR) : int(b * SR)] for a, b, _ in talk[1]]
    single = [model.score(p) for p in pieces]
    model.batch_seconds = 60.0
    batched = model.score_many(pieces)
    for a, b in zip(single, batched, strict=True):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=2e-3)
    # One input through FunASR's own generate() gives what our scoring gives.
    res = model._auto.generate(pieces[0], granularity="utterance", extract_embedding=True, disable_pbar=True)[
        0
    ]
    np.testing.assert_allclose(np.asarray(res["scores"]), single[0].probabilities, atol=1e-5)
    np.testing.assert_allclose(res["feats"], single[0].embedding, rtol=1e-4, atol=1e-5)


def test_segments_are_merged_split_and_widened_into_range() -> None:
    cfg = VadConfig(min_segment_s=1.0, max_segment_s=4.0, merge_gap_s=0.5)
    sec = SR
    regions = [
        (0, 1 * sec),
        (int(1.2 * sec), 2 * sec),  # merged across a 0.2 s pause
        (5 * sec, 15 * sec),  # 10 s: split into 3 pieces ≤ 4 s
        (20 * sec, int(20.3 * sec)),
    ]  # 0.3 s: widened to 1 s
    shaped = shape_segments(regions, 30 * sec, cfg)
    assert shaped[0] == (0, 2 * sec)
    assert len(shaped) == 1 + 3 + 1
    assert all(sec <= e - s <= 4 * sec for s, e in shaped)
    assert shaped[-1][0] < 20 * sec and shaped[-1][1] > int(20.3 * sec)


@pytest.mark.parametrize(
    "ext, rate, args",
    [
        ("wav", 8000, ["-c:a", "pcm_s16le"]),
        ("flac", 44100, []),
        ("mp3", 22050, ["-b:a", "64k"]),
        ("m4a", 44100, ["-c:a", "aac"]),
        ("ogg", 48000, ["-c:a", "libopus"]),
        ("webm", 48000, ["-c:a", "libopus"]),
    ],
)
def test_common_formats_and_rates_decode_to_16k(tmp_path, ext: str, rate: int, args: list[str]) -> None:
    import subprocess

    from ser.engine.audio import load_16k_mono, probe

    speech, sr = espeak("Good morning, how was your week?")
    src = tmp_path / "src.wav"
    sf.write(src, np.stack([speech, speech * 0.5], axis=1), sr)
    out = tmp_path / f"clip.{ext}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-ar", str(rate), *args, str(out)], check=True
    )
    info = probe(out)
    assert info.sample_rate == rate and info.channels == 2
    wav = load_16k_mono(out, channel="left")
    assert wav.dtype == np.float32
    assert abs(wav.size / SR - speech.size / sr) < 0.1
