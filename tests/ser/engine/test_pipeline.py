"""The recording pipeline on espeak-ng speech with pauses: VAD segments, channel choice, frames,
aggregates, fast path vs fp32, and the clear errors. No Django."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ser.engine.audio import AudioError
from ser.engine.model import EmotionModel
from ser.engine.pipeline import NoSpeechError, analyse_file, analyse_waveform
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


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_it_analyses_the_speech_and_skips_the_silence(model, talk) -> None:  # type: ignore[no-untyped-def]
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


def test_it_analyses_the_chosen_channel_only(model, talk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    audio, turns = talk
    path = tmp_path / "two.wav"
    sf.write(path, audio, SR)
    for channel, other in (("left", "right"), ("right", "left")):
        result = analyse_file(path, model, channel=channel)
        mine = [t for t in turns if t[2] == channel]
        theirs = [t for t in turns if t[2] == other]
        assert mine and theirs
        assert result.channel == channel
        assert all(any(_overlaps(s, t) for t in mine) for s in result.segments), channel
        assert all(any(_overlaps(s, t) for s in result.segments) for t in mine), channel
        assert not any(_overlaps(s, t) for s in result.segments for t in theirs), channel


def test_it_scores_the_recording_with_duration_weighted_means_of_segments(model, talk) -> None:  # type: ignore[no-untyped-def]
    result = analyse_waveform(talk[0].mean(axis=1), model)
    w = np.array([s.duration_s for s in result.segments])
    assert len(set(np.round(w, 3))) > 1, "equal durations cannot tell a weighted mean from a plain one"
    probs = np.stack([s.probabilities for s in result.segments])
    expected = (w[:, None] * probs).sum(0) / w.sum()
    np.testing.assert_allclose(result.probabilities, expected / expected.sum(), rtol=1e-9)
    assert not np.allclose(result.probabilities, probs.mean(0), rtol=1e-9, atol=0)
    assert result.analysed_s == pytest.approx(w.sum())
    emb = (w[:, None] * np.stack([s.embedding for s in result.segments])).sum(0) / w.sum()
    np.testing.assert_allclose(result.embedding, emb, rtol=1e-5, atol=1e-6)
    assert result.dominant == max(result.score_map().items(), key=lambda kv: kv[1])[0]
    assert result.confidence == pytest.approx(result.probabilities.max())


def test_it_gives_50_frames_a_second_of_nine_scores_inside_each_segment(model, talk) -> None:  # type: ignore[no-untyped-def]
    result = analyse_waveform(talk[0].mean(axis=1), model, granularity="frame")
    frames = result.frames
    assert frames is not None
    t = frames.times_s.shape[0]
    assert frames.probabilities.shape == (t, 9)
    assert frames.embeddings.shape == (t, model.info.embedding_dim)
    assert len(result.segments) > 1
    # The segments do not overlap here (2 s pauses), so the frames run forwards through them.
    assert all(a.end_s <= b.start_s for a, b in zip(result.segments, result.segments[1:], strict=False))
    assert np.all(np.diff(frames.times_s) > 0)
    counted = 0
    for seg in result.segments:
        inside = (frames.times_s >= seg.start_s) & (frames.times_s < seg.end_s)
        n = int(inside.sum())
        assert abs(n - 50 * seg.duration_s) <= 2, (seg.start_s, seg.end_s, n)
        assert frames.times_s[inside][0] == pytest.approx(seg.start_s)
        np.testing.assert_allclose(np.diff(frames.times_s[inside]), 0.02, atol=1e-9)
        # They are this segment's frames: their mean is the segment's embedding (float16 storage).
        mean = frames.embeddings[inside].astype(np.float32).mean(axis=0)
        np.testing.assert_allclose(mean, seg.embedding, rtol=1e-2, atol=2e-3)
        counted += n
    assert counted == t  # no frame outside a segment
    assert (frames.probabilities >= 0).all()
    np.testing.assert_allclose(frames.probabilities.sum(axis=1), 1.0, atol=1e-5)
    # Scores differ from frame to frame (a track, not the recording's scores repeated).
    assert frames.probabilities.std(axis=0).max() > 1e-4


def test_it_says_no_speech_was_found_in_a_silent_recording(model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR * 5, np.float32), SR)
    with pytest.raises(NoSpeechError, match="No speech was found"):
        analyse_file(path, model)


def test_it_says_what_is_wrong_with_a_corrupt_file(model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.mp3"
    path.write_bytes(b"ID3" + bytes(range(256)) * 20)
    with pytest.raises(AudioError, match="could not be read as audio|could not be decoded"):
        analyse_file(path, model)


def test_it_agrees_with_fp32_on_the_fast_paths(test_model_dir, talk, model) -> None:  # type: ignore[no-untyped-def]
    wav = talk[0].mean(axis=1)
    reference = analyse_waveform(wav, model)
    for precision in ("bf16", "int8"):
        fast = EmotionModel.load(str(test_model_dir), threads=2, precision=precision)
        assert fast.info.precision == precision
        result = analyse_waveform(wav, fast)
        assert [(s.start_s, s.end_s) for s in result.segments] == [
            (s.start_s, s.end_s) for s in reference.segments
        ]
        # Bounds well inside the distances between different segments on the test model (cosine
        # ≤ 0.993, scores ≥ 0.008 apart), so a mixed-up or wrong result cannot pass.
        for a, b in zip(reference.segments, result.segments, strict=True):
            cos = _cosine(a.embedding, b.embedding)
            assert cos > 0.999, (precision, cos)
            assert np.abs(a.probabilities - b.probabilities).max() < 0.006, precision
        assert np.abs(reference.probabilities - result.probabilities).max() < 0.006, precision


def test_it_scores_in_batches_as_one_at_a_time_and_as_funasr_generate(model, talk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wav = talk[0].mean(axis=1)
    pieces = [wav[int(a * SR) : int(b * SR)] for a, b, _ in talk[1]]
    single = [model.score(p) for p in pieces]
    monkeypatch.setattr(model, "batch_seconds", 60.0)  # the model is shared by this module's tests
    # Pieces of different lengths share a batch, so padding is part of what is compared.
    assert any(len(b) > 1 for b in model._batches([p.size for p in pieces]))
    assert len({p.size for p in pieces}) == len(pieces)
    batched = model.score_many(pieces)
    for i, (a, b) in enumerate(zip(single, batched, strict=True)):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=2e-3)
        # The test model's embeddings of different speech are all close (cosine ≈ 0.99), so each
        # batched embedding must be nearer its own input's than any other input's by a margin.
        own = 1 - _cosine(a.embedding, b.embedding)
        nearest_other = min(1 - _cosine(c.embedding, b.embedding) for j, c in enumerate(single) if j != i)
        assert own < 0.5 * nearest_other, (i, own, nearest_other)
    # One input through FunASR's own generate() gives what our scoring gives.
    res = model._auto.generate(pieces[0], granularity="utterance", extract_embedding=True, disable_pbar=True)[
        0
    ]
    np.testing.assert_allclose(np.asarray(res["scores"]), single[0].probabilities, atol=1e-5)
    np.testing.assert_allclose(res["feats"], single[0].embedding, rtol=1e-4, atol=1e-5)


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
def test_it_decodes_common_formats_and_rates_to_16k(tmp_path, ext: str, rate: int, args: list[str]) -> None:
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
