"""From a file on disk to one recording-level result: decode → channel → 16 kHz mono → VAD
segments → emotion2vec+ (batched, fast path) → per-segment scores and embeddings → aggregates,
and the voice measures (pitch, loudness, rate, pauses, voice quality: `voice.py`) on the same
segments. Decoding and VAD stream in blocks through a spool file, so memory stays flat however long the
recording (`analyse_file`).

Per recording: the duration-weighted mean of segment probabilities, the dominant class and its
confidence, the duration-weighted mean of segment embeddings, speech seconds and segment count.
At frame granularity, also 20 ms frame scores (the classifier head applied to every frame's
features, lightly smoothed) and the frame embeddings.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from .audio import TARGET_SR, open_wav_16k, probe, read_wav_16k, stream_16k_mono, write_wav_16k
from .labels import EMOTIONS
from .messages import Explained, gettext_noop, render, said
from .model import FRAME_RATE, EmotionModel, ModelInfo
from .speakers import PATIENT, Attribution, SpeakerEncoder, attribute
from .vad import SpeechDetector, VadConfig, shape_segments, speech_regions
from .voice import VoiceResult

GRANULARITIES = ("utterance", "frame")
# "voice": both channels mixed, then only the segments attributed to the patient by their voice
# (`speakers.py`); the other choices pick channels before anything else (`audio.CHANNELS`).
VOICE = "voice"
DEFAULT_MAX_PAUSE_S = 3.0  # a longer silence is a break in the talk (a turn), not a pause
# Stages reported through `progress(stage, done, total)`: speech detection (decoding and resampling
# run with it, block by block) counts 16 kHz samples seen of those the header announced (total 0
# when the container does not say); the model counts segments scored of the segments found.
DETECTING_SPEECH, ANALYSING = "detecting_speech", "analysing"
Progress = Callable[[str, int, int], None]


class NoSpeechError(Explained, ValueError):
    """Nothing in the recording could be analysed."""


@dataclass(frozen=True)
class SpeakerSetup:
    """What "patient only (voice)" needs: the process's speaker encoder and, when the therapist
    has enrolled, their voice profile (256 values)."""

    encoder: SpeakerEncoder
    profile: np.ndarray | None = None
    profile_pitch_hz: float | None = None


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
    audio_path: Path | None = (
        None  # the processed audio (16 kHz mono PCM16 WAV), when kept: the caller's file
    )
    timings: dict[str, float] = field(default_factory=dict)
    # Voice measures on the same segments; None with `voice_error` saying why when they could not
    # be computed (they never fail the emotion analysis), None and "" when they were not asked for.
    voice: VoiceResult | None = None
    voice_error: str = ""  # English
    voice_error_message: dict[str, Any] | None = None  # the same, stored ({"msgid", "params"})
    # "patient only (voice)": who spoke each segment (parallel to `segments`). While the voices are
    # not named (no therapist profile), the aggregates are over all speech and must not be shown
    # as the patient's: `speakers.named` is False.
    speakers: Attribution | None = None

    @property
    def patient_only(self) -> bool:
        return self.speakers is not None

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
    audio_out: str | os.PathLike[str] | None = None,
    voice: bool = True,
    max_pause_s: float = DEFAULT_MAX_PAUSE_S,
    speakers: SpeakerSetup | None = None,
) -> Analysis:
    """A 16 kHz mono array already in memory (short clips, tests). With `audio_out`, the array is
    written there as the processed audio; that file is the caller's. Channel "voice" needs
    `speakers`."""
    _check_granularity(granularity)
    _check_speakers(channel, speakers)
    cfg = vad or VadConfig()
    t0 = time.perf_counter()
    if progress is not None:
        progress(DETECTING_SPEECH, 0, wav16k.shape[0])
    regions = speech_regions(wav16k, cfg)
    bounds = shape_segments(regions, int(wav16k.shape[0]), cfg)
    if progress is not None:
        progress(DETECTING_SPEECH, wav16k.shape[0], wav16k.shape[0])
    t_vad = time.perf_counter() - t0
    _require_speech(bounds)
    out = Path(audio_out) if audio_out is not None else None
    if out is not None:
        write_wav_16k(out, wav16k)
    attribution = _attribute(channel, speakers, [wav16k[a:b] for a, b in bounds], bounds, regions)
    if attribution is not None:
        bounds = attribution.bounds
    pieces = [wav16k[a:b] for a, b in bounds]
    result = _score(pieces, bounds, model, granularity=granularity, progress=progress, speakers=attribution)
    if voice:
        result = _with_voice(result, pieces, bounds, regions, cfg, max_pause_s)
    return replace(
        result,
        channel=channel,
        duration_s=wav16k.shape[0] / TARGET_SR,
        processing_s=time.perf_counter() - t0,
        audio_path=out,
        timings={"vad_s": t_vad, **result.timings},
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
    audio_out: str | os.PathLike[str] | None = None,
    voice: bool = True,
    max_pause_s: float = DEFAULT_MAX_PAUSE_S,
    speakers: SpeakerSetup | None = None,
) -> Analysis:
    """A recording on disk, in bounded memory whatever its length: decode → channel → 16 kHz in
    blocks, each block appended to a PCM16 WAV spool file and fed to the VAD, then the model reads
    each segment back from the spool. So what is in memory is a block, the VAD's per-window
    probabilities and the segments in flight - never the recording.

    With `audio_out`, the spool is written there and kept as the processed audio (`audio_path`); the
    file is then the caller's to remove. Without it, the spool is a private temp file. Either way a
    failure (no speech, bad audio, any exception) leaves no file behind.
    """
    _check_granularity(granularity)
    cfg = vad or VadConfig()
    t0 = time.perf_counter()
    out = Path(audio_out) if audio_out is not None else None
    spool = out if out is not None else _temp_spool()
    kept = False
    try:
        detector = SpeechDetector(cfg)
        _check_speakers(channel, speakers)
        blocks = stream_16k_mono(
            path, channel="mix" if channel == VOICE else channel, max_duration_s=max_duration_s
        )
        expected = int(round(probe(path).duration_s * TARGET_SR))  # the header, already read once
        if progress is not None:
            progress(DETECTING_SPEECH, 0, expected)
        with open_wav_16k(spool) as sink:
            for block in blocks:
                sink.write(np.clip(block, -1.0, 1.0))
                detector.feed(block)
                if progress is not None:
                    progress(DETECTING_SPEECH, min(detector.samples, expected or detector.samples), expected)
        regions = detector.regions()
        t_stream = time.perf_counter() - t0
        bounds = shape_segments(regions, detector.samples, cfg)
        _require_speech(bounds)
        attribution = _attribute(channel, speakers, SpooledPieces(spool, bounds), bounds, regions)
        if attribution is not None:
            bounds = attribution.bounds
        result = _score(
            SpooledPieces(spool, bounds),
            bounds,
            model,
            granularity=granularity,
            progress=progress,
            speakers=attribution,
        )
        if voice:
            result = _with_voice(result, SpooledPieces(spool, bounds), bounds, regions, cfg, max_pause_s)
        kept = out is not None
    finally:
        if not kept:
            spool.unlink(missing_ok=True)
    # The processing time covers decoding and resampling too: it is what the user waited for.
    return replace(
        result,
        channel=channel,
        duration_s=detector.samples / TARGET_SR,
        processing_s=time.perf_counter() - t0,
        audio_path=out,
        timings={"decode_s": t_stream - detector.seconds, "vad_s": detector.seconds, **result.timings},
    )


class SpooledPieces(Sequence[np.ndarray]):
    """The segments' samples, read from the spool file when the model asks for each one: only the
    segments in flight are in memory (each at most 30 s, 1.9 MB)."""

    def __init__(self, path: Path, bounds: list[tuple[int, int]]) -> None:
        self._path = path
        self._bounds = bounds

    def __len__(self) -> int:
        return len(self._bounds)

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> list[np.ndarray]: ...
    def __getitem__(self, i: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        a, b = self._bounds[i]
        return read_wav_16k(self._path, a, b)


def _temp_spool() -> Path:
    fd, name = tempfile.mkstemp(prefix="ser-spool-", suffix=".wav")
    os.close(fd)
    return Path(name)


def voice_measures(
    pieces: Sequence[np.ndarray],
    bounds: list[tuple[int, int]],
    regions: list[tuple[int, int]],
    cfg: VadConfig,
    max_pause_s: float = DEFAULT_MAX_PAUSE_S,
    others: Sequence[tuple[int, int]] = (),
) -> VoiceResult:
    """The voice measures of the segments the model scored; pauses are the gaps between the
    detector's speech regions (a pause is a silence it splits speech at: `min_silence_ms`, up to
    `max_pause_s`; longer gaps are breaks in the talk, such as the other person's turn, and so is
    any gap with someone else's speech in it: `others`, sample offsets)."""
    from . import voice

    return voice.measure(
        pieces,
        bounds,
        regions,
        speech_pad_s=cfg.speech_pad_ms / 1000,
        min_pause_s=cfg.min_silence_ms / 1000,
        max_pause_s=max_pause_s,
        others=others,
    )


