"""Synthetic speech from espeak-ng (a Debian package), for demo data, tests and the benchmark:
real phonation that voice activity detection treats as speech. Never presented as a patient."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass

import numpy as np

TARGET_SR = 16000


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


# --- conversations: two espeak voices taking turns, mixed to one channel, with the truth ----------

THERAPIST_LINES = (
    "How have you been sleeping since we last met?",
    "That sounds hard. What happened on the days it was worse?",
    "When you noticed that feeling, what did you do next?",
    "Let us stay with that for a moment. Where do you feel it in your body?",
    "You said your sister called. How did that conversation go?",
    "What would you like to be different by the next time we meet?",
    "It sounds as if the evenings are the hardest part of the day for you.",
    "Can you tell me more about the work meeting on Tuesday?",
)
PATIENT_LINES = (
    "Not very well, I wake up around four and then I just lie there thinking about everything.",
    "Mostly the days after work, when the office was loud and I could not finish anything at all.",
    "I went for a walk along the river, which helped a little, but the thoughts came back later.",
    "In my chest, a kind of tightness, and my hands get cold when it starts, every single time.",
    "It was better than I expected, we talked about our mother and did not argue for once.",
    "I would like to sleep through one night and to feel that I can manage the mornings again.",
    "Yes, when it gets dark I start going over the day and everything I did wrong in it.",
    "My manager asked about the report and I froze, I could not remember what I had written.",
)
ENROLMENT_TEXT = (
    "I am recording this sample so that the system can recognise my voice in our sessions. "
    "I usually speak at this pace, with questions and short reflections, and sometimes I summarise "
    "what the client has said before we move on. The weather today is mild and the room is quiet. "
    "We will begin the next session on Monday morning, at the usual time, in the same room as before. "
    "Reading a little more helps the profile rest on enough speech to be reliable."
)


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: name (with variant), pitch 0-99, speed in words per minute."""

    name: str
    pitch: int = 50
    speed: int = 165

    def say(self, text: str) -> np.ndarray:
        """16 kHz mono float32."""
        import soxr

        data, sr = espeak(text, voice=self.name, speed=self.speed, pitch=self.pitch)
        return soxr.resample(data, sr, TARGET_SR).astype(np.float32)


@dataclass(frozen=True)
class Conversation:
    """A mono (or two-channel) mix and, per speaker, a 10 ms frame mask of where they speak."""

    mix: np.ndarray  # (n,) 16 kHz mono float32
    channels: np.ndarray  # (n, 2): patient left, therapist right
    active: dict[str, np.ndarray]  # speaker → (frames,) bool, 10 ms frames of their own speech
    overlaps_s: float

    def seconds(self, speaker: str) -> float:
        return float(self.active[speaker].sum()) / 100.0


def frame_mask(intervals: list[tuple[float, float]], frames: int) -> np.ndarray:
    """(frames,) bool, True for 10 ms frames inside any of the intervals (seconds)."""
    mask = np.zeros(frames, bool)
    for a, b in intervals:
        mask[int(round(a * 100)) : int(round(b * 100))] = True
    return mask


def _speech_mask(x: np.ndarray) -> np.ndarray:
    """10 ms frames of one voice's own signal louder than 40 dB under its peak frame."""
    frames = x[: x.size - x.size % 160].reshape(-1, 160)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return rms > max(float(rms.max()), 1e-9) * 10 ** (-40 / 20)


def conversation(
    therapist: Voice,
    patient: Voice,
    *,
    turns: int = 8,
    overlaps: int = 2,
    seed: int = 0,
    therapist_gain: float = 0.5,
    patient_gain: float = 0.5,
) -> Conversation:
    """`turns` exchanges (therapist asks, patient answers) with pauses of 0.3-1.2 s between turns;
    in `overlaps` of them the next speaker starts 0.4 s before the other finishes."""
    rng = np.random.default_rng(seed)
    t = int(0.5 * TARGET_SR)
    placed: list[tuple[str, int, np.ndarray]] = []
    overlap_at = set(
        rng.choice(np.arange(1, 2 * turns), size=min(overlaps, 2 * turns - 1), replace=False).tolist()
    )
    k = 0
    for i in range(turns):
        for who, voice, lines, gain in (
            ("therapist", therapist, THERAPIST_LINES, therapist_gain),
            ("patient", patient, PATIENT_LINES, patient_gain),
        ):
            x = voice.say(lines[i % len(lines)]) * gain
            nz = np.flatnonzero(np.abs(x) > 1e-3)
            x = x[nz[0] : nz[-1] + 1] if nz.size else x
            if k in overlap_at:
                t -= int(0.4 * TARGET_SR)
            placed.append((who, t, x))
            t += x.size + int(rng.uniform(0.3, 1.2) * TARGET_SR)
            k += 1
    n = t + int(0.5 * TARGET_SR)
    channels = np.zeros((n, 2), np.float32)
    frames = n // 160
    active = {"therapist": np.zeros(frames, bool), "patient": np.zeros(frames, bool)}
    for who, start, x in placed:
        col = 0 if who == "patient" else 1
        channels[start : start + x.size, col] += x
        m = _speech_mask(x)
        f0 = start // 160
        active[who][f0 : f0 + m.size] |= m[: frames - f0]
    both = active["therapist"] & active["patient"]
    return Conversation(
        mix=np.clip(channels.sum(axis=1), -1, 1).astype(np.float32),
        channels=channels,
        active=active,
        overlaps_s=float(both.sum()) / 100.0,
    )
