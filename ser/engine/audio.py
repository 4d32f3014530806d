"""Audio in: probe from the header, decode, pick a channel, resample to 16 kHz mono.

Limits are checked from the header before any full decode, so a small file that claims hours of
audio is refused without allocating for it. Every failure is an AudioError whose message says what
was wrong in words a user can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

TARGET_SR = 16_000
Channel = Literal["mix", "left", "right"]
CHANNELS: tuple[str, ...] = ("mix", "left", "right")


class AudioError(ValueError):
    """The file is not audio we can analyse; the message is meant for the user."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def probe(path: str | os.PathLike[str], *, max_duration_s: float | None = None) -> AudioInfo:
    """Read the header only. Raises AudioError for empty, undecodable or over-long files."""
    import soundfile as sf

    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        raise AudioError("The file is empty. Choose the session's audio recording and try again.")
    try:
        info = sf.info(str(p))
    except Exception as exc:  # libsndfile's errors are RuntimeError/LibsndfileError subclasses
        raise AudioError(
            "This file could not be read as audio (it may be damaged or not a recording). "
            "Supported formats: WAV, FLAC, OGG, MP3."
        ) from exc
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioError("The audio header is invalid (no sample rate or channels).")
    result = AudioInfo(
        format=str(info.format),
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
    )
    if result.frames <= 0:
        raise AudioError("The recording contains no audio samples.")
    if max_duration_s is not None and result.duration_s > max_duration_s:
        raise AudioError(
            f"The recording is {result.duration_s / 60:.0f} minutes long; the limit is "
            f"{max_duration_s / 60:.0f} minutes. Split it or ask an administrator to raise "
            "SER_MAX_DURATION_S."
        )
    return result


def decode(path: str | os.PathLike[str], *, max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode the whole file to float32 of shape (frames, channels) and its sample rate."""
    import soundfile as sf

    probe(path, max_duration_s=max_duration_s)
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(
            "The audio could not be decoded to the end; the file may be truncated or damaged."
        ) from exc
    if data.shape[0] == 0:
        raise AudioError("The recording contains no audio samples.")
    if not np.isfinite(data).all():
        raise AudioError("The audio contains invalid sample values.")
    return data, int(sr)


def pick_channel(data: np.ndarray, channel: str = "mix") -> np.ndarray:
    """(frames, channels) → (frames,). Mono files give their one channel for any choice."""
    if channel not in CHANNELS:
        raise AudioError(f"Channel must be one of {', '.join(CHANNELS)}, not {channel!r}.")
    if data.ndim == 1:
        return data
    if data.shape[1] == 1:
        return data[:, 0]
    if channel == "left":
        return data[:, 0]
    if channel == "right":
        return data[:, 1]
    return data.mean(axis=1, dtype=np.float32)


def resample(x: np.ndarray, sr: int, target_sr: int = TARGET_SR) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); never drops samples."""
    if sr == target_sr:
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr

    return np.ascontiguousarray(soxr.resample(x, sr, target_sr, quality="HQ"), dtype=np.float32)


def load_16k_mono(
    path: str | os.PathLike[str], *, channel: str = "mix", max_duration_s: float | None = None
) -> np.ndarray:
    """The analysis input: 16 kHz mono float32."""
    data, sr = decode(path, max_duration_s=max_duration_s)
    return resample(pick_channel(data, channel), sr)


def verify_decodes(path: str | os.PathLike[str], info: AudioInfo, *, seconds: float = 1.0) -> None:
    """Decode the first and the last second: catches files whose header promises more than the
    data holds (truncated uploads) without decoding the whole recording in a web request."""
    import soundfile as sf

    n = max(1, min(info.frames, int(seconds * info.sample_rate)))
    try:
        with sf.SoundFile(str(path)) as f:
            head = f.read(n, dtype="float32", always_2d=True)
            tail = head
            if info.frames > n:
                f.seek(info.frames - n)
                tail = f.read(n, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError("The audio could not be decoded; the file may be truncated or damaged.") from exc
    if head.shape[0] < n or tail.shape[0] < n:
        raise AudioError("The audio could not be decoded; the file may be truncated or damaged.")
