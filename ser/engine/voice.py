"""Voice measures beside emotion: pitch, loudness, rate, pauses and voice quality, computed on the
same speech segments the emotion model sees (the chosen channel, 16 kHz mono).

The signal processing is Praat's, through praat-parselmouth (Praat is the reference in clinical
voice research): "To Pitch (ac)" for F0, "To Intensity" for loudness, "To PointProcess (cc)" with
"Get jitter (local)" / "Get shimmer (local)", and the harmonics-to-noise ratio as Praat's
"Voice report" computes it, from the pitch analysis's autocorrelation peaks (checked equal to it;
"To Harmonicity (cc)" would have tripled the cost). Syllable nuclei follow de Jong & Wempe (2009,
Behavior Research Methods 41:385): intensity peaks above a threshold 25 dB under the segment's
99th-percentile intensity, separated by a dip of more than 2 dB, and voiced. Pauses are the
silences the speech detector splits speech at (at least its `min_silence_ms`, 300 ms by default),
between the first and the last speech of the recording.

Everything is computed segment by segment (each at most 30 s), so memory does not grow with the
recording, and each segment also gets its own values for the timeline. A measure that cannot be
computed is None with the reason in `reasons`; nothing here returns NaN.

Intensity is Praat's dB, which treats sample values as pascals: it is not a calibrated sound
pressure level. Compare it within one patient and one recording set-up, never between microphones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audio import TARGET_SR
from .messages import gettext_noop, render, said, stored_forms

PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 500.0
TIME_STEP_S = 0.01
INTENSITY_MIN_PITCH_HZ = 50.0
SILENCE_DB = -25.0  # syllable nuclei: peaks this far under the 99th-percentile intensity are ignored
MIN_DIP_DB = 2.0  # ... and two peaks count as two syllables only with a dip of more than this between
OCTAVE_LOW, OCTAVE_HIGH = 0.75, 1.5  # the speaker's range: 0.75 × Q1 to 1.5 × Q3 of their F0
MIN_VOICED_S = 0.5  # voiced speech needed for the pitch measures
MIN_QUALITY_VOICED_S = 2.0  # voiced speech needed for jitter, shimmer and HNR
CLIP_LEVEL = 32766 / 32768  # a 16-bit sample at (or one step under) full scale
MAX_CLIPPED_PCT = 1.0  # more clipped speech samples than this: voice quality is withheld


@dataclass(frozen=True)
class Measure:
    """One voice measure: how it is named, shown and exported. Values are stored in `unit`."""

    key: str
    label: str
    unit: str  # as shown on pages and in CSV column descriptions
    ucum: str  # the UCUM code FHIR exports carry
    decimals: int
    group: str  # pitch, loudness, rate, pauses, quality
    help: str


MEASURES: tuple[Measure, ...] = (
    Measure(
        "f0_median_hz",
        gettext_noop("Median pitch (F0)"),
        "Hz",
        "Hz",
        1,
        "pitch",
        gettext_noop("median fundamental frequency of voiced speech"),
    ),
    Measure(
        "f0_sd_st",
        gettext_noop("Pitch variability"),
        "st",
        "{semitone}",
        2,
        "pitch",
        gettext_noop("SD of F0 in semitones; low values sound flat or monotonous"),
    ),
    Measure(
        "voiced_fraction",
        gettext_noop("Voiced fraction"),
        "%",
        "%",
        1,
        "pitch",
        gettext_noop("share of speech time with a detectable pitch"),
    ),
    Measure(
        "intensity_median_db",
        gettext_noop("Median loudness"),
        "dB",
        "dB",
        1,
        "loudness",
        gettext_noop("median intensity of speech (Praat dB, not calibrated SPL)"),
    ),
    Measure(
        "intensity_sd_db",
        gettext_noop("Loudness variability"),
        "dB",
        "dB",
        2,
        "loudness",
        gettext_noop("SD of the intensity of speech"),
    ),
    Measure(
        "speech_rate",
        gettext_noop("Speech rate"),
        "syll/s",
        "/s",
        2,
        "rate",
        gettext_noop("syllable nuclei per second from the first to the last speech, pauses included"),
    ),
    Measure(
        "articulation_rate",
        gettext_noop("Articulation rate"),
        "syll/s",
        "/s",
        2,
        "rate",
        gettext_noop("syllable nuclei per second of speaking time, pauses excluded"),
    ),
    Measure(
        "pause_ratio",
        gettext_noop("Pause ratio"),
        "%",
        "%",
        1,
        "pauses",
        gettext_noop("share of the time from the first to the last speech spent in pauses"),
    ),
    Measure(
        "pause_mean_s",
        gettext_noop("Mean pause"),
        "s",
        "s",
        2,
        "pauses",
        gettext_noop("mean length of the pauses"),
    ),
    Measure(
        "pause_longest_s",
        gettext_noop("Longest pause"),
        "s",
        "s",
        2,
        "pauses",
        gettext_noop("length of the longest pause"),
    ),
    Measure(
        "pauses_per_min",
        gettext_noop("Pauses per minute"),
        "/min",
        "/min",
        1,
        "pauses",
        gettext_noop("pauses per minute from the first to the last speech"),
    ),
    Measure(
        "jitter_local",
        gettext_noop("Jitter (local)"),
        "%",
        "%",
        2,
        "quality",
        gettext_noop("cycle-to-cycle variation of the pitch period"),
    ),
    Measure(
        "shimmer_local",
        gettext_noop("Shimmer (local)"),
        "%",
        "%",
        2,
        "quality",
        gettext_noop("cycle-to-cycle variation of the amplitude"),
    ),
    Measure(
        "hnr_db",
        gettext_noop("Harmonics-to-noise ratio"),
        "dB",
        "dB",
        1,
        "quality",
        gettext_noop("periodic against noise energy of voiced speech; low values sound hoarse or breathy"),
    ),
)
MEASURE_KEYS = tuple(m.key for m in MEASURES)
BY_KEY = {m.key: m for m in MEASURES}


@dataclass(frozen=True)
class Contour:
    """Pitch and intensity over the analysed speech, every 10 ms (times in the recording)."""

    times_s: np.ndarray  # (T,) float32
    f0_hz: np.ndarray  # (T,) float32, NaN where unvoiced
    intensity_db: np.ndarray  # (T,) float32


@dataclass(frozen=True)
class VoiceResult:
    values: dict[str, float | None]  # MEASURE_KEYS, in each measure's unit
    reasons: dict[str, str]  # measure key → why it is empty (English)
    notes: list[str]  # about the recording as a whole (clipping, ...) (English)
    segments: list[
        list[float | None]
    ]  # per analysis segment: [f0 median Hz, intensity median dB, voiced %, syllables]
    pauses: list[tuple[float, float]]  # (start_s, end_s) of every pause
    contour: Contour
    counts: dict[str, float]  # syllables, speaking_s, total_s, breaks, voiced_s, clipped_pct
    provenance: dict[str, Any]
    seconds: float = 0.0
    # The same reasons and notes as stored messages ({"msgid", "params"}: `messages.render` shows
    # them in the reader's language); a reason or note without one is its own msgid.
    reason_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    note_messages: list[dict[str, Any]] = field(default_factory=list)

    def stored_reasons(self) -> dict[str, dict[str, Any]]:
        return {k: self.reason_messages.get(k) or said(text) for k, text in self.reasons.items()}

    def stored_notes(self) -> list[dict[str, Any]]:
        return stored_forms(self.notes, self.note_messages)

    def to_json(self) -> dict[str, Any]:
        """What the analysis row stores (everything but the contour, which goes to voice.npz)."""
        return {
            "values": self.values,
            "reasons": self.reasons,
            "reason_messages": self.stored_reasons(),
            "notes": self.notes,
            "note_messages": self.stored_notes(),
            "segments": self.segments,
            "pauses": [[round(a, 3), round(b, 3)] for a, b in self.pauses],
            "counts": self.counts,
            "provenance": self.provenance,
        }


def document(v: VoiceResult) -> dict[str, Any]:
    """The voice section of result.json: each measure with its value (or null and the reason) and
    unit, the notes, the pauses, the counts and the library that computed them. Reasons and notes
    are English; `reason_message` and `note_messages` keep them as messages to translate."""
    why = v.stored_reasons()
    return {
        "measures": {
            k: {
                "value": val,
                "unit": BY_KEY[k].unit,
                **({"reason": v.reasons[k], "reason_message": why[k]} if k in v.reasons else {}),
            }
            for k, val in v.values.items()
        },
        "notes": v.notes,
        "note_messages": v.stored_notes(),
        "pauses": [[round(a, 3), round(b, 3)] for a, b in v.pauses],
        "counts": v.counts,
        "provenance": v.provenance,
    }


def npz_bytes(v: VoiceResult) -> bytes:
    """voice.npz: the contours every 10 ms of analysed speech (times, F0 in Hz with NaN where
    unvoiced, intensity in dB) and the pauses (start, end) in seconds, compressed."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        times_s=v.contour.times_s,
        f0_hz=v.contour.f0_hz,
        intensity_db=v.contour.intensity_db,
        pauses_s=np.asarray(v.pauses, np.float32).reshape(-1, 2),
    )
    return buf.getvalue()


