"""Speech segments with silero-vad (its model ships inside the package), shaped for the model:
neighbouring speech merged across short pauses, long stretches split, every piece within
[min_s, max_s]. Silence is never analysed."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .audio import TARGET_SR

_vad_model = None
_vad_lock = threading.Lock()
_run_lock = threading.Lock()  # the model keeps recurrent state: one caller at a time


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
    global _vad_model
    with _vad_lock:
        if _vad_model is None:
            _vad_model = _import_silero().load_silero_vad()
        return _vad_model


def speech_regions(wav16k: np.ndarray, cfg: VadConfig) -> list[tuple[int, int]]:
    """Raw speech regions (sample offsets) from silero-vad."""
    import torch

    get_speech_timestamps = _import_silero().get_speech_timestamps
    if wav16k.size < TARGET_SR // 10:
        return []
    model = _model()
    with _run_lock:
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(wav16k, dtype=np.float32)),
            model,
            threshold=cfg.threshold,
            sampling_rate=TARGET_SR,
            min_speech_duration_ms=cfg.min_speech_ms,
            min_silence_duration_ms=cfg.min_silence_ms,
            speech_pad_ms=cfg.speech_pad_ms,
        )
    return [(int(s["start"]), int(s["end"])) for s in stamps]


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
