"""Decoding and VAD in bounded memory (issue 8): the streamed VAD finds what silero finds on the
whole array, digital silence is never given to silero, peak memory does not grow with the
recording's length, the spool file never outlives the analysis, and the processed audio is the
whole recording at 16 kHz. No Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr

from ser.engine import audio as engine_audio
from ser.engine import pipeline, vad
from ser.engine.audio import AudioError, load_16k_mono
from ser.engine.model import EmotionModel
from ser.engine.outputs import write_outputs
from ser.engine.pipeline import NoSpeechError, analyse_file
from ser.engine.vad import BLOCK, SpeechDetector, VadConfig, shape_segments
from tests.audio import conversation, espeak, speech_wav_bytes

SR = 16000
ROOT = Path(__file__).resolve().parents[3]
LINES = [
    ("left", "I have not been sleeping well since the move."),
    ("right", "What is the hardest part of the night?"),
    ("left", "Lying awake at four and thinking about work."),
    ("right", "And what do you do when that happens?"),
] * 3  # about a minute: two VAD blocks, so a block edge falls inside the conversation


@pytest.fixture(scope="module")
def model(test_model_dir):  # type: ignore[no-untyped-def]
    return EmotionModel.load(str(test_model_dir), threads=2, precision="fp32")


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A ~60 s two-speaker recording at 44.1 kHz stereo (so decoding resamples, in uneven blocks)."""
    audio, _ = conversation(LINES, pause_s=2.0, lead_s=1.5, sr=44100)
    path = tmp_path_factory.mktemp("talk") / "talk.wav"
    sf.write(path, audio, 44100, subtype="PCM_16")
    return path


class _Detectors(list[SpeechDetector]):
    """Every SpeechDetector the pipeline makes, to look at after the run."""

    def __call__(self, cfg: VadConfig) -> SpeechDetector:
        self.append(SpeechDetector(cfg))
        return self[-1]


