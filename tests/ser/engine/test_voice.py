"""Voice measures on signals whose answer is known: synthetic vowels of known F0, espeak-ng speech
at two known speeds, known silences inserted between phrases, amplitude-scaled copies, silence and
clipping. Real Praat (parselmouth) and the real speech detector; no Django."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soxr

from ser.engine.messages import render
from ser.engine.vad import VadConfig, shape_segments, speech_regions
from ser.engine.voice import MEASURE_KEYS, VoiceResult, measure
from tests.audio import espeak

SR = 16000
CFG = VadConfig()


def _measure(x: np.ndarray) -> VoiceResult:
    """The measures as the pipeline takes them: the detector's regions, the model's segments."""
    regions = speech_regions(x, CFG)
    bounds = shape_segments(regions, x.size, CFG)
    return measure(
        [x[a:b] for a, b in bounds],
        bounds,
        regions,
        speech_pad_s=CFG.speech_pad_ms / 1000,
        min_pause_s=CFG.min_silence_ms / 1000,
    )


def _measure_tone(x: np.ndarray) -> VoiceResult:
    """A steady tone is not speech to silero (it is trained to ignore tones): measured as one
    speech segment, as if the detector had found it."""
    return measure([x], [(0, x.size)], [(0, x.size)])


def _vowel(f0: float, seconds: float = 3.0, amp: float = 0.3) -> np.ndarray:
    """A steady vowel-like tone: 14 harmonics of `f0` with a 1/k spectrum, onset and offset ramps."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 15))
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.05)
    x = x * ramp
    return (amp * x / np.max(np.abs(x))).astype(np.float32)


def _speech(text: str, speed: int = 165) -> np.ndarray:
    """espeak-ng speech at 16 kHz, trimmed to its first and last non-silent sample."""
    x, rate = espeak(text, speed=speed)
    x = soxr.resample(x, rate, SR).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 1e-3)
    return x[loud[0] : loud[-1] + 1]


def _no_nans(result: VoiceResult) -> None:
    doc = result.to_json()
    json.dumps(doc, allow_nan=False)  # raises on NaN or infinity anywhere
    assert set(result.values) == set(MEASURE_KEYS)
    for key, value in result.values.items():
        assert (value is None) == (key in result.reasons), key


# -- pitch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("f0", [120.0, 220.0])
def test_median_f0_of_a_vowel_of_known_pitch_is_within_2_percent(f0: float) -> None:
    result = _measure_tone(_vowel(f0))
    assert result.values["f0_median_hz"] == pytest.approx(f0, rel=0.02)
    assert result.values["f0_sd_st"] is not None and result.values["f0_sd_st"] < 0.1  # a steady tone
    assert result.values["voiced_fraction"] is not None and result.values["voiced_fraction"] > 90
    _no_nans(result)


# -- rate ----------------------------------------------------------------------------------------

TEXTS = [
    ("the quick brown fox jumps over the lazy dog and then it runs away into the forest", 22),
    ("yesterday I walked to the market and bought some apples and bread for my family", 22),
]


@pytest.mark.parametrize(("text", "syllables"), TEXTS)
def test_speech_rate_at_110_and_200_words_per_minute_keeps_the_true_ratio(text: str, syllables: int) -> None:
    slow, fast = _speech(text, speed=110), _speech(text, speed=200)
    r_slow, r_fast = _measure(slow), _measure(fast)
    # The same words, so the same syllables: the true ratio of the rates is that of the durations.
    true_ratio = slow.size / fast.size
    measured = r_fast.values["speech_rate"] / r_slow.values["speech_rate"]  # type: ignore[operator]
    assert measured == pytest.approx(true_ratio, rel=0.20), (measured, true_ratio)
    # And the count itself is near the text's syllables at a normal speed.
    assert r_fast.counts["syllables"] == pytest.approx(syllables, rel=0.2)
    for r in (r_slow, r_fast):
        assert r.values["pause_ratio"] == 0.0  # one phrase, no pause of 0.3 s or more
        assert r.values["articulation_rate"] == r.values["speech_rate"]
        _no_nans(r)


