"""Trajectory, drift from baseline, the patient's band, flags, session map — from stored rows."""

from __future__ import annotations

import numpy as np
import pytest

from patients.services import baseline_set
from reports.trends import patient_trend, session_map, similar_sessions
from tests.factories import analysed_session
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db


def test_drift_is_the_euclidean_distance_from_the_mean_of_the_first_three(patient, history) -> None:  # type: ignore[no-untyped-def]
    trend = patient_trend(patient=patient)
    base = np.mean([_emb(1.0, 0.0), _emb(1.1, 0.05), _emb(0.9, -0.05)], axis=0)
    expected = [
        np.linalg.norm(np.array(e) - base)
        for e in [_emb(1.0), _emb(1.1, 0.05), _emb(0.9, -0.05), _emb(1.05), _emb(0.95, 0.02), _emb(3.0, 2.0)]
    ]
    np.testing.assert_allclose(trend.euclidean, expected, rtol=1e-5)
    assert list(trend.baseline) == [True, True, True, False, False, False]
    own = np.array(expected[:3])
    assert trend.band == pytest.approx(
        (max(0, own.mean() - 2 * own.std(ddof=1)), own.mean() + 2 * own.std(ddof=1))
    )
    assert trend.cosine[-1] > trend.cosine[0] >= 0


def test_it_flags_rising_distress_drift_beyond_the_band_and_low_speech(patient, history) -> None:  # type: ignore[no-untyped-def]
    flags = {f.kind: f for f in patient_trend(patient=patient).flags}
    assert set(flags) == {"rising-distress", "drift", "low-speech"}
    assert flags["drift"].sessions == (6,)
    assert flags["low-speech"].sessions == (4,)
    assert flags["rising-distress"].sessions == (3, 4, 5, 6)


def test_changing_the_baseline_recomputes_drift_at_once(patient, history) -> None:  # type: ignore[no-untyped-def]
    before = patient_trend(patient=patient).euclidean
    baseline_set(patient=patient, mode="session", sessions=[history[5]])
    after = patient_trend(patient=patient)
    assert after.euclidean[5] == pytest.approx(0.0, abs=1e-6)
    assert not np.allclose(before, after.euclidean)
    assert after.band is None and "at least two" in after.baseline_note
    baseline_set(patient=patient, mode="set", sessions=[history[3], history[4]])
    assert list(patient_trend(patient=patient).baseline) == [False, False, False, True, True, False]


def test_another_therapists_session_cannot_be_a_baseline(patient, history, other_therapist) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    from patients.services import patient_create

    theirs = patient_create(owner=other_therapist, display_name="Other")
    foreign = analysed_session(theirs, 1, scores=NEUTRAL, embedding=_emb(5.0))
    with pytest.raises(ValidationError):
        baseline_set(patient=patient, mode="session", sessions=[foreign])


def test_variants_are_never_mixed(patient, history) -> None:  # type: ignore[no-untyped-def]
    analysed_session(patient, 7, scores=NEUTRAL, embedding=[9.0] * 32, variant="emotion2vec_plus_base")
    trend = patient_trend(patient=patient)
    assert trend.variant == "test-checkpoint-64d" and trend.count == 6
    other = patient_trend(patient=patient, variant="emotion2vec_plus_base")
    assert other.count == 1 and other.embeddings.shape == (1, 32)


def test_the_session_map_and_similar_sessions(patient, history) -> None:  # type: ignore[no-untyped-def]
    trend = patient_trend(patient=patient)
    coords = session_map(trend)
    assert coords is not None and coords.shape == (6, 2)
    nearest = similar_sessions(trend, 0, k=2)
    assert nearest[0][0] in (1, 2, 3, 4) and nearest[0][1] <= nearest[1][1]
    assert all(i != 0 for i, _ in nearest)
