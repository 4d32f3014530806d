"""Voice measures across sessions: each measure's usual range from the baseline sessions, the voice
flags (the last K sessions all outside the range on one side, never baseline ones, in plain words),
the speech-weighted combination of a session's recordings, missing values as gaps (NaN, never 0),
and the date range keeping the voice rows with their sessions."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import pytest

from patients.services import baseline_set
from reports.trends import patient_trend
from ser.engine.voice import MEASURE_KEYS
from ser.models import EmotionAnalysis
from sessions.models import TherapySession
from tests.factories import AnalysisFactory, JobFactory, RecordingFactory, analysed_session
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db

F0, RATE, PAUSES = (MEASURE_KEYS.index(k) for k in ("f0_median_hz", "speech_rate", "pause_ratio"))
# Words a flag about a voice measure must never use: it describes the voice, it diagnoses nothing.
DIAGNOSTIC = re.compile(
    r"depress|anxi|disorder|symptom|patholog|disease|parkinson|dysphon|abnormal|impair|suicid|manic|"
    r"mania|psychos|schizo|diagnosed|indicates|\bsign of\b",
    re.IGNORECASE,
)


def voice(**values: float | None) -> dict[str, Any]:
    return {"values": {k: values.get(k) for k in MEASURE_KEYS}, "reasons": {}, "notes": []}


def set_voice(session: TherapySession, **values: float | None) -> None:
    EmotionAnalysis.objects.filter(recording__session=session).update(voice=voice(**values))


@pytest.fixture
def steady(patient, settings):  # type: ignore[no-untyped-def]
    # Six sessions, the first three the baseline (the patient's default: the first 3), with a speech
    # rate of 4.0, 4.2, 3.8 syll/s and a pitch of 180, 181, 182 Hz; the tests set sessions 4–6.
    settings.VOICE_FLAG_SESSIONS = 2
    settings.VOICE_BAND_SD = 2.0
    settings.VOICE_BAND_MIN_REL = 0.05
    sessions = [
        analysed_session(patient, i, scores=NEUTRAL, embedding=_emb(1.0 + i / 100)) for i in range(1, 7)
    ]
    for s, rate, f0 in zip(sessions[:3], (4.0, 4.2, 3.8), (180.0, 181.0, 182.0), strict=True):
        set_voice(s, speech_rate=rate, f0_median_hz=f0, pause_ratio=20.0)
    return sessions


def _voice_flags(patient) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {f.kind: f for f in patient_trend(patient=patient).flags if f.kind.startswith("voice-")}


def test_each_band_is_the_baseline_mean_2_sd_and_at_least_the_minimum_width(patient, steady) -> None:  # type: ignore[no-untyped-def]
    for s in steady[3:]:
        set_voice(s, speech_rate=9.0, f0_median_hz=90.0)  # far off: must not move the bands
    trend = patient_trend(patient=patient)
    rate = trend.voice_bands["speech_rate"]
    sd = float(np.std([4.0, 4.2, 3.8], ddof=1))  # 0.2: 2 SD (0.4) is wider than 5 % of 4.0 (0.2)
    assert rate.mean == pytest.approx(4.0) and rate.n == 3
    assert (rate.low, rate.high) == pytest.approx((4.0 - 2 * sd, 4.0 + 2 * sd))
    f0 = trend.voice_bands["f0_median_hz"]  # SD 1 Hz: 2 SD (2 Hz) is under 5 % of 181 Hz (9.05 Hz)
    assert (f0.low, f0.high) == pytest.approx((181 - 9.05, 181 + 9.05))
    pauses = trend.voice_bands["pause_ratio"]  # no spread at all: the minimum width still holds
    assert (pauses.low, pauses.high) == pytest.approx((19.0, 21.0))
    assert "hnr_db" not in trend.voice_bands  # no baseline values: no band


def test_a_band_needs_two_baseline_values(patient, steady) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[0], speech_rate=4.0)
    set_voice(steady[1], speech_rate=None)
    set_voice(steady[2], speech_rate=None)
    assert "speech_rate" not in patient_trend(patient=patient).voice_bands
    baseline_set(patient=patient, mode="first_n", n=4, sessions=[])
    set_voice(steady[3], speech_rate=4.4)
    assert patient_trend(patient=patient).voice_bands["speech_rate"].n == 2


def test_it_flags_a_measure_below_the_band_in_each_of_the_last_k_sessions_in_plain_words(
    patient, steady
) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[3], speech_rate=4.0, f0_median_hz=181.0)
    set_voice(steady[4], speech_rate=3.0, f0_median_hz=181.0)
    set_voice(steady[5], speech_rate=2.9, f0_median_hz=181.0)
    flags = _voice_flags(patient)
    assert set(flags) == {"voice-speech_rate"}
    flag = flags["voice-speech_rate"]
    assert flag.title == "Speech rate below this patient's usual range"
    assert flag.sessions == (5, 6)
    assert "3.00, 2.90 syll/s" in flag.detail and "3.60–4.40 syll/s" in flag.detail
    assert flag.detail.endswith("For review, not a diagnosis.")
    assert not DIAGNOSTIC.search(flag.title + " " + flag.detail)


def test_it_flags_a_measure_above_the_band_the_same_way(patient, steady) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[4], pause_ratio=30.0)
    set_voice(steady[5], pause_ratio=35.0)
    flag = _voice_flags(patient)["voice-pause_ratio"]
    assert flag.title == "Pause ratio above this patient's usual range"
    assert not DIAGNOSTIC.search(flag.title + " " + flag.detail)


@pytest.mark.parametrize(
    "last_two",
    [
        (4.0, 3.0),  # only the last session is outside
        (3.0, 5.0),  # both outside, on opposite sides
        (3.0, None),  # the last session has no value
    ],
)
def test_it_does_not_flag_unless_every_one_of_the_last_k_is_outside_on_one_side(
    patient, steady, last_two
) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[4], speech_rate=last_two[0])
    set_voice(steady[5], speech_rate=last_two[1])
    trend = patient_trend(patient=patient)
    assert "voice-speech_rate" not in {f.kind for f in trend.flags}
    if last_two == (4.0, 3.0):
        assert trend.voice_beyond(5) == {"speech_rate": "below"}  # marked on the session, not flagged


def test_it_never_flags_baseline_sessions(patient, steady) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[4], speech_rate=3.0)
    set_voice(steady[5], speech_rate=2.9)
    assert "voice-speech_rate" in _voice_flags(patient)
    baseline_set(patient=patient, mode="set", n=3, sessions=[steady[0], steady[1], steady[5]])
    trend = patient_trend(patient=patient)
    assert not [f for f in trend.flags if f.kind.startswith("voice-")]
    assert trend.voice_beyond(5) == {}  # a baseline session is never outside its own range


def test_a_session_with_several_recordings_is_their_speech_weighted_mean(patient, steady) -> None:  # type: ignore[no-untyped-def]
    session = steady[5]
    set_voice(session, speech_rate=3.0, f0_median_hz=200.0)  # its first recording: 300 s of speech
    second = RecordingFactory(session=session, content=b"second recording")
    JobFactory(recording=second)
    AnalysisFactory(
        recording=second,
        scores=NEUTRAL,
        embedding=np.asarray(_emb(1.0), "<f4").tobytes(),
        analysed_s=100.0,
        voice=voice(speech_rate=5.0, f0_median_hz=None),  # no pitch in this one
    )
    trend = patient_trend(patient=patient)
    i = trend.numbers.index(session.number)
    assert trend.voice[i, RATE] == pytest.approx((3.0 * 300 + 5.0 * 100) / 400)
    assert trend.voice[i, F0] == pytest.approx(200.0)  # only the recording that has it
    assert len(trend.analysis_ids[i]) == 2


def test_missing_values_are_gaps_not_zeros(patient, steady) -> None:  # type: ignore[no-untyped-def]
    set_voice(steady[4], speech_rate=None, f0_median_hz=175.0)  # steady[3] keeps {}: never measured
    trend = patient_trend(patient=patient)
    assert np.isnan(trend.voice[3]).all()
    assert np.isnan(trend.voice[4, RATE]) and trend.voice[4, F0] == 175.0
    assert not (trend.voice[np.isfinite(trend.voice)] == 0).any()
    assert trend.voice_row(3) == dict.fromkeys(MEASURE_KEYS)
    assert trend.voice_row(4)["speech_rate"] is None and trend.voice_row(4)["f0_median_hz"] == 175.0
    assert trend.has_voice


def test_the_date_range_keeps_each_voice_row_with_its_session(patient, steady) -> None:  # type: ignore[no-untyped-def]
    for s in steady:
        set_voice(s, speech_rate=float(s.number), f0_median_hz=100.0 + s.number)
    full = patient_trend(patient=patient)
    # Sessions are a week apart from 2026-01-05: 19 Jan to 2 Feb holds sessions 3, 4 and 5.
    part = full.within(date(2026, 1, 19), date(2026, 2, 2))
    assert part.numbers == [3, 4, 5]
    assert part.voice.shape == (3, len(MEASURE_KEYS))
    assert list(part.voice[:, RATE]) == [3.0, 4.0, 5.0]
    assert list(part.voice[:, F0]) == [103.0, 104.0, 105.0]
    assert [part.voice_row(i)["speech_rate"] for i in range(3)] == [3.0, 4.0, 5.0]
    assert part.voice_bands == full.voice_bands  # the range never moves the patient's usual range
    assert list(part.baseline) == [True, False, False]
    empty = full.within(date(2030, 1, 1), None)
    assert empty.count == 0 and empty.voice.shape == (0, len(MEASURE_KEYS)) and not empty.has_voice
