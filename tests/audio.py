"""Synthetic test audio: speech-like voiced bursts separated by pauses, written with soundfile."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from ser.testkit.synth import espeak

__all__ = ["conversation", "espeak", "speech_like", "speech_wav_bytes", "wav_bytes"]


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


def conversation(
    turns: list[tuple[str, str]], *, pause_s: float = 1.5, lead_s: float = 1.0, sr: int = 16000
) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Two speakers on two channels: `turns` is [(channel 'left'|'right', text), …]. Returns the
    (frames, 2) float32 audio and where each turn is [(start_s, end_s, channel)]."""
    import soxr

    parts: list[np.ndarray] = [np.zeros((int(lead_s * sr), 2), np.float32)]
    where: list[tuple[float, float, str]] = []
    pos = lead_s
    for channel, text in turns:
        voice, pitch = ("en-us+m3", 40) if channel == "left" else ("en-us+f3", 70)
        speech, rate = espeak(text, voice=voice, pitch=pitch)
        speech = soxr.resample(speech, rate, sr).astype(np.float32)
        block = np.zeros((speech.size, 2), np.float32)
        block[:, 0 if channel == "left" else 1] = 0.8 * speech
        parts += [block, np.zeros((int(pause_s * sr), 2), np.float32)]
        where.append((pos, pos + speech.size / sr, channel))
        pos += speech.size / sr + pause_s
    return np.concatenate(parts), where


def speech_wav_bytes(
    lines: list[tuple[str, str]] | None = None, *, sr: int = 16000, fmt: str = "WAV"
) -> bytes:
    """A two-channel conversation with pauses, as file bytes."""
    audio, _ = conversation(
        lines or [("left", "I felt calmer this week, mostly."), ("right", "What helped the most?")], sr=sr
    )
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format=fmt, subtype="PCM_16")
    return buf.getvalue()
