"""Speech segments with silero-vad (its model ships inside the package), shaped for the model:
neighbouring speech merged across short pauses, long stretches split, every piece within
[min_s, max_s]. Silence is never analysed.

`SpeechDetector` takes the audio as a stream of blocks (the pipeline feeds it while decoding) and
keeps only per-window probabilities, so memory does not grow with the recording's length; blocks of
digital silence are skipped without running silero."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio import TARGET_SR

_vad_model = None
_vad_lock = threading.Lock()
_run_lock = threading.Lock()  # one VAD run at a time: it sets the process's torch thread count
WINDOW = 512  # silero-vad's window at 16 kHz (32 ms)
BLOCK_WINDOWS = 960  # a VAD block: 960 windows = 30.72 s of audio
BLOCK = BLOCK_WINDOWS * WINDOW
# Digital silence: a peak below -80 dBFS (about 3 steps of 16-bit audio) is below any microphone's
# noise floor - a muted input, a gap filled with zeros. Such a block costs a max() instead of silero.
SILENT_PEAK = 1e-4


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


def _model():  # type: ignore[no-untyped-def]
    """The loaded silero model, used only as a template: each SpeechDetector runs its own copy,
    because the model carries recurrent state from one window to the next across a whole stream."""
    global _vad_model
    with _vad_lock:
        if _vad_model is None:
            _vad_model = _import_silero().load_silero_vad()
        return _vad_model


@contextmanager
def _one_thread() -> Iterator[None]:
    """silero-vad on one torch thread, then the process's count back. silero runs 512-sample windows
    one at a time: far too little work per call for a second thread to help, and on a loaded 2-core
    machine the threads' synchronisation made it 10-50x slower (16 s of audio: 3-10 s on 2 threads,
    0.2-0.3 s on 1). The emotion model, which does need the threads, runs after the VAD, never at the
    same time in this process, and `_run_lock` keeps two VAD callers from undoing each other's count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
            self._probs.append(self._silero(x, windows))
            self.blocks_run += 1
        self.seconds += time.perf_counter() - t0

    def _silero(self, x: np.ndarray, windows: int) -> np.ndarray:
        import torch

        if self._model is None:
            self._model = copy.deepcopy(_model())
        model = self._model
        # As get_speech_timestamps: the last partial window is padded with zeros.
        padded = torch.zeros(windows * WINDOW, dtype=torch.float32)
        padded[: x.size] = torch.from_numpy(x)
        out = np.empty(windows, np.float32)
        with _run_lock, _one_thread(), torch.no_grad():
            if self._fresh:
                model.reset_states()
                self._fresh = False
            for i in range(windows):
                out[i] = model(padded[i * WINDOW : (i + 1) * WINDOW], TARGET_SR).item()
        return out


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
