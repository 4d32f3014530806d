"""Speech segments with silero-vad (its models ship inside the package), shaped for the model:
neighbouring speech merged across short pauses, long stretches split, every piece within
[min_s, max_s]. Silence is never analysed.

`SpeechDetector` takes the audio as a stream of blocks (the pipeline feeds it while decoding) and
keeps only per-window probabilities, so memory does not grow with the recording's length; blocks of
digital silence are skipped without running silero.

silero runs as its "sequence" ONNX model on one onnxruntime thread: the same network as the
streaming model, given up to 512 windows (16 s) per call instead of one 32 ms window per call
through torch. On this project's 2-core machine, beside another process busy on both cores, 90 s of
audio took 0.18 s this way against 5.5 s through the torch model on one thread (and 15.7 s on two),
with per-window probabilities within 1e-4 of it. It uses no torch threads, so it neither competes
with the emotion model for them nor changes the process's thread count."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio import TARGET_SR

_session: Any = None
_session_lock = threading.Lock()
WINDOW = 512  # silero-vad's window at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window silero sees before each window
CALL_WINDOWS = 512  # windows per onnxruntime call (16.4 s)
BLOCK_WINDOWS = 960  # a VAD block: 960 windows = 30.72 s of audio
BLOCK = BLOCK_WINDOWS * WINDOW
# Digital silence: a peak below -80 dBFS (about 3 steps of 16-bit audio) is below any microphone's
# noise floor - a muted input, a gap filled with zeros. Such a block costs a max() instead of silero.
SILENT_PEAK = 1e-4
SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"


@dataclass(frozen=True)
class VadConfig:
    min_segment_s: float = 1.0
    max_segment_s: float = 10.0
    merge_gap_s: float = 0.5  # pauses shorter than this join two speech stretches
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 300
    speech_pad_ms: int = 60

    def __post_init__(self) -> None:
        if not 1.0 <= self.min_segment_s <= self.max_segment_s <= 30.0:
            raise ValueError("segment lengths must satisfy 1 s ≤ min ≤ max ≤ 30 s")


def _import_silero():  # type: ignore[no-untyped-def]
    """silero_vad calls torch.set_num_threads(1) when imported, which would leave the emotion model
    on one core for the rest of the process; keep the thread count the process chose."""
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad
    finally:
        torch.set_num_threads(threads)
    return silero_vad


def _onnx_session() -> Any:
    """The process's one onnxruntime session of silero's sequence model, on one thread (its run()
    is thread-safe; the recurrent state lives in each `SileroStream`)."""
    global _session
    with _session_lock:
        if _session is None:
            from importlib import resources

            import onnxruntime

            _import_silero()  # silero_vad.data's package sets torch to one thread when imported

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            path = resources.files("silero_vad.data").joinpath(SEQUENCE_MODEL)
            _session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _session


class SileroStream:
    """silero over consecutive pieces of one stream: its LSTM state and the 64 samples of context
    run on from one call to the next, so the probabilities are those of one pass."""

    def __init__(self) -> None:
        self._session = _onnx_session()
        self.reset_states()

    def reset_states(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """One probability per 512-sample window of `x` (the last window padded with zeros, as
        silero's own get_speech_timestamps does)."""
        windows = -(-x.size // WINDOW)
        frames = np.zeros((windows, WINDOW), np.float32)
        frames.reshape(-1)[: x.size] = x
        out = []
        for first in range(0, windows, CALL_WINDOWS):
            block = frames[first : first + CALL_WINDOWS]
            context = np.empty((block.shape[0], CONTEXT), np.float32)
            context[0] = self._context
            context[1:] = block[:-1, -CONTEXT:]
            self._context = block[-1, -CONTEXT:].copy()
            probs, self._h, self._c = self._session.run(
                ["speech_probs", "hn", "cn"],
                {"input": np.concatenate((context, block), axis=1), "h": self._h, "c": self._c},
            )
            out.append(np.asarray(probs, np.float32).reshape(-1))
        return np.concatenate(out) if out else np.zeros(0, np.float32)


def _model() -> SileroStream:
    return SileroStream()


class SpeechDetector:
    """silero-vad over a stream of 16 kHz blocks of any size, in bounded memory.

    Samples are gathered into blocks of BLOCK_WINDOWS windows; each block's per-window speech
    probabilities are kept (4 bytes per 32 ms: 1.3 MB for 3 hours) and the audio dropped. The model's
    recurrent state runs on from block to block, so the probabilities - and the regions silero's own
    `get_speech_timestamps_from_probs` makes from them at `regions()` - are those of one pass over the
    whole array: nothing is cut at block edges. A block of digital silence (peak below SILENT_PEAK) is
    not given to silero at all: its windows score 0 and the model starts afresh after it.
    """

    def __init__(self, cfg: VadConfig | None = None) -> None:
        self.cfg = cfg or VadConfig()
        self.samples = 0  # fed so far
        self.blocks_run = 0
        self.blocks_skipped = 0
        self.seconds = 0.0  # time spent in the VAD itself
        self._rest = np.zeros(0, np.float32)  # fewer than BLOCK samples, waiting for more
        self._probs: list[np.ndarray] = []
        self._model: Any = None
        self._fresh = True  # the next block silero sees starts a new stream (reset state)
        self._done = False

    def feed(self, block: np.ndarray) -> None:
        if self._done:
            raise RuntimeError("regions() was already called")
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        self.samples += x.size
        if self._rest.size:
            x = np.concatenate([self._rest, x])
        usable = x.size - x.size % BLOCK
        for start in range(0, usable, BLOCK):
            self._run(x[start : start + BLOCK])
        self._rest = x[usable:].copy()  # a copy: a view would keep a caller's whole array alive

    def regions(self) -> list[tuple[int, int]]:
        """Raw speech regions (sample offsets) of everything fed; ends the stream."""
        if self.samples < TARGET_SR // 10:
            self._done = True
            return []
        if not self._done:
            self._done = True
            if self._rest.size:
                self._run(self._rest)
                self._rest = np.zeros(0, np.float32)
        t0 = time.perf_counter()
        probs = np.concatenate(self._probs).tolist() if self._probs else []
        cfg = self.cfg
        stamps = _import_silero().get_speech_timestamps_from_probs(
            probs,
            sampling_rate=TARGET_SR,
            threshold=cfg.threshold,
            min_speech_duration_ms=cfg.min_speech_ms,
            min_silence_duration_ms=cfg.min_silence_ms,
            speech_pad_ms=cfg.speech_pad_ms,
            audio_length_samples=self.samples,
        )
        self.seconds += time.perf_counter() - t0
        return [(int(s["start"]), int(s["end"])) for s in stamps]

    def _run(self, x: np.ndarray) -> None:
        t0 = time.perf_counter()
        windows = -(-x.size // WINDOW)
        if float(np.max(np.abs(x))) < SILENT_PEAK:
            self._probs.append(np.zeros(windows, np.float32))
            self._fresh = True
            self.blocks_skipped += 1
        else:
            if self._model is None:
                self._model = _model()
            if self._fresh:
                self._model.reset_states()
                self._fresh = False
            self._probs.append(self._model.probabilities(x))
            self.blocks_run += 1
        self.seconds += time.perf_counter() - t0


def speech_regions(wav16k: np.ndarray, cfg: VadConfig) -> list[tuple[int, int]]:
    """Raw speech regions (sample offsets) of a whole array: the same detector, fed at once."""
    detector = SpeechDetector(cfg)
    detector.feed(wav16k)
    return detector.regions()


def shape_segments(regions: list[tuple[int, int]], n_samples: int, cfg: VadConfig) -> list[tuple[int, int]]:
    """Merge across short pauses up to max length, split what is longer into equal pieces, and
    widen pieces shorter than min length with the audio around them."""
    sr = TARGET_SR
    max_len, min_len, gap = (
        int(cfg.max_segment_s * sr),
        int(cfg.min_segment_s * sr),
        int(cfg.merge_gap_s * sr),
    )
    merged: list[list[int]] = []
    for start, end in sorted(regions):
        if merged and start - merged[-1][1] <= gap and end - merged[-1][0] <= max_len:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[tuple[int, int]] = []
    for start, end in merged:
        length = end - start
        parts = max(1, -(-length // max_len))  # ceil
        step = length / parts
        pieces.extend(
            (start + int(round(i * step)), start + int(round((i + 1) * step))) for i in range(parts)
        )
    shaped: list[tuple[int, int]] = []
    for start, end in pieces:
        if end - start < min_len:
            pad = (min_len - (end - start)) // 2
            start, end = max(0, start - pad), min(n_samples, end + pad + 1)
            if end - start < min_len:  # at an edge of the audio: extend the other way
                start, end = max(0, end - min_len), min(n_samples, start + min_len)
        shaped.append((start, end))
    return shaped


def speech_segments(wav16k: np.ndarray, cfg: VadConfig | None = None) -> list[tuple[int, int]]:
    cfg = cfg or VadConfig()
    return shape_segments(speech_regions(wav16k, cfg), int(wav16k.shape[0]), cfg)
