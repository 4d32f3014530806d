"""Who is speaking: speaker embeddings for the speech segments of a one-channel recording, each
segment labelled patient, therapist or uncertain, segments split where the speaker changes.

The speaker model is Resemblyzer's voice encoder (Jemine 2019; a GE2E-trained 3-layer LSTM, 256-d
embeddings; Apache-2.0), whose weights ship inside its PyPI wheel (`resemblyzer/pretrained.pt`),
so nothing is downloaded at run time. Its package imports librosa and webrtcvad at import time
(librosa brings numba, whose first call compiles for seconds in every new process), so the wheel is
installed without its dependencies and only its weights file is read: the network (an LSTM, a
linear layer, ReLU, L2 norm) and its front end (a 40-band power mel spectrogram, 25 ms windows every
10 ms: librosa's Slaney filterbank and centred, zero-padded STFT) are the few lines below. They
are checked against the real package's output in the tests (a stored known answer).

Attribution, per recording:
1. every speech segment is cut into 1.6 s windows (the encoder's "partial utterance") every
   `hop_s`, each window embedded (one batched pass);
2. the windows are split into two voices by spherical 2-means (cosine); with the therapist's
   enrolled voice profile one centre starts at the profile, so the centres adapt to this
   recording's microphone and room while the naming stays with the profile;
3. inside a segment, a run of windows of the other voice is a turn: the segment is split there,
   at the speech detector's pause nearest to the change when there is one;
4. each piece's embedding (its windows' mean) is assigned to the nearer voice; a piece too short
   to tell, or almost as near to both voices, is "uncertain" and counts for neither;
5. with a profile, the voice nearer to it is the therapist's, provided it is similar enough to be
   the same person (`SAME_VOICE`); otherwise no therapist speech is found and everything is the
   patient's. Without a profile, the voices are "A" and "B" and a person says which is the
   therapist (`name_voices`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import numpy as np

from .audio import TARGET_SR
from .messages import Explained, gettext_noop, render, said, stored_forms

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: the encoder's partial utterance
WINDOW_SAMPLES = WINDOW_FRAMES * HOP
EMBEDDING_DIM = 256
TARGET_DBFS = -30.0  # Resemblyzer's volume normalisation target
WEIGHTS_PACKAGE, WEIGHTS_FILE = "resemblyzer", "pretrained.pt"
BATCH = 128  # windows per LSTM call

PATIENT, THERAPIST, UNCERTAIN = "patient", "therapist", "uncertain"
SPEAKERS = (PATIENT, THERAPIST, UNCERTAIN)
VOICES = ("A", "B")
# Calibrated on espeak-ng conversations (tests/ser/engine/test_speakers.py) and Resemblyzer's own
# published figures (same speaker ≈ 0.75-0.9, different speakers ≈ 0.4-0.65 on utterances):
SAME_VOICE = 0.70  # a voice this similar to the profile is the therapist's
ONE_VOICE = 0.93  # two voice centres this similar are one voice (no second speaker) ...
ONE_VOICE_PITCH_ST = 1.0  # ... when their pitch is also this close (semitones)
MIN_MARGIN = 0.05  # a piece nearer to one voice by less than this is uncertain
MIN_PIECE_S = 0.5  # a piece shorter than this after splitting is uncertain
SNAP_S = 0.4  # a turn goes into a detector pause at most this far beyond the windows around it
# Pitch beside the embedding (prosodic features help diarization: Friedland et al., IEEE TASLP
# 17(5), 2009): each window's median F0 (log scale, standardised over the recording) weighs
# PITCH_WEIGHT against the unit-length embedding. Resemblyzer alone hardly separates two voices of
# one synthesiser at different pitch and speed; the weight was set on such espeak-ng voices.
PITCH_WEIGHT = 0.75
PITCH_SD_FLOOR_ST = 1.5  # one speaker's own intonation is not blown up into two voices
F0_MIN_HZ, F0_MAX_HZ = 70.0, 400.0


class SpeakerModelUnavailableError(Explained, RuntimeError):
    """The speaker model cannot be loaded. The message says what to install."""


class EnrolmentError(Explained, ValueError):
    """A voice sample that cannot make a profile (too little speech). The message says why."""


# --- front end: Resemblyzer's mel spectrogram, without librosa --------------------------------


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp
    )


def _mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@cache
def mel_filterbank() -> np.ndarray:
    """(40, 201) triangular filters from 0 Hz to 8 kHz, Slaney-normalised (librosa.filters.mel)."""
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(TARGET_SR / 2), N_MELS + 2))
    fft_f = np.fft.rfftfreq(N_FFT, d=1.0 / TARGET_SR)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_f)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


@cache
def _hann() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(1 + len // 160, 40) float32 power mel frames (not log), as `resemblyzer.audio.
    wav_to_mel_spectrogram` computes them: centred 400-sample Hann frames every 160 samples, the
    signal zero-padded by 200 at each end."""
    x = np.pad(np.asarray(wav, dtype=np.float32).reshape(-1), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filterbank().T).astype(np.float32)


