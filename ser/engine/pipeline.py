"""From a file on disk to one recording-level result: decode → channel → 16 kHz mono → VAD
segments → emotion2vec+ (batched, fast path) → per-segment scores and embeddings → aggregates.

Per recording: the duration-weighted mean of segment probabilities, the dominant class and its
confidence, the duration-weighted mean of segment embeddings, speech seconds and segment count.
At frame granularity, also 20 ms frame scores (the classifier head applied to every frame's
features, lightly smoothed) and the frame embeddings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .audio import TARGET_SR, load_16k_mono
from .labels import EMOTIONS
from .model import FRAME_RATE, EmotionModel, ModelInfo
from .vad import VadConfig, speech_segments

GRANULARITIES = ("utterance", "frame")
Progress = Callable[[int, int], None]  # (segments done, segments in all)


class NoSpeechError(ValueError):
    """Nothing in the recording could be analysed."""


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    probabilities: np.ndarray  # (9,)
    embedding: np.ndarray  # (D,) float32

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class FrameTrack:
    """20 ms frames of the analysed speech, segment after segment."""

    times_s: np.ndarray  # (T,) start time of each frame in the recording
    probabilities: np.ndarray  # (T, 9) float32, smoothed
    embeddings: np.ndarray  # (T, D) float16 (frame features are for plotting/export, not math)


@dataclass(frozen=True)
class Analysis:
    """A recording's result, plain data: nothing here knows about Django."""

    model: ModelInfo
    granularity: str
    channel: str
    probabilities: np.ndarray  # (9,) duration-weighted mean over segments
    embedding: np.ndarray  # (D,) float32 duration-weighted mean over segments
    duration_s: float
    analysed_s: float  # speech seconds given to the model
    processing_s: float
    segments: list[Segment] = field(default_factory=list)
    frames: FrameTrack | None = None
    audio16k: np.ndarray | None = None  # the processed audio, when kept
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def dominant(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def score_map(self) -> dict[str, float]:
        return {e: float(p) for e, p in zip(EMOTIONS, self.probabilities, strict=True)}


def smooth(probs: np.ndarray, width: int = 5) -> np.ndarray:
    """Centred moving average over `width` frames (100 ms at 5), per class; rows still sum to 1."""
    if probs.shape[0] < 2 or width <= 1:
        return probs
    kernel = np.ones(width) / width
    norm = np.convolve(np.ones(probs.shape[0]), kernel, mode="same")
    out = np.stack([np.convolve(probs[:, c], kernel, mode="same") / norm for c in range(probs.shape[1])], 1)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def analyse_waveform(
    wav16k: np.ndarray,
    model: EmotionModel,
    *,
    granularity: str = "utterance",
    channel: str = "mix",
    vad: VadConfig | None = None,
    progress: Progress | None = None,
    keep_audio: bool = False,
) -> Analysis:
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    t0 = time.perf_counter()
    bounds = speech_segments(wav16k, vad or VadConfig())
    t_vad = time.perf_counter() - t0
    if not bounds:
        raise NoSpeechError(
            "No speech was found in the recording (it may be silent, or the chosen channel may be "
            "empty). Nothing was analysed."
        )
    pieces = [wav16k[a:b] for a, b in bounds]
    done = 0

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, len(pieces))

    t1 = time.perf_counter()
    scores = model.score_many(pieces, frames=granularity == "frame", on_batch=on_batch)
    t_model = time.perf_counter() - t1
    segments = [
        Segment(a / TARGET_SR, b / TARGET_SR, s.probabilities, s.embedding)
        for (a, b), s in zip(bounds, scores, strict=True)
    ]
    w = np.asarray([s.duration_s for s in segments], dtype=np.float64)
    probs = np.average(np.stack([s.probabilities for s in segments]), axis=0, weights=w)
    emb = np.average(np.stack([s.embedding for s in segments]).astype(np.float64), axis=0, weights=w)
    frames = None
    if granularity == "frame":
        times, fprobs, fembs = [], [], []
        for (a, _), s in zip(bounds, scores, strict=True):
            assert s.frame_probabilities is not None and s.frames is not None
            times.append(a / TARGET_SR + np.arange(s.frames.shape[0]) / FRAME_RATE)
            fprobs.append(smooth(s.frame_probabilities))
            fembs.append(s.frames.astype(np.float16))
        frames = FrameTrack(np.concatenate(times), np.concatenate(fprobs), np.concatenate(fembs))
    return Analysis(
        model=model.info,
        granularity=granularity,
        channel=channel,
        probabilities=probs / probs.sum(),
        embedding=emb.astype(np.float32),
        duration_s=wav16k.shape[0] / TARGET_SR,
        analysed_s=float(w.sum()),
        processing_s=time.perf_counter() - t0,
        segments=segments,
        frames=frames,
        audio16k=wav16k if keep_audio else None,
        timings={"vad_s": t_vad, "model_s": t_model},
    )


def analyse_file(
    path: str | os.PathLike[str],
    model: EmotionModel,
    *,
    granularity: str = "utterance",
    channel: str = "mix",
    vad: VadConfig | None = None,
    max_duration_s: float | None = None,
    progress: Progress | None = None,
    keep_audio: bool = False,
) -> Analysis:
    t0 = time.perf_counter()
    wav = load_16k_mono(path, channel=channel, max_duration_s=max_duration_s)
    t_decode = time.perf_counter() - t0
    result = analyse_waveform(
        wav,
        model,
        granularity=granularity,
        channel=channel,
        vad=vad,
        progress=progress,
        keep_audio=keep_audio,
    )
    # The processing time covers decoding and resampling too: it is what the user waited for.
    return replace(
        result, processing_s=time.perf_counter() - t0, timings={"decode_s": t_decode, **result.timings}
    )