def provenance(min_pause_s: float, max_pause_s: float = 0.0, turns: bool = False) -> dict[str, Any]:
    import parselmouth

    return {
        "library": "praat-parselmouth",
        "version": parselmouth.__version__,
        "praat": parselmouth.PRAAT_VERSION,
        "pitch_floor_hz": PITCH_FLOOR_HZ,
        "pitch_ceiling_hz": PITCH_CEILING_HZ,
        "min_pause_s": min_pause_s,
        "max_pause_s": max_pause_s,
        # the patient's segments only, another speaker's speech in a gap making it a turn
        **({"speaker_turns": True} if turns else {}),
    }


def unavailable(reason: str | dict[str, Any]) -> dict[str, Any]:
    """The stored form of a recording whose voice measures could not be computed at all.
    `reason`: English words, or a stored message (`Analysis.voice_error_message`)."""
    message = reason if isinstance(reason, dict) else said(reason)
    text = render(message)
    return {
        "values": dict.fromkeys(MEASURE_KEYS),
        "reasons": dict.fromkeys(MEASURE_KEYS, text),
        "reason_messages": dict.fromkeys(MEASURE_KEYS, message),
        "notes": [text],
        "note_messages": [message],
        "segments": [],
        "pauses": [],
        "counts": {},
        "provenance": {},
    }