def normalise_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """The speech at `target_dbfs` RMS, up or down, so the (power) mel - and the voice it
    describes - does not depend on how near the microphone each person sat."""
    x = np.asarray(wav, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    if rms <= 1e-6:
        return x
    return (x * (10 ** (target_dbfs / 20) / rms)).astype(np.float32)


# --- the encoder ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerModelInfo:
    """Provenance of the speaker embeddings (stored with every attribution and profile)."""

    name: str  # "Resemblyzer voice encoder"
    version: str  # the package's version
    revision: str  # "sha256:<16 hex>" of pretrained.pt

    def words(self) -> str:
        return f"{self.name} {self.version} ({self.revision})"


def weights_path() -> Path:
    """Resemblyzer's weights file inside its installed package, found without importing it."""
    spec = importlib_util.find_spec(WEIGHTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / WEIGHTS_FILE
        if path.is_file():
            return path
    raise SpeakerModelUnavailableError(
        gettext_noop(
            "The speaker model (Resemblyzer's voice encoder) is not installed, so speakers cannot be "
            "told apart. Install it with `pip install --no-deps Resemblyzer==0.1.4` (scripts/bootstrap.sh "
            "does), or analyse a channel instead of 'patient only (voice)'."
        )
    )


class SpeakerEncoder:
    """Resemblyzer's network on the CPU (or a CUDA device); load once per process (`load`)."""

    def __init__(self, module: Any, info: SpeakerModelInfo, device: str = "cpu") -> None:
        self._module = module
        self.info = info
        self.device = device
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str = "cpu") -> SpeakerEncoder:
        import torch
        from torch import nn

        weights = Path(path) if path is not None else weights_path()
        try:
            checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
            state = checkpoint["model_state"] if "model_state" in checkpoint else checkpoint
        except (OSError, RuntimeError, KeyError, TypeError) as exc:
            raise SpeakerModelUnavailableError(
                gettext_noop(
                    "The speaker model's weights at %(path)s could not be read (%(error)s). Reinstall "
                    "Resemblyzer==0.1.4."
                ),
                path=str(weights),
                error=str(exc),  # the library's words, kept as they are
            ) from exc

        class _Encoder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, EMBEDDING_DIM)
                self.relu = nn.ReLU()

            def forward(self, mels: Any) -> Any:
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

        module = _Encoder()
        wanted = {k: v for k, v in state.items() if k.split(".")[0] in ("lstm", "linear")}
        missing, _ = module.load_state_dict(wanted, strict=False)
        if missing:
            raise SpeakerModelUnavailableError(
                gettext_noop(
                    "The speaker model's weights at %(path)s lack %(missing)s; reinstall Resemblyzer==0.1.4."
                ),
                path=str(weights),
                missing=", ".join(missing),
            )
        module.eval().to(device)
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
        version = _package_version()
        return cls(module, SpeakerModelInfo("Resemblyzer voice encoder", version, f"sha256:{digest}"), device)

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """(N, 160, 40) mel windows → (N, 256) L2-normalised float32 embeddings."""
        import torch

        out = np.zeros((mels.shape[0], EMBEDDING_DIM), np.float32)
        with self._lock, torch.inference_mode():
            for first in range(0, mels.shape[0], BATCH):
                batch = torch.from_numpy(np.ascontiguousarray(mels[first : first + BATCH])).to(self.device)
                out[first : first + BATCH] = self._module(batch).float().cpu().numpy()
        return out

    def embed_utterance(
        self, wav: np.ndarray, *, rate: float = 1.3, min_coverage: float = 0.75
    ) -> np.ndarray:
        """One utterance's embedding as `VoiceEncoder.embed_utterance` makes it: the normalised
        mean of its 1.6 s partials taken `rate` times a second (the wav as given: no volume
        normalisation or silence trimming here)."""
        starts = partial_starts(len(wav), rate, min_coverage)
        stop = starts[-1] + WINDOW_SAMPLES
        x = np.pad(np.asarray(wav, np.float32), (0, max(0, stop - len(wav))))
        mel = mel_spectrogram(x)
        mels = np.stack([mel[s // HOP : s // HOP + WINDOW_FRAMES] for s in starts])
        return _unit(self.embed_mels(mels).mean(axis=0))


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("Resemblyzer")
    except metadata.PackageNotFoundError:
        return "unknown"


def partial_starts(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[int]:
    """Start samples of the 1.6 s partials of an utterance (`VoiceEncoder.compute_partial_slices`)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((TARGET_SR / rate) / HOP))
    steps = max(1, n_frames - WINDOW_FRAMES + step + 1)
    starts = [i * HOP for i in range(0, steps, step)]
    coverage = (n_samples - starts[-1]) / WINDOW_SAMPLES
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


# --- enrolment -------------------------------------------------------------------------------------

MIN_ENROL_SPEECH_S = 15.0  # less than this cannot make a reliable profile (20-60 s recommended)
MAX_ENROL_SPEECH_S = 120.0  # more adds nothing; the rest is not used


@dataclass(frozen=True)
class Enrolment:
    embedding: np.ndarray  # (256,) float32, unit length
    speech_s: float  # seconds of speech it rests on
    model: SpeakerModelInfo
    pitch_hz: float | None = None  # median F0 of the voiced frames


def f0_frames(x: np.ndarray) -> np.ndarray:
    """F0 (Hz) every 10 ms from 40 ms Hann frames by normalised autocorrelation; NaN where a frame
    is not clearly periodic (peak under 0.5). A speaker cue, not a clinical pitch measure (those
    are Praat's, in voice.py)."""
    n = 640
    x = np.asarray(x, np.float64)
    if x.size < n:
        x = np.pad(x, (0, n - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::HOP]
    frames = (frames - frames.mean(axis=1, keepdims=True)) * np.hanning(n)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, n=2 * n, axis=1)) ** 2, axis=1)[:, :n]
    ac /= np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(TARGET_SR / F0_MAX_HZ), int(TARGET_SR / F0_MIN_HZ)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(lag.size), lag]
    return np.where(peak > 0.5, TARGET_SR / lag, np.nan)


def _median_log_f0(f0: np.ndarray) -> float:
    voiced = f0[np.isfinite(f0)]
    return float(np.median(np.log2(voiced))) if voiced.size >= 5 else float("nan")


def enrol(pieces: Sequence[np.ndarray], encoder: SpeakerEncoder) -> Enrolment:
    """A voice profile from speech pieces of one person (the speech detector's segments of their
    sample): the normalised mean of 1.6 s windows over all of it, as `VoiceEncoder.embed_speaker`
    does per utterance, each piece at the same loudness."""
    used: list[np.ndarray] = []
    total = 0
    for piece in pieces:
        if total >= MAX_ENROL_SPEECH_S * TARGET_SR:
            break
        used.append(piece[: int(MAX_ENROL_SPEECH_S * TARGET_SR) - total])
        total += used[-1].size
    speech_s = total / TARGET_SR
    if speech_s < MIN_ENROL_SPEECH_S:
        raise EnrolmentError(
            gettext_noop(
                "The sample holds only %(speech).0f s of speech; a voice profile needs at least "
                "%(needed).0f s (20-60 s of your own voice, speaking naturally, is best). "
                "Nothing was saved."
            ),
            speech=speech_s,
            needed=MIN_ENROL_SPEECH_S,
        )
    windows, _ = _windows(
        [normalise_volume(p) for p in used], [(0, p.size) for p in used], hop=WINDOW_SAMPLES // 2
    )
    lf0 = _median_log_f0(np.concatenate([f0_frames(p) for p in used]))
    pitch = round(float(2**lf0), 2) if np.isfinite(lf0) else None
    return Enrolment(_unit(encoder.embed_mels(windows).mean(axis=0)), round(speech_s, 2), encoder.info, pitch)


# --- attribution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """Who spoke each piece of speech. `bounds` are the segments after splitting at turns (sample
    offsets); the other lists run parallel to them."""

    bounds: list[tuple[int, int]]
    voices: list[str]  # "A" or "B": the voice each piece is nearer to
    speakers: list[str]  # patient / therapist / uncertain; "" while the voices are not named
    similarity: list[float | None]  # cosine to the therapist's profile (None without one)
    margin: list[float]  # how much nearer the piece is to its voice than to the other
    method: str  # "profile" or "voices" (two voices, a person names them)
    therapist_voice: str  # "A", "B" or "" (not named yet, or the therapist was not heard)
    one_voice: bool  # only one voice was heard
    centres: dict[str, list[float]]  # each voice's centre (256 values), to enrol from later
    pitch_hz: dict[str, float | None]  # each voice's median pitch (a speaker cue, not a measure)
    profile_similarity: dict[str, float]  # each voice centre's cosine to the profile
    model: SpeakerModelInfo
    windows: int
    seconds: float  # time spent
    notes: list[str] = field(default_factory=list)  # English
    # The notes as stored messages ({"msgid", "params"}), to show in the reader's language; a note
    # without one (added by the caller) is its own msgid (`document` pairs them by their English).
    note_messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def named(self) -> bool:
        return all(self.speakers)

    def seconds_of(self, speaker: str) -> float:
        return sum(
            (b - a) / TARGET_SR for (a, b), s in zip(self.bounds, self.speakers, strict=True) if s == speaker
        )

    def voice_seconds(self, voice: str) -> float:
        return sum(
            (b - a) / TARGET_SR for (a, b), v in zip(self.bounds, self.voices, strict=True) if v == voice
        )


def _windows(
    pieces: Sequence[np.ndarray], bounds: Sequence[tuple[int, int]], hop: int
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Mel windows of 1.6 s every `hop` samples over each piece (the last one flush with the
    piece's end; a piece shorter than a window is one window, zero-padded), and for each window
    its piece and sample span in the recording."""
    mels: list[np.ndarray] = []
    spans: list[tuple[int, int, int]] = []
    for i, ((a, b), piece) in enumerate(zip(bounds, pieces, strict=True)):
        n = b - a
        x = np.asarray(piece, np.float32)
        if n <= WINDOW_SAMPLES:
            starts = [0]
            x = np.pad(x, (0, WINDOW_SAMPLES - x.size + 1))
        else:
            last = n - WINDOW_SAMPLES
            starts = list(range(0, last, hop))
            if not starts or starts[-1] != last:
                starts.append(last)
        mel = mel_spectrogram(x)
        for s in starts:
            f = s // HOP
            mels.append(mel[f : f + WINDOW_FRAMES])
            spans.append((i, a + s, min(b, a + s + WINDOW_SAMPLES)))
    if not mels:
        return np.zeros((0, WINDOW_FRAMES, N_MELS), np.float32), []
    return np.stack(mels), spans


def _two_means(
    emb: np.ndarray, weights: np.ndarray, init: tuple[np.ndarray, np.ndarray], iterations: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Spherical 2-means: labels (0/1) and the two unit centres."""
    centres = np.stack([_unit(init[0]), _unit(init[1])]).astype(np.float64)
    labels = np.zeros(emb.shape[0], int)
    for _ in range(iterations):
        new = np.argmax(emb @ centres.T, axis=1)
        for k in (0, 1):
            if np.any(new == k):
                centres[k] = _unit((emb[new == k] * weights[new == k, None]).sum(axis=0))
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
    return labels, centres


def _seed(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starting centres: the window least like the average, then the window least like that one.
    (Never the therapist's profile: started there, the split leaned towards the therapist and kept
    2-6 % less of the patient's speech on the test conversations; the profile only names.)"""
    first = emb[int(np.argmin(emb @ _unit(emb.mean(axis=0))))]
    second = emb[int(np.argmin(emb @ first))]
    return second, first


def _turns(labels: np.ndarray) -> np.ndarray:
    """Window labels along one segment, a lone window between two of the other voice flipped."""
    out = labels.copy()
    for j in range(1, len(out) - 1):
        if out[j - 1] == out[j + 1] != out[j]:
            out[j] = out[j - 1]
    return out


def _split(
    a: int, b: int, spans: list[tuple[int, int]], labels: np.ndarray, gaps: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The segment [a, b) cut where its windows' voice changes. The change lies somewhere around
    the windows either side of it; a turn is usually the longest silence there, so the cut goes
    into the longest of the detector's pauses within SNAP_S of those windows' centres, else
    halfway between the centres of the last window of one voice and the first of the other."""
    cuts: list[int] = []
    centres = [(s + e) // 2 for s, e in spans]
    reach = int(SNAP_S * TARGET_SR)
    for j in range(1, len(labels)):
        if labels[j] != labels[j - 1]:
            point = (centres[j - 1] + centres[j]) // 2
            lo = centres[j - 2] if j >= 2 else centres[j - 1]
            hi = centres[j + 1] if j + 1 < len(centres) else centres[j]
            lo, hi = lo - reach, hi + reach
            inside = [
                (g1 - g0, (g0 + g1) // 2)
                for g0, g1 in gaps
                if a < g0 and g1 < b and lo <= (g0 + g1) // 2 <= hi
            ]
            if inside:
                point = max(inside)[1]
            if (not cuts or point > cuts[-1]) and a < point < b:
                cuts.append(point)
    edges = [a, *cuts, b]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _smooth_within(values: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """Each window averaged with its neighbours in the same segment (1.6 s windows every 0.8 s
    overlap by half: the average speaks for 3.2 s of one voice, less noisy than one window)."""
    out = values.copy()
    for j in range(values.shape[0]):
        near = [k for k in (j - 1, j, j + 1) if 0 <= k < values.shape[0] and piece[k] == piece[j]]
        out[j] = values[near].mean(axis=0)
    return out


def _features(emb: np.ndarray, lf0: np.ndarray) -> tuple[np.ndarray, Any]:
    """The space the voices are told apart in: the embedding less the recording's mean (what is
    common to everyone in the room and the microphone), unit length, beside the standardised log
    pitch × PITCH_WEIGHT; and the map that takes any embedding and pitch (a profile's) there."""
    mean = emb.mean(axis=0)
    finite = np.isfinite(lf0)
    centre = float(np.median(lf0[finite])) if finite.any() else 0.0
    spread = max(float(np.std(lf0[finite])) if finite.sum() > 1 else 0.0, PITCH_SD_FLOOR_ST / 12)

    def to_space(e: np.ndarray, f: np.ndarray) -> np.ndarray:
        e = np.atleast_2d(e) - mean
        e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        z = np.where(np.isfinite(f), (np.atleast_1d(f) - centre) / spread, 0.0)
        x = np.concatenate([e, PITCH_WEIGHT * z[:, None]], axis=1)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    return to_space(emb, lf0), to_space


def attribute(
    pieces: Sequence[np.ndarray],
    bounds: Sequence[tuple[int, int]],
    regions: Sequence[tuple[int, int]],
    encoder: SpeakerEncoder,
    *,
    profile: np.ndarray | None = None,
    profile_pitch_hz: float | None = None,
    hop_s: float = 0.8,
) -> Attribution:
    """Attribute the speech segments `bounds` (sample offsets; `pieces[i]` their audio) to
    speakers. `regions` are the speech detector's raw regions (their gaps are where turns are
    placed when one falls near a change of voice); `profile` the therapist's enrolled voice and
    `profile_pitch_hz` its median pitch."""
    t0 = time.perf_counter()
    notes: list[dict[str, Any]] = []  # stored messages; in English in `Attribution.notes`
    normed = [normalise_volume(p) for p in pieces]
    mels, spans = _windows(normed, bounds, int(hop_s * TARGET_SR))
    n = len(spans)
    raw = encoder.embed_mels(mels).astype(np.float64) if n else np.zeros((0, EMBEDDING_DIM))
    piece_of = np.array([i for i, _, _ in spans], int)
    f0 = [f0_frames(p) for p in normed]
    lf0 = np.array(
        [_median_log_f0(f0[i][(s - bounds[i][0]) // HOP : (e - bounds[i][0]) // HOP]) for i, s, e in spans]
    )
    emb = _smooth_within(raw, piece_of) if n else raw
    lf0_s = (
        _smooth_within(
            np.where(np.isfinite(lf0), lf0, np.nanmedian(lf0) if np.isfinite(lf0).any() else 0.0), piece_of
        )
        if n
        else lf0
    )
    x, to_space = _features(emb, lf0_s) if n else (np.zeros((0, EMBEDDING_DIM + 1)), None)
    prof = _unit(profile).astype(np.float64) if profile is not None else None
    prof_x = None
    if prof is not None and to_space is not None:
        p_lf0 = np.log2(profile_pitch_hz) if profile_pitch_hz else np.nan
        prof_x = to_space(prof, np.array([p_lf0]))[0]
    weights = np.array([(e - s) / TARGET_SR for _, s, e in spans])

    if n >= 2:
        labels, centres = _two_means(x, weights, _seed(x))
        # the voices are found on the smoothed windows; where each window belongs (and so where
        # turns fall) is decided on the window itself, which is sharper in time
        assert to_space is not None
        x_own = to_space(raw, np.where(np.isfinite(lf0), lf0, lf0_s))
        labels = np.argmax(x_own @ centres.T, axis=1)
    else:
        labels, centres = np.zeros(n, int), np.zeros((2, x.shape[1]))
        x_own = x

    # Split each segment where its windows change voice.
    reg = sorted(regions)
    gaps = [(e0, s1) for (_, e0), (s1, _) in zip(reg[:-1], reg[1:], strict=True) if s1 > e0]
    new_bounds: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(bounds):
        ws = np.flatnonzero(piece_of == i)
        if ws.size < 2:
            new_bounds.append((a, b))
            continue
        new_bounds.extend(_split(a, b, [spans[w][1:] for w in ws], _turns(labels[ws]), gaps))

    # Each piece: the windows over it, weighted by the share of each inside it (squared: windows
    # mostly in the piece dominate those that only touch it).
    starts = np.array([s for _, s, _ in spans])
    ends = np.array([e for _, _, e in spans])
    m = len(new_bounds)
    piece_x = np.zeros((m, x.shape[1]))
    piece_raw = np.zeros((m, EMBEDDING_DIM))
    for k, (a, b) in enumerate(new_bounds):
        overlap = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0, None).astype(np.float64)
        share = (overlap / np.maximum(ends - starts, 1)) ** 2
        if share.sum() > 0:
            piece_x[k] = _unit((x_own * share[:, None]).sum(axis=0))
            piece_raw[k] = _unit((raw * share[:, None]).sum(axis=0))
    sims = piece_x @ centres.T if m else np.zeros((0, 2))
    voice_idx = np.argmax(sims, axis=1) if m else np.zeros(0, int)
    margin = np.abs(sims[:, 0] - sims[:, 1]) if m else np.zeros(0)
    durations = np.array([(b - a) / TARGET_SR for a, b in new_bounds])

    # Each voice in the encoder's own space (the profile is compared there) and its pitch.
    raw_centres = (
        np.stack(
            [
                _unit(raw[labels == k].sum(axis=0)) if np.any(labels == k) else _unit(raw.sum(axis=0))
                for k in (0, 1)
            ]
        )
        if n
        else np.zeros((2, EMBEDDING_DIM))
    )
    pitch = (
        {
            v: (
                round(float(2 ** np.nanmedian(lf0[labels == k])), 1)
                if np.isfinite(lf0[labels == k]).any()
                else None
            )
            for k, v in enumerate(VOICES)
        }
        if n
        else {}
    )
    pa, pb = pitch.get("A"), pitch.get("B")
    apart_st = abs(12 * float(np.log2(pa / pb))) if pa and pb else 0.0
    one_voice = n < 2 or bool(
        float(raw_centres[0] @ raw_centres[1]) >= ONE_VOICE and apart_st < ONE_VOICE_PITCH_ST
    )
    if one_voice:
        voice_idx = np.zeros_like(voice_idx)
        raw_centres = np.stack([_unit(raw.sum(axis=0))] * 2) if n else raw_centres
        margin = np.ones_like(margin)
        notes.append(said(gettext_noop("Only one voice was heard in this recording.")))
    voices = [VOICES[int(v)] for v in voice_idx]
    unsure = (margin < MIN_MARGIN) | (durations < MIN_PIECE_S)

    profile_similarity: dict[str, float] = {}
    similarity: list[float | None] = [None] * m
    therapist_voice = ""
    if prof is not None:
        profile_similarity = {v: round(float(raw_centres[k] @ prof), 4) for k, v in enumerate(VOICES)}
        similarity = [round(float(e @ prof), 4) for e in piece_raw]
        # The therapist's voice: the one nearer to the profile where voices are told apart (pitch
        # included), if the encoder finds it the same person at all.
        best = "A" if one_voice or prof_x is None else VOICES[int(np.argmax(centres @ prof_x))]
        if profile_similarity[best] >= SAME_VOICE:
            therapist_voice = best
        else:
            notes.append(
                said(
                    gettext_noop(
                        "The therapist's voice profile matched no voice in this recording (similarity "
                        "%(similarity).2f, needs %(needed).2f): all speech is taken as the patient's."
                    ),
                    similarity=profile_similarity[best],
                    needed=SAME_VOICE,
                )
            )
        speakers = name_speakers(voices, unsure.tolist(), therapist_voice)
    else:
        speakers = [""] * m
    return Attribution(
        bounds=new_bounds,
        voices=voices,
        speakers=speakers,
        similarity=similarity,
        margin=[round(float(v), 4) for v in margin],
        method="profile" if prof is not None else "voices",
        therapist_voice=therapist_voice,
        one_voice=one_voice,
        centres={v: [round(float(c), 6) for c in raw_centres[k]] for k, v in enumerate(VOICES)},
        pitch_hz=pitch,
        profile_similarity=profile_similarity,
        model=encoder.info,
        windows=n,
        seconds=time.perf_counter() - t0,
        notes=[render(m) for m in notes],
        note_messages=notes,
    )


def name_speakers(voices: Sequence[str], unsure: Sequence[bool], therapist_voice: str) -> list[str]:
    """Each piece's speaker once it is known which voice is the therapist's ("" : neither is)."""
    return [
        UNCERTAIN if u else (THERAPIST if therapist_voice and v == therapist_voice else PATIENT)
        for v, u in zip(voices, unsure, strict=True)
    ]


def unsure_of(margin: Sequence[float], bounds: Sequence[tuple[float, float]]) -> list[bool]:
    """Which stored pieces (bounds in seconds) were too short or too close to both voices to tell."""
    return [m < MIN_MARGIN or (b - a) < MIN_PIECE_S for m, (a, b) in zip(margin, bounds, strict=True)]


def document(att: Attribution) -> dict[str, Any]:
    """The `speakers` section of result.json (and of the stored analysis): how the speech was
    attributed, the seconds per speaker, and what it rests on. Per-segment labels live with the
    segments."""
    return {
        "method": att.method,
        "named": att.named,
        "therapist_voice": att.therapist_voice or None,
        "one_voice": att.one_voice,
        "seconds": {
            **{s: round(att.seconds_of(s), 2) for s in SPEAKERS},
            **{f"voice_{v}": round(att.voice_seconds(v), 2) for v in VOICES},
        },
        "profile_similarity": att.profile_similarity or None,
        "pitch_hz": att.pitch_hz,
        "thresholds": {
            "same_voice": SAME_VOICE,
            "one_voice": ONE_VOICE,
            "min_margin": MIN_MARGIN,
            "min_piece_s": MIN_PIECE_S,
            "pitch_weight": PITCH_WEIGHT,
        },
        "model": {"name": att.model.name, "version": att.model.version, "revision": att.model.revision},
        "windows": att.windows,
        "notes": list(att.notes),
        "note_messages": stored_forms(att.notes, att.note_messages),
    }