def clip_regions(
    regions: Sequence[tuple[int, int]], bounds: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The parts of the detector's speech regions inside the given segments (one speaker's)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(bounds):
        for r0, r1 in regions:
            lo, hi = max(a, r0), min(b, r1)
            if hi > lo:
                out.append((lo, hi))
    return sorted(set(out))


def voice_of_processed(
    path: str | os.PathLike[str],
    segments: Sequence[tuple[float, float]],
    cfg: VadConfig | None = None,
    max_pause_s: float = DEFAULT_MAX_PAUSE_S,
    others: Sequence[tuple[float, float]] = (),
) -> VoiceResult:
    """The voice measures of an earlier analysis, from its processed audio (16 kHz mono WAV) and
    the segments (seconds) its model scored (with speakers: the patient's, and `others` the rest):
    the speech detector runs again for the pauses (it is deterministic), streaming the file in
    blocks."""
    cfg = cfg or VadConfig()
    detector = SpeechDetector(cfg)
    n = probe(path).frames
    block = 10 * TARGET_SR
    for a in range(0, n, block):
        detector.feed(read_wav_16k(path, a, min(n, a + block)))
    regions = detector.regions()
    bounds = [(int(round(a * TARGET_SR)), min(n, int(round(b * TARGET_SR)))) for a, b in segments]
    other = [(int(round(a * TARGET_SR)), min(n, int(round(b * TARGET_SR)))) for a, b in others]
    if other:
        regions = clip_regions(regions, bounds)
    return voice_measures(SpooledPieces(Path(path), bounds), bounds, regions, cfg, max_pause_s, other)