def test_inserted_silences_give_the_pause_count_exactly_and_the_ratio_within_5_points() -> None:
    phrases = [
        "I have been sleeping badly",
        "and I feel tired most days",
        "I keep going over the same worries",
        "again and again in the evening",
        "and then I cannot stop",
    ]
    gaps = [0.5, 1.0, 1.5, 2.5]
    rng = np.random.default_rng(0)
    parts: list[np.ndarray] = []
    for i, text in enumerate(phrases):
        parts.append(_speech(text))
        if i < len(gaps):  # room noise at -66 dBFS, not digital silence
            parts.append((5e-4 * rng.standard_normal(int(gaps[i] * SR))).astype(np.float32))
    lead = np.zeros(SR, np.float32)
    x = np.concatenate([lead, *parts, lead])
    result = _measure(x)
    assert len(result.pauses) == len(gaps)
    true_ratio = 100 * sum(gaps) / (sum(p.size for p in parts) / SR)
    assert result.values["pause_ratio"] == pytest.approx(true_ratio, abs=5.0)
    assert result.values["pause_longest_s"] == pytest.approx(2.5, abs=0.15)
    assert result.values["pause_mean_s"] == pytest.approx(np.mean(gaps), abs=0.15)
    minutes = (sum(p.size for p in parts) / SR) / 60
    assert result.values["pauses_per_min"] == pytest.approx(len(gaps) / minutes, rel=0.05)
    # Pauses lie where the silences were.
    starts = np.cumsum([0] + [p.size for p in parts[:-1]]) / SR + 1.0
    gap_starts = [starts[2 * i + 1] for i in range(len(gaps))]
    # Where the silences were, within 0.15 s: silero's speech probability falls a few 32 ms windows
    # after the speech ends, so a pause measures up to ~0.1 s short (0.42 s of a 0.5 s silence here).
    for (a, b), g0, g in zip(result.pauses, gap_starts, gaps, strict=True):
        assert a == pytest.approx(g0, abs=0.15) and b == pytest.approx(g0 + g, abs=0.15)
    # Articulation rate leaves the pauses out: faster than the speech rate.
    assert result.values["articulation_rate"] > result.values["speech_rate"]  # type: ignore[operator]
    _no_nans(result)


# -- loudness ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gain", [0.5, 0.25, 2.0])
def test_an_amplitude_scaled_copy_shifts_intensity_by_its_decibels_and_nothing_else(gain: float) -> None:
    x = _speech("I keep going over the same worries again and again", speed=165) * 0.4
    base, scaled = _measure(x), _measure(x * gain)
    shift = 20 * np.log10(gain)
    assert scaled.values["intensity_median_db"] == pytest.approx(
        base.values["intensity_median_db"] + shift,  # type: ignore[operator]
        abs=0.2,
    )
    assert scaled.values["intensity_sd_db"] == pytest.approx(base.values["intensity_sd_db"], abs=0.3)
    assert scaled.values["f0_median_hz"] == pytest.approx(base.values["f0_median_hz"], rel=0.01)
    assert scaled.counts["syllables"] == base.counts["syllables"]


# -- silence and clipping ------------------------------------------------------------------------


def test_silence_gives_empty_measures_with_reasons_not_nans() -> None:
    x = np.zeros(3 * SR, np.float32)
    result = measure([x], [(0, x.size)], [], speech_pad_s=0.06)
    _no_nans(result)
    assert all(v is None for k, v in result.values.items())
    assert "voiced speech" in result.reasons["f0_median_hz"]
    assert "no speech" in result.reasons["speech_rate"]
    # Each reason is also kept as a message to translate, rendering to the same English.
    stored = result.to_json()["reason_messages"]
    assert {k: render(m) for k, m in stored.items()} == result.reasons
    assert stored["f0_median_hz"]["params"] == {"voiced": 0.0, "needed": 0.5}


def test_clipped_speech_keeps_pitch_and_rate_and_withholds_voice_quality_with_the_reason() -> None:
    x = _speech("I have been sleeping badly and I feel tired most days")
    clipped = np.clip(x * 20, -1.0, 1.0)
    result = _measure(clipped)
    _no_nans(result)
    assert result.values["f0_median_hz"] is not None
    assert result.values["speech_rate"] is not None
    for key in ("jitter_local", "shimmer_local", "hnr_db"):
        assert result.values[key] is None
        assert "clipped" in result.reasons[key]
    assert any("clipped" in note for note in result.notes)
    assert result.counts["clipped_pct"] > 1.0


