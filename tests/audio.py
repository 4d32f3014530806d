"""Synthetic test audio: speech-like voiced bursts separated by pauses, written with soundfile."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def voiced(seconds: float, sr: int, *, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone with syllable-rate amplitude modulation and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4.0 * t)) ** 2
    return (0.25 * x * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def speech_like(seconds: float, sr: int = 16000, *, seed: int = 0, f0: float = 140.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    pos = 0
    while pos < out.size:
        burst = int(rng.uniform(0.8, 2.5) * sr)
        chunk = voiced(burst / sr, sr, f0=f0 * rng.uniform(0.85, 1.2), seed=int(rng.integers(1 << 30)))
        piece = chunk[: min(burst, out.size - pos)]
        out[pos : pos + piece.size] = piece
        pos += burst + int(rng.uniform(0.2, 0.8) * sr)
    return out


def wav_bytes(
    seconds: float = 3.0,
    sr: int = 16000,
    channels: int = 1,
    *,
    seed: int = 0,
    fmt: str = "WAV",
    subtype: str | None = "PCM_16",
) -> bytes:
    chans = [speech_like(seconds, sr, seed=seed + c, f0=120.0 + 60 * c) for c in range(channels)]
    data = np.stack(chans, axis=1) if channels > 1 else chans[0]
    buf = io.BytesIO()
    sf.write(buf, data, sr, format=fmt, subtype=subtype)
    return buf.getvalue()