def _with_voice(
    result: Analysis,
    pieces: Sequence[np.ndarray],
    bounds: list[tuple[int, int]],
    regions: list[tuple[int, int]],
    cfg: VadConfig,
    max_pause_s: float,
) -> Analysis:
    """The result with its voice measures; a failure there (a library missing, a signal Praat
    rejects) is said in `voice_error` and never costs the emotion result. With speakers, the
    measures are the patient's: their segments only, and a silence with someone else speaking in
    it is a turn, not a pause."""
    others: list[tuple[int, int]] = []
    att = result.speakers
    if att is not None and att.named:
        keep = [s == PATIENT for s in att.speakers]
        others = [b for b, k in zip(bounds, keep, strict=True) if not k]
        pieces = [p for p, k in zip(pieces, keep, strict=True) if k]
        bounds = [b for b, k in zip(bounds, keep, strict=True) if k]
        regions = clip_regions(regions, bounds)
        if not bounds:
            return _voice_failed(
                result,
                said(
                    gettext_noop("No speech was attributed to the patient, so there is nothing to measure.")
                ),
            )
    try:
        measures = voice_measures(pieces, bounds, regions, cfg, max_pause_s, others)
    except Exception as exc:  # noqa: BLE001 - any failure of the measures leaves the scores intact
        return _voice_failed(
            result,
            said(
                gettext_noop("The voice measures could not be computed (%(error)s)."),
                error=f"{type(exc).__name__}: {exc}",  # the library's words, kept as they are
            ),
        )
    return replace(result, voice=measures, timings={**result.timings, "voice_s": measures.seconds})