def test_voice_quality_needs_enough_voiced_speech() -> None:
    result = _measure_tone(_vowel(150.0, seconds=1.2))
    assert result.values["f0_median_hz"] == pytest.approx(150.0, rel=0.02)
    assert result.values["hnr_db"] is None and "at least 2 s" in result.reasons["hnr_db"]


def test_voice_quality_of_clean_speech_is_in_a_plausible_range() -> None:
    result = _measure(_speech("I have been sleeping badly and I feel tired most days, and I worry a lot"))
    jitter, shimmer, hnr = (result.values[k] for k in ("jitter_local", "shimmer_local", "hnr_db"))
    assert jitter is not None and 0 < jitter < 5
    assert shimmer is not None and 0 < shimmer < 30
    assert hnr is not None and 0 < hnr < 40


def test_each_segment_gets_its_own_values_and_the_contour_covers_the_speech() -> None:
    phrases = [_speech("I have been sleeping badly"), _speech("and I feel tired most days")]
    x = np.concatenate([np.zeros(SR, np.float32), phrases[0], np.zeros(2 * SR, np.float32), phrases[1]])
    regions = speech_regions(x, CFG)
    bounds = shape_segments(regions, x.size, CFG)
    result = measure([x[a:b] for a, b in bounds], bounds, regions, speech_pad_s=0.06)
    assert len(result.segments) == len(bounds)
    for f0, db, voiced_pct, syll in result.segments:
        assert f0 is not None and 60 < f0 < 300
        assert db is not None and voiced_pct is not None and syll is not None
        assert 0 <= voiced_pct <= 100 and syll >= 1
    c = result.contour
    assert c.times_s.shape == c.f0_hz.shape == c.intensity_db.shape
    assert np.all(np.diff(c.times_s) > 0)  # each moment once, in order
    assert c.times_s[0] >= bounds[0][0] / SR - 0.01 and c.times_s[-1] <= bounds[-1][1] / SR
    assert np.isnan(c.f0_hz).any() and np.isfinite(c.f0_hz).any()  # unvoiced gaps, voiced speech
    assert result.provenance["library"] == "praat-parselmouth"
    assert result.provenance["praat"]


def test_octave_errors_of_the_pitch_tracker_do_not_inflate_the_variability() -> None:
    # 10 % of the voiced time an octave down (as creaky voice makes the tracker halve).
    x = np.concatenate([_vowel(120.0, 2.7), _vowel(60.0, 0.3)])
    result = _measure_tone(x)
    assert result.values["f0_median_hz"] == pytest.approx(120.0, rel=0.02)
    assert result.values["f0_sd_st"] < 0.5  # type: ignore[operator]  # 12 st for the halved frames otherwise
    assert result.values["voiced_fraction"] > 90  # type: ignore[operator]  # they are still voiced


def test_a_silence_longer_than_the_pause_limit_is_a_break_not_a_pause() -> None:
    first, second = _speech("I have been sleeping badly"), _speech("and I feel tired most days")
    noise = np.random.default_rng(1)

    def gap(seconds: float) -> np.ndarray:
        return (5e-4 * noise.standard_normal(int(seconds * SR))).astype(np.float32)

    x = np.concatenate([gap(1.0), first, gap(1.0), second, gap(5.0), first, gap(1.0)])
    regions = speech_regions(x, CFG)
    bounds = shape_segments(regions, x.size, CFG)
    pieces = [x[a:b] for a, b in bounds]
    limited = measure(pieces, bounds, regions, speech_pad_s=0.06, max_pause_s=3.0)
    unlimited = measure(pieces, bounds, regions, speech_pad_s=0.06, max_pause_s=0.0)
    assert len(limited.pauses) == 1 and limited.counts["breaks"] == 1
    assert len(unlimited.pauses) == 2 and unlimited.counts["breaks"] == 0
    # The break is not part of the time the rates divide by.
    speech_s = (2 * first.size + second.size) / SR + 1.0
    assert limited.counts["total_s"] == pytest.approx(speech_s, abs=0.2)
    assert unlimited.counts["total_s"] == pytest.approx(speech_s + 5.0, abs=0.2)
    assert limited.values["speech_rate"] > unlimited.values["speech_rate"]  # type: ignore[operator]
    assert limited.provenance["max_pause_s"] == 3.0