@pytest.fixture(scope="module")
def streamed(model, talk, tmp_path_factory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    detectors = _Detectors()
    mp.setattr(pipeline, "SpeechDetector", detectors)
    try:
        out = tmp_path_factory.mktemp("streamed") / "processed_audio.wav"
        result = analyse_file(talk, model, audio_out=out)
    finally:
        mp.undo()
    return result, detectors[0]


def _silero_whole(wav: np.ndarray, cfg: VadConfig) -> list[tuple[int, int]]:
    """silero's own timestamps for its sequence model over the whole array in one call."""
    silero = vad._import_silero()
    from silero_vad.sequence_vad import get_speech_timestamps_sequence

    stamps = get_speech_timestamps_sequence(
        wav,
        silero.load_silero_vad(sequence=True),
        threshold=cfg.threshold,
        sampling_rate=SR,
        min_speech_duration_ms=cfg.min_speech_ms,
        min_silence_duration_ms=cfg.min_silence_ms,
        speech_pad_ms=cfg.speech_pad_ms,
    )
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def test_the_onnx_stream_gives_the_torch_streaming_models_probabilities(talk) -> None:  # type: ignore[no-untyped-def]
    """silero's reference: its torch model, one 512-sample window per call, state carried."""
    import torch

    wav = load_16k_mono(talk)[: 20 * SR]
    stream = vad.SileroStream()
    got = np.concatenate([stream.probabilities(wav[: BLOCK // 3]), stream.probabilities(wav[BLOCK // 3 :])])
    reference = vad._import_silero().load_silero_vad()
    padded = np.pad(wav, (0, -wav.size % 512))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            expected = np.array(
                [
                    reference(torch.from_numpy(padded[i : i + 512]), SR).item()
                    for i in range(0, padded.size, 512)
                ]
            )
    finally:
        torch.set_num_threads(threads)
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) < 1e-3
    assert (got > 0.5).sum() > 0.3 * got.size  # speech was heard: not a trivially equal pair of zeros


def test_streamed_vad_finds_the_segments_silero_finds_on_the_whole_array(streamed, talk) -> None:  # type: ignore[no-untyped-def]
    result, detector = streamed
    assert detector.blocks_run >= 2 and detector.blocks_skipped == 0  # a block edge was crossed
    wav = load_16k_mono(talk)
    cfg = VadConfig()
    expected = shape_segments(_silero_whole(wav, cfg), wav.size, cfg)
    got = [(round(s.start_s * SR), round(s.end_s * SR)) for s in result.segments]
    assert len(expected) >= 8
    assert abs(len(got) - len(expected)) <= 1
    for a, b in expected:
        assert any(abs(a - c) <= 0.1 * SR and abs(b - d) <= 0.1 * SR for c, d in got), (a / SR, b / SR)
    # In fact identical: silero's recurrent state runs on across block edges, so the per-window
    # probabilities are those of one pass over the whole array.
    assert got == expected


def test_the_model_reads_each_segment_back_from_the_spool(streamed, talk, model) -> None:  # type: ignore[no-untyped-def]
    result, _ = streamed
    wav = load_16k_mono(talk)
    bounds = [(round(s.start_s * SR), round(s.end_s * SR)) for s in result.segments]
    in_memory = model.score_many([wav[a:b] for a, b in bounds])
    for seg, ref in zip(result.segments, in_memory, strict=True):
        # The spool is PCM16: the model's input differs from the float array by rounding only.
        np.testing.assert_allclose(seg.probabilities, ref.probabilities, atol=2e-3)
        cos = (
            np.dot(seg.embedding, ref.embedding)
            / np.linalg.norm(seg.embedding)
            / np.linalg.norm(ref.embedding)
        )
        assert cos > 0.9999, (seg.start_s, cos)


def test_the_processed_audio_is_the_whole_recording_at_16k_mono(streamed, talk) -> None:  # type: ignore[no-untyped-def]
    result, _ = streamed
    assert result.audio_path is not None and result.audio_path.exists()
    info = sf.info(str(result.audio_path))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (SR, 1, "PCM_16", "WAV")
    audio, _ = sf.read(result.audio_path, dtype="float32")
    wav = load_16k_mono(talk)
    assert audio.size == wav.size
    assert result.duration_s == pytest.approx(wav.size / SR)
    assert result.duration_s == pytest.approx(sf.info(str(talk)).duration, abs=0.01)
    np.testing.assert_allclose(audio, wav, atol=1.5 / 32768)  # PCM16 rounding


# -- digital silence -------------------------------------------------------------------------


def _silent_flac(path: Path, minutes: float, *, speech_at_s: float | None = None) -> float:
    """`minutes` of 16 kHz digital silence as FLAC, written a minute at a time, with one spoken
    sentence starting at `speech_at_s`; returns the sentence's length in seconds."""
    speech = np.zeros(0, np.float32)
    if speech_at_s is not None:
        x, rate = espeak("I keep going over the same worries again and again.")
        speech = 0.8 * soxr.resample(x, rate, SR).astype(np.float32)
    start = int((speech_at_s or 0) * SR)
    total = int(minutes * 60 * SR)
    with sf.SoundFile(path, "w", SR, 1, "PCM_16", format="FLAC") as f:
        for pos in range(0, total, 60 * SR):
            block = np.zeros(min(60 * SR, total - pos), np.float32)
            a, b = max(start, pos), min(start + speech.size, pos + block.size)
            if a < b:
                block[a - pos : b - pos] = speech[a - start : b - start]
            f.write(block)
    return speech.size / SR


@pytest.fixture
def silero_calls(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """How many VAD blocks were given to silero."""
    calls: list[int] = []
    real = vad.SileroStream.probabilities

    def spy(self: vad.SileroStream, x: np.ndarray) -> np.ndarray:
        calls.append(-(-x.size // vad.WINDOW))
        return real(self, x)

    monkeypatch.setattr(vad.SileroStream, "probabilities", spy)
    return calls


def test_digital_silence_is_never_given_to_silero(model, tmp_path, silero_calls) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "silence.flac"
    _silent_flac(path, 30)
    with pytest.raises(NoSpeechError, match="No speech was found"):
        analyse_file(path, model)
    assert silero_calls == []


def test_speech_in_a_long_silent_recording_is_found_where_it_is(model, tmp_path, silero_calls) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mostly-silent.flac"
    spoken = _silent_flac(path, 30, speech_at_s=600.0)
    result = analyse_file(path, model, audio_out=tmp_path / "processed_audio.wav")
    assert result.segments
    for seg in result.segments:
        assert 599.5 < seg.start_s < seg.end_s < 600.5 + spoken, (seg.start_s, seg.end_s)
    assert result.analysed_s > 0.6 * spoken
    assert 1 <= len(silero_calls) <= 2  # the block(s) holding the sentence, of 59
    assert result.duration_s == pytest.approx(1800.0)
    assert sf.info(str(tmp_path / "processed_audio.wav")).frames == 1800 * SR


class _FakeSilero:
    """Stands in for silero: scores every window as speech and records the windows it was given
    and its state resets."""

    windows: list[int] = []
    resets = 0

    def reset_states(self) -> None:
        type(self).resets += 1

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        n = -(-x.size // vad.WINDOW)
        type(self).windows.append(n)
        return np.full(n, 0.9, np.float32)


@pytest.fixture
def fake_silero(monkeypatch) -> type[_FakeSilero]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_FakeSilero, "windows", [])
    monkeypatch.setattr(_FakeSilero, "resets", 0)
    monkeypatch.setattr(vad, "_model", _FakeSilero)
    return _FakeSilero


def test_only_digital_silence_is_skipped_and_silero_starts_afresh_after_it(fake_silero) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    quiet = (1e-3 * rng.uniform(-1, 1, BLOCK)).astype(np.float32)  # -60 dBFS: room noise, not skipped
    detector = SpeechDetector(VadConfig())
    for block in (quiet, np.zeros(BLOCK, np.float32), quiet[: BLOCK // 2]):
        detector.feed(block)
    regions = detector.regions()
    assert (detector.blocks_run, detector.blocks_skipped) == (2, 1)
    assert fake_silero.resets == 2  # at the start, and after the silent block
    assert sum(fake_silero.windows) == BLOCK // 512 + BLOCK // 2 // 512
    # Every window silero saw was speech, the skipped ones were not: two regions around the gap.
    assert len(regions) == 2
    assert regions[0][0] == 0 and regions[1][1] == detector.samples == 2 * BLOCK + BLOCK // 2
    assert BLOCK - 0.5 * SR < regions[0][1] <= BLOCK + 0.1 * SR
    assert 2 * BLOCK - 0.1 * SR <= regions[1][0] < 2 * BLOCK + 0.5 * SR


def test_silero_runs_on_one_onnxruntime_thread_and_leaves_torchs_threads_alone(talk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import torch

    for name in [m for m in sys.modules if m == "silero_vad" or m.startswith("silero_vad.")]:
        monkeypatch.delitem(sys.modules, name)  # the session below imports silero_vad afresh
    monkeypatch.setattr(vad, "_session", None)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        options = vad._onnx_session().get_session_options()
        assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
        assert "silero_vad" in sys.modules and torch.get_num_threads() == 2
        detector = SpeechDetector(VadConfig())
        detector.feed(load_16k_mono(talk))
        assert detector.regions()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# -- memory -----------------------------------------------------------------------------------

_CHILD = """
import json, sys, tempfile
from pathlib import Path
from ser.engine.model import EmotionModel
from ser.engine.outputs import write_outputs
from ser.engine.pipeline import analyse_file

def peak_mb():  # this process's own high-water mark (ru_maxrss would start from the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

model = EmotionModel.load(sys.argv[1], threads=1, precision="fp32")
peaks = []
for audio in sys.argv[2:]:
    with tempfile.TemporaryDirectory() as tmp:
        result = analyse_file(audio, model, audio_out=Path(tmp) / "processed_audio.wav")
        write_outputs(Path(tmp) / "out", result, input_sha256="0" * 64)
        peaks.append(peak_mb())
print(json.dumps(peaks))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_peak_memory_does_not_grow_with_the_recording(test_model_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One worker-like process analyses a 1-minute and then a 1-hour recording (mostly digital
    silence, with speech), keeping the processed audio and writing the files as the worker does.
    Holding the hour at 16 kHz float32 would take 230 MB; streaming keeps the growth small."""
    short, long = tmp_path / "short.flac", tmp_path / "long.flac"
    _silent_flac(short, 1, speech_at_s=20.0)
    _silent_flac(long, 60, speech_at_s=1800.0)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(test_model_dir), str(short), str(long)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak_short, peak_long = json.loads(out.stdout.strip().splitlines()[-1])
    assert peak_long - peak_short < 100, (peak_short, peak_long)


# -- temp files --------------------------------------------------------------------------------


def _fail_in_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file breaks off after its first block (a damaged file, a vanished disk): the spool has
    been started by then."""
    real = engine_audio._blocks_soundfile

    def broken(path: Path, info: Any) -> Iterator[np.ndarray]:
        blocks = real(path, info)
        yield next(blocks)
        raise OSError("read error")

    monkeypatch.setattr(engine_audio, "_blocks_soundfile", broken)


def _fail_in_model(model: EmotionModel, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model failed")

    monkeypatch.setattr(model, "score_many", boom)


@pytest.mark.parametrize(
    "case, raises",
    [
        ("ok", None),
        ("ok-kept", None),
        ("silent", NoSpeechError),
        ("decode-fails", AudioError),
        ("model-fails", RuntimeError),
    ],
)
def test_no_temp_file_outlives_the_analysis(model, tmp_path, monkeypatch, case, raises) -> None:  # type: ignore[no-untyped-def]
    spool_dir, out_dir = tmp_path / "tmp", tmp_path / "out"
    spool_dir.mkdir()
    out_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    path = tmp_path / "in.wav"
    content = speech_wav_bytes()
    if case == "silent":
        sf.write(path, np.zeros(3 * SR, np.float32), SR)
    else:
        path.write_bytes(content)
    if case == "decode-fails":
        _fail_in_decode(monkeypatch)
    if case == "model-fails":
        _fail_in_model(model, monkeypatch)
    kept = out_dir / "processed_audio.wav"
    audio_out = None if case == "ok" else kept
    if raises is None:
        result = analyse_file(path, model, audio_out=audio_out)
        assert result.audio_path == audio_out
    else:
        with pytest.raises(raises):
            analyse_file(path, model, audio_out=audio_out)
    assert list(spool_dir.iterdir()) == []
    assert list(out_dir.iterdir()) == ([kept] if case == "ok-kept" else [])
    if case == "ok-kept":
        write_outputs(tmp_path / "folder", result, input_sha256="0" * 64)
        assert (tmp_path / "folder" / "processed_audio.wav").read_bytes() == kept.read_bytes()