def _voice_failed(result: Analysis, message: dict[str, Any]) -> Analysis:
    return replace(result, voice_error=render(message), voice_error_message=message)


def _check_speakers(channel: str, speakers: SpeakerSetup | None) -> None:
    if channel == VOICE and speakers is None:
        raise ValueError("'patient only (voice)' needs the speaker model (speakers=SpeakerSetup(...))")


def _attribute(
    channel: str,
    speakers: SpeakerSetup | None,
    pieces: Sequence[np.ndarray],
    bounds: list[tuple[int, int]],
    regions: list[tuple[int, int]],
) -> Attribution | None:
    if channel != VOICE or speakers is None:
        return None
    return attribute(
        pieces,
        bounds,
        regions,
        speakers.encoder,
        profile=speakers.profile,
        profile_pitch_hz=speakers.profile_pitch_hz,
    )


def aggregate(
    probabilities: np.ndarray, embeddings: np.ndarray, durations: np.ndarray, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """The recording's scores (9,), embedding (D,) float32 and speech seconds: duration-weighted
    means over the segments kept (all when `keep` is None). Raises NoSpeechError when none is."""
    mask = np.ones(len(durations), bool) if keep is None else np.asarray(keep, bool)
    if not mask.any():
        raise NoSpeechError(
            gettext_noop(
                "No speech was attributed to the patient (all of it was the therapist's or uncertain). "
                "Nothing was analysed as the patient's."
            )
        )
    w = np.asarray(durations, np.float64)[mask]
    probs = np.average(np.asarray(probabilities, np.float64)[mask], axis=0, weights=w)
    emb = np.average(np.asarray(embeddings, np.float64)[mask], axis=0, weights=w)
    return probs / probs.sum(), emb.astype(np.float32), float(w.sum())


def _check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")


def _require_speech(bounds: list[tuple[int, int]]) -> None:
    if not bounds:
        raise NoSpeechError(
            gettext_noop(
                "No speech was found in the recording (it may be silent, or the chosen channel may be "
                "empty). Nothing was analysed."
            )
        )


def _score(
    pieces: Sequence[np.ndarray],
    bounds: list[tuple[int, int]],
    model: EmotionModel,
    *,
    granularity: str,
    progress: Progress | None,
    speakers: Attribution | None = None,
) -> Analysis:
    """Model scores per segment and the recording's aggregates (with named speakers: over the
    patient's segments only); the caller fills in the channel, duration, processing time and
    audio."""
    done = 0
    if progress is not None:
        progress(ANALYSING, 0, len(pieces))

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(ANALYSING, done, len(pieces))

    t1 = time.perf_counter()
    scores = model.score_many(pieces, frames=granularity == "frame", on_batch=on_batch)
    t_model = time.perf_counter() - t1
    segments = [
        Segment(a / TARGET_SR, b / TARGET_SR, s.probabilities, s.embedding)
        for (a, b), s in zip(bounds, scores, strict=True)
    ]
    keep = None
    if speakers is not None and speakers.named:
        keep = np.array([s == PATIENT for s in speakers.speakers])
    probs, emb, analysed_s = aggregate(
        np.stack([s.probabilities for s in segments]),
        np.stack([s.embedding for s in segments]),
        np.array([s.duration_s for s in segments]),
        keep,
    )
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
        channel="",
        probabilities=probs,
        embedding=emb,
        duration_s=0.0,
        analysed_s=analysed_s,
        processing_s=0.0,
        segments=segments,
        frames=frames,
        timings={
            "model_s": t_model,
            "threads": float(model.threads),
            **({"speakers_s": speakers.seconds} if speakers is not None else {}),
        },
        speakers=speakers,
    )