@dataclass
class _Pool:
    """What the segments contribute to the recording's measures."""

    f0: list[np.ndarray] = field(default_factory=list)  # voiced F0 of speech frames
    db: list[np.ndarray] = field(default_factory=list)  # intensity of speech frames
    speech_frames: int = 0
    syllables: int = 0
    clipped: int = 0
    samples: int = 0
    periods: float = 0.0
    jitter: float = 0.0  # period-weighted sums
    shimmer: float = 0.0
    hnr_frames: int = 0
    hnr: float = 0.0  # frame-weighted sum
    times: list[np.ndarray] = field(default_factory=list)
    contour_f0: list[np.ndarray] = field(default_factory=list)
    contour_db: list[np.ndarray] = field(default_factory=list)


def _inside(times: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Which of `times` (s) fall inside one of the (start, end) `regions` (s, sorted)."""
    if regions.size == 0:
        return np.zeros(times.shape, bool)
    i = np.searchsorted(regions[:, 0], times, side="right") - 1
    ok = i >= 0
    out = np.zeros(times.shape, bool)
    out[ok] = times[ok] < regions[i[ok], 1]
    return out


def syllable_nuclei(
    times: np.ndarray, db: np.ndarray, voiced_at: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """de Jong & Wempe's syllable nuclei on one intensity contour: the times of intensity peaks
    above (99th percentile − 25 dB), each with a dip of more than 2 dB before the next peak, that
    are voiced (`voiced_at(times) → bool`)."""
    if db.size < 3:
        return np.zeros(0)
    threshold = max(float(np.quantile(db, 0.99)) + SILENCE_DB, float(db.min()))
    peaks = np.flatnonzero((db[1:-1] > db[:-2]) & (db[1:-1] >= db[2:])) + 1
    peaks = peaks[db[peaks] > threshold]
    if peaks.size == 0:
        return np.zeros(0)
    keep = []
    for j, p in enumerate(peaks):
        # The lowest point before the next peak (after the last peak: to the contour's end, where
        # de Jong & Wempe's script, run on a whole file, has no next peak to compare with).
        nxt = peaks[j + 1] + 1 if j + 1 < peaks.size else db.size
        if db[p] - float(db[p:nxt].min()) > MIN_DIP_DB:
            keep.append(p)
    t = times[np.asarray(keep, dtype=int)]
    return t[voiced_at(t)]


def measure(
    pieces: Sequence[np.ndarray],
    bounds: Sequence[tuple[int, int]],
    regions: Sequence[tuple[int, int]],
    *,
    speech_pad_s: float = 0.0,
    min_pause_s: float = 0.3,
    max_pause_s: float = 0.0,
    others: Sequence[tuple[int, int]] = (),
) -> VoiceResult:
    """Voice measures of one recording: `pieces[i]` is the 16 kHz audio of segment `bounds[i]`
    (sample offsets, the segments the model scored); `regions` are the speech detector's raw speech
    regions (sample offsets, each widened by `speech_pad_s` on both sides), whose gaps of
    `min_pause_s` up to `max_pause_s` (0: no limit) are the pauses. A gap that holds some of
    `others` (sample offsets: another speaker's speech) is a turn, never a pause."""
    import parselmouth
    from parselmouth.praat import call

    t0 = time.perf_counter()
    sr = float(TARGET_SR)
    reg = np.asarray(sorted(regions), dtype=np.float64).reshape(-1, 2) / sr
    other = np.asarray(sorted(others), dtype=np.float64).reshape(-1, 2) / sr
    pool = _Pool()
    per_segment: list[list[float | None]] = []
    owned_from = 0.0
    for (a, b), x in zip(bounds, pieces, strict=True):
        start, end = a / sr, b / sr
        x = np.asarray(x, dtype=np.float64)
        own_lo = max(start, owned_from)  # widened segments may overlap: each moment counts once
        owned_from = max(owned_from, end)
        pool.samples += x.size
        pool.clipped += int(np.count_nonzero(np.abs(x) >= CLIP_LEVEL))
        if x.size < int(0.1 * sr) or float(np.max(np.abs(x))) == 0.0:
            per_segment.append([None, None, 0.0, 0])
            continue
        snd = parselmouth.Sound(x, sampling_frequency=sr, start_time=start)
        pitch = snd.to_pitch_ac(
            time_step=TIME_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ
        )
        ptimes = np.asarray(pitch.xs())
        f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
        strength = np.asarray(pitch.selected_array["strength"], dtype=np.float64)
        # de Jong & Wempe's intensity: a 50 Hz minimum pitch (a 64 ms window), Praat's own time step.
        intensity = snd.to_intensity(minimum_pitch=INTENSITY_MIN_PITCH_HZ, subtract_mean=True)
        itimes = np.asarray(intensity.xs())
        db = np.asarray(intensity.values[0], dtype=np.float64)
        finite = np.isfinite(db)
        itimes, db = itimes[finite], db[finite]

        own_p = (ptimes >= own_lo) & (ptimes < end)
        speech_p = own_p & _inside(ptimes, reg)
        voiced_p = speech_p & (f0 > 0)
        own_i = (itimes >= own_lo) & (itimes < end)
        speech_i = own_i & _inside(itimes, reg)
        pool.f0.append(f0[voiced_p])
        pool.db.append(db[speech_i])
        pool.speech_frames += int(speech_p.sum())

        def voiced_at(t: np.ndarray, _pt: np.ndarray = ptimes, _f0: np.ndarray = f0) -> np.ndarray:
            if _pt.size == 0:
                return np.zeros(t.shape, bool)
            idx = np.clip(np.searchsorted(_pt, t), 0, _pt.size - 1)
            prev = np.clip(idx - 1, 0, _pt.size - 1)
            nearest = np.where(np.abs(_pt[prev] - t) < np.abs(_pt[idx] - t), prev, idx)
            return _f0[nearest] > 0

        nuclei = syllable_nuclei(itimes, db, voiced_at)
        n_syll = int(np.count_nonzero((nuclei >= own_lo) & (nuclei < end)))
        pool.syllables += n_syll

        if voiced_p.any():
            pp = call([snd, pitch], "To PointProcess (cc)")
            periods = float(call(pp, "Get number of periods", 0, 0, 0.0001, 0.02, 1.3))
            if periods >= 3:
                jitter = call(pp, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
                shimmer = call([snd, pp], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
                if np.isfinite(jitter) and np.isfinite(shimmer):
                    pool.periods += periods
                    pool.jitter += jitter * periods
                    pool.shimmer += shimmer * periods
            # HNR as Praat's Voice report gives it: the voiced frames' autocorrelation peak r of
            # the pitch analysis, 10·log10(r / (1 − r)) dB, averaged (no second analysis pass).
            r = np.clip(strength[voiced_p], 1e-15, 1 - 1e-15)
            pool.hnr_frames += int(r.size)
            pool.hnr += float(np.sum(10.0 * np.log10(r / (1.0 - r))))

        contour_t = ptimes[own_p]
        pool.times.append(contour_t)
        pool.contour_f0.append(np.where(f0[own_p] > 0, f0[own_p], np.nan))
        pool.contour_db.append(
            np.interp(contour_t, itimes, db) if itimes.size else np.full(contour_t.shape, np.nan)
        )
        sp = int(speech_p.sum())
        per_segment.append(
            [
                round(float(np.median(f0[voiced_p])), 2) if voiced_p.any() else None,
                round(float(np.median(db[speech_i])), 2) if speech_i.any() else None,
                round(100.0 * int(voiced_p.sum()) / sp, 1) if sp else 0.0,
                n_syll,
            ]
        )

    values: dict[str, float | None] = dict.fromkeys(MEASURE_KEYS)
    reasons: dict[str, dict[str, Any]] = {}  # as stored messages; in English below
    notes: list[dict[str, Any]] = []
    f0_all = np.concatenate(pool.f0) if pool.f0 else np.zeros(0)
    db_all = np.concatenate(pool.db) if pool.db else np.zeros(0)
    voiced_s = f0_all.size * TIME_STEP_S
    clipped_pct = 100.0 * pool.clipped / pool.samples if pool.samples else 0.0

    # Pitch of voiced speech, within the speaker's own range: frames under 0.75 × the first
    # quartile or over 1.5 × the third (Hirst 2011's speaker range) are octave errors of the pitch
    # tracker (halving in creaky voice, doubling), which would otherwise dominate the SD.
    if f0_all.size:
        q1, q3 = np.quantile(f0_all, [0.25, 0.75])
        in_range = f0_all[(f0_all >= OCTAVE_LOW * q1) & (f0_all <= OCTAVE_HIGH * q3)]
    else:
        in_range = f0_all
    if voiced_s >= MIN_VOICED_S and in_range.size:
        median = float(np.median(in_range))
        values["f0_median_hz"] = median
        values["f0_sd_st"] = float(np.std(12.0 * np.log2(in_range / median)))
    else:
        why = said(
            gettext_noop("only %(voiced).1f s of voiced speech was found; pitch needs at least %(needed)g s"),
            voiced=voiced_s,
            needed=MIN_VOICED_S,
        )
        reasons["f0_median_hz"] = reasons["f0_sd_st"] = why
    if pool.speech_frames:
        values["voiced_fraction"] = 100.0 * voiced_s / TIME_STEP_S / pool.speech_frames
    else:
        reasons["voiced_fraction"] = said(gettext_noop("no speech frames"))

    # Loudness of speech: frames inside speech regions, less those quieter than the silence
    # threshold the syllable nuclei use (gaps between words, digital silence in synthetic speech).
    if db_all.size:
        db_all = db_all[db_all >= float(np.quantile(db_all, 0.99)) + SILENCE_DB]
    if db_all.size >= 2:
        values["intensity_median_db"] = float(np.median(db_all))
        values["intensity_sd_db"] = float(np.std(db_all))
    else:
        reasons["intensity_median_db"] = reasons["intensity_sd_db"] = said(gettext_noop("no speech frames"))

    # Pauses and rate: the gaps between speech regions, padding given back. A gap longer than
    # `max_pause_s` is a break in the talk (on the patient's channel, mostly the other person's
    # turn), not a hesitation: it is neither a pause nor part of the time the rates divide by.
    pauses: list[tuple[float, float]] = []
    breaks = 0
    total_s = speaking_s = paused = 0.0
    if reg.size:
        total_s = float(reg[-1, 1] - reg[0, 0]) - 2 * speech_pad_s
        for (_, e0), (s1, _) in zip(reg[:-1], reg[1:], strict=True):
            lo, hi = e0 - speech_pad_s, s1 + speech_pad_s
            someone_else = bool(np.any((other[:, 0] < s1) & (other[:, 1] > e0))) if other.size else False
            if someone_else or (max_pause_s and hi - lo > max_pause_s):
                breaks += 1
                total_s -= hi - lo
            elif hi - lo >= min_pause_s - 1e-9:
                pauses.append((float(lo), float(hi)))
        paused = sum(b - a for a, b in pauses)
        speaking_s = total_s - paused
    if total_s > 0:
        values["pause_ratio"] = 100.0 * paused / total_s
        values["pauses_per_min"] = 60.0 * len(pauses) / total_s
        values["speech_rate"] = pool.syllables / total_s
        if pauses:
            values["pause_mean_s"] = paused / len(pauses)
            values["pause_longest_s"] = max(b - a for a, b in pauses)
        else:
            reasons["pause_mean_s"] = reasons["pause_longest_s"] = said(
                gettext_noop("no pauses of %(min_pause)g s or longer between speech"), min_pause=min_pause_s
            )
        if speaking_s > 0:
            values["articulation_rate"] = pool.syllables / speaking_s
        else:
            reasons["articulation_rate"] = said(gettext_noop("no speaking time"))
    else:
        for key in (
            "pause_ratio",
            "pauses_per_min",
            "speech_rate",
            "articulation_rate",
            "pause_mean_s",
            "pause_longest_s",
        ):
            reasons[key] = said(gettext_noop("no speech was found"))

    # Voice quality, only on enough clean voiced speech.
    quality = ("jitter_local", "shimmer_local", "hnr_db")
    if clipped_pct > MAX_CLIPPED_PCT:
        why = said(
            gettext_noop(
                "%(clipped).1f %% of the speech samples are clipped (at full scale); clipping distorts "
                "jitter, shimmer and HNR, so they are not reported"
            ),
            clipped=clipped_pct,
        )
        reasons.update(dict.fromkeys(quality, why))
    elif voiced_s < MIN_QUALITY_VOICED_S:
        why = said(
            gettext_noop(
                "only %(voiced).1f s of voiced speech; jitter, shimmer and HNR need at least %(needed)g s"
            ),
            voiced=voiced_s,
            needed=MIN_QUALITY_VOICED_S,
        )
        reasons.update(dict.fromkeys(quality, why))
    else:
        if pool.periods > 0:
            values["jitter_local"] = 100.0 * pool.jitter / pool.periods
            values["shimmer_local"] = 100.0 * pool.shimmer / pool.periods
        else:
            reasons["jitter_local"] = reasons["shimmer_local"] = said(
                gettext_noop("no regular glottal periods were found")
            )
        if pool.hnr_frames:
            values["hnr_db"] = pool.hnr / pool.hnr_frames
        else:
            reasons["hnr_db"] = said(gettext_noop("no periodic frames were found"))
    if clipped_pct > 0.1:
        notes.append(
            said(
                gettext_noop(
                    "%(clipped).1f %% of the speech samples are clipped: loudness is understated where "
                    "the recording was too loud."
                ),
                clipped=clipped_pct,
            )
        )

    clean = {k: (None if v is None or not np.isfinite(v) else round(float(v), 4)) for k, v in values.items()}
    for k, v in clean.items():
        if v is None and k not in reasons:
            reasons[k] = said(gettext_noop("could not be computed on this recording"))
    times = np.concatenate(pool.times) if pool.times else np.zeros(0)
    return VoiceResult(
        values=clean,
        reasons={k: render(m) for k, m in reasons.items()},
        notes=[render(m) for m in notes],
        segments=per_segment,
        pauses=pauses,
        contour=Contour(
            times.astype(np.float32),
            (np.concatenate(pool.contour_f0) if pool.contour_f0 else np.zeros(0)).astype(np.float32),
            (np.concatenate(pool.contour_db) if pool.contour_db else np.zeros(0)).astype(np.float32),
        ),
        counts={
            "syllables": pool.syllables,
            "speaking_s": round(float(speaking_s), 3),
            "total_s": round(float(total_s), 3),
            "breaks": breaks,
            "voiced_s": round(voiced_s, 3),
            "clipped_pct": round(clipped_pct, 3),
        },
        provenance=provenance(min_pause_s, max_pause_s, turns=bool(other.size)),
        seconds=time.perf_counter() - t0,
        reason_messages=reasons,
        note_messages=notes,
    )
