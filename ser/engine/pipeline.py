"""From a file on disk to one recording-level result.

FunASR's emotion2vec gives one label per input and long inputs exhaust memory, so the audio is cut
into pieces of at most `max_segment_s` and the recording's scores and embedding are the
duration-weighted means of the pieces'.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from .audio import TARGET_SR, load_16k_mono
from .labels import EMOTIONS
from .model import EmotionModel, ModelInfo


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    probabilities: np.ndarray  # (9,)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Analysis:
    """A recording's result, plain data: nothing here knows about Django."""

    model: ModelInfo
    granularity: str
    channel: str
    probabilities: np.ndarray  # (9,) duration-weighted mean over segments
    embedding: np.ndarray  # (D,) float32 duration-weighted mean over segments
    duration_s: float
    analysed_s: float
    processing_s: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def dominant(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def score_map(self) -> dict[str, float]:
        return {e: float(p) for e, p in zip(EMOTIONS, self.probabilities, strict=True)}


class NoSpeechError(ValueError):
    """Nothing in the recording could be analysed."""


def windows(n_samples: int, *, max_segment_s: float, min_segment_s: float = 1.0) -> list[tuple[int, int]]:
    """Fixed windows of at most max_segment_s; a short tail is merged into the previous window
    only while that keeps it within the limit, otherwise it stands alone."""
    step = int(max_segment_s * TARGET_SR)
    bounds = [(s, min(s + step, n_samples)) for s in range(0, n_samples, step)]
    min_len = int(min_segment_s * TARGET_SR)
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_len:
        # Too short to say anything alone; a slightly longer last window is fine for the model.
        last = bounds.pop()
        bounds[-1] = (bounds[-1][0], last[1])
    return bounds


def analyse_waveform(
    wav16k: np.ndarray,
    model: EmotionModel,
    *,
    granularity: str = "utterance",
    channel: str = "mix",
    max_segment_s: float = 30.0,
) -> Analysis:
    t0 = time.perf_counter()
    n = int(wav16k.shape[0])
    if n < TARGET_SR // 4:
        raise NoSpeechError("The recording is shorter than a quarter of a second; nothing to analyse.")
    segments: list[Segment] = []
    embeddings: list[np.ndarray] = []
    weights: list[float] = []
    for a, b in windows(n, max_segment_s=max_segment_s):
        scores = model.score(wav16k[a:b])
        segments.append(Segment(a / TARGET_SR, b / TARGET_SR, scores.probabilities))
        embeddings.append(scores.embedding)
        weights.append((b - a) / TARGET_SR)
    w = np.asarray(weights, dtype=np.float64)
    probs = np.average(np.stack([s.probabilities for s in segments]), axis=0, weights=w)
    emb = np.average(np.stack(embeddings).astype(np.float64), axis=0, weights=w).astype(np.float32)
    return Analysis(
        model=model.info,
        granularity=granularity,
        channel=channel,
        probabilities=probs / probs.sum(),
        embedding=emb,
        duration_s=n / TARGET_SR,
        analysed_s=float(w.sum()),
        processing_s=time.perf_counter() - t0,
        segments=segments,
    )


def analyse_file(
    path: str | os.PathLike[str],
    model: EmotionModel,
    *,
    granularity: str = "utterance",
    channel: str = "mix",
    max_segment_s: float = 30.0,
    max_duration_s: float | None = None,
) -> Analysis:
    t0 = time.perf_counter()
    wav = load_16k_mono(path, channel=channel, max_duration_s=max_duration_s)
    result = analyse_waveform(
        wav, model, granularity=granularity, channel=channel, max_segment_s=max_segment_s
    )
    # processing time covers decode and resampling too: it is what the user waited for.
    return Analysis(**{**result.__dict__, "processing_s": time.perf_counter() - t0})
