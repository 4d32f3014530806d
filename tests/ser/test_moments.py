"""The session page's numbers: the nine scores beside the bars, every segment in a table with a
play button, and the moments to review (highest sad + fearful + angry share; furthest from the
patient's baseline profile)."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from ser import selectors
from ser.engine.labels import EMOTIONS
from ser.models import EmotionAnalysis
from tests.factories import analysed_session

pytestmark = pytest.mark.django_db
NEUTRAL = [0.02, 0.02, 0.02, 0.02, 0.84, 0.02, 0.02, 0.02, 0.02]


def _scores(**shares: float) -> list[float]:
    """Nine scores: the named shares, the rest spread evenly over the other classes."""
    rest = (1 - sum(shares.values())) / (9 - len(shares))
    return [shares.get(e, rest) for e in EMOTIONS]


def _analysis(patient, number: int, segments: list[tuple[float, float, list[float]]]) -> EmotionAnalysis:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, number, scores=NEUTRAL, embedding=np.ones(64))
    analysis = EmotionAnalysis.objects.get(recording__session=session)
    analysis.segments = [[a, b, *s] for a, b, s in segments]
    analysis.segment_count = len(segments)
    analysis.save()
    return analysis


def test_it_formats_times_as_a_clock() -> None:
    assert selectors.clock(12.9) == "0:12"
    assert selectors.clock(75) == "1:15"
    assert selectors.clock(3725.5) == "1:02:05"


def test_it_lists_the_segments_with_the_highest_sad_fearful_angry_share_in_time_order(patient) -> None:  # type: ignore[no-untyped-def]
    analysis = _analysis(
        patient,
        1,
        [
            (0.0, 4.0, _scores(neutral=0.8)),
            (5.0, 9.0, _scores(sad=0.5, fearful=0.2)),  # 0.7 + angry's rest
            (10.0, 10.6, _scores(angry=0.95)),  # the highest, but too short to judge by ear
            (12.0, 15.0, _scores(angry=0.4)),
            (20.0, 24.0, _scores(fearful=0.9)),
        ],
    )
    moments = selectors.moments_to_review(analysis=analysis, n=2)
    assert [m.segment.span for m in moments.items] == ["0:05–0:09", "0:20–0:24"]
    assert all(m.high_distress and m.change is None for m in moments.items)
    first = moments.items[0]
    assert [r.emotion for r in first.distress_shares] == ["angry", "fearful", "sad"]
    assert first.distress_percent == pytest.approx(100 * (0.5 + 0.2 + (0.3 / 7)))
    # The session is its own (first-N) baseline: nothing is compared, and the page says why.
    assert moments.baseline_sessions == [] and "this session is the patient's baseline" in moments.note


def test_it_adds_the_segments_furthest_from_the_patients_baseline(patient) -> None:  # type: ignore[no-untyped-def]
    patient.baseline_n = 2
    patient.save()
    _analysis(patient, 1, [(0.0, 5.0, NEUTRAL)])
    _analysis(patient, 2, [(0.0, 5.0, NEUTRAL)])
    analysis = _analysis(
        patient,
        3,
        [
            (0.0, 5.0, _scores(sad=0.6)),  # the most distress
            (6.0, 9.0, _scores(happy=0.9)),  # no distress, but far from the (neutral) baseline
            (10.0, 14.0, _scores(neutral=0.8)),  # like the baseline
        ],
    )
    moments = selectors.moments_to_review(analysis=analysis, n=1)
    assert moments.baseline_sessions == [1, 2] and moments.baseline_words == "sessions 1, 2"
    assert [m.segment.span for m in moments.items] == ["0:00–0:05", "0:06–0:09"]
    sad, happy = moments.items
    assert sad.high_distress and sad.change is None
    assert not happy.high_distress and happy.change == pytest.approx(0.9 - 0.02, abs=0.02)
    assert happy.shifts[0][0] == "happy" and happy.shifts[0][1] > 80
    assert happy.shifts[1][0] == "neutral" and happy.shifts[1][1] < -70
    assert happy.shift_words.startswith("happy +8") and ", neutral −" in happy.shift_words


def test_the_number_of_moments_is_a_setting(patient, settings) -> None:  # type: ignore[no-untyped-def]
    analysis = _analysis(patient, 1, [(float(i), i + 1.5, _scores(sad=i / 20)) for i in range(0, 20, 2)])
    settings.MOMENTS_TO_REVIEW = 3
    assert len(selectors.moments_to_review(analysis=analysis).items) == 3
    settings.MOMENTS_TO_REVIEW = 0
    assert selectors.moments_to_review(analysis=analysis).items == []


def test_the_session_page_shows_the_scores_moments_and_segments_with_play_buttons(web, patient) -> None:  # type: ignore[no-untyped-def]
    analysis = _analysis(
        patient, 1, [(0.0, 4.0, _scores(neutral=0.8)), (65.25, 70.5, _scores(sad=0.5, fearful=0.3))]
    )
    page = web.get(reverse("ser:session", args=[analysis.recording.session_id])).content.decode()
    # The nine scores as numbers, the dominant one (whose share is the confidence) marked.
    assert "The nine scores" in page
    for e in EMOTIONS:
        assert f'<th scope="row">{e}' in page
    assert (
        '<tr class="dominant"><th scope="row">neutral <span class="tag">dominant · confidence</span>' in page
    )
    assert "0.840" in page and "84.0 %" in page
    # Moments to review, worded for review, each with a play button for its time.
    assert "Moments to review" in page and "For review, not a finding." in page
    assert 'data-start="65.250" data-end="70.500"' in page and "1:05–1:10" in page
    # Every segment in a collapsed table, with play buttons.
    assert '<details class="segments">' in page and "All 2 segments" in page
    assert page.count('class="play"') == 2 + 2
    assert "ser/player.js" in page
