"""Synthetic speech from espeak-ng (a Debian package), for demo data, tests and the benchmark:
real phonation that voice activity detection treats as speech. Never presented as a patient."""

from __future__ import annotations

import io
import subprocess

import numpy as np


def espeak(text: str, *, voice: str = "en-us", speed: int = 165, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Mono float32 speech and its sample rate (espeak-ng speaks at 22.05 kHz)."""
    import soundfile as sf

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    data, sr = sf.read(io.BytesIO(wav), dtype="float32")
    return data, int(sr)
