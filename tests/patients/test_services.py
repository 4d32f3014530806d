"""Patient writes: creation is validated and scoped to its owner; the baseline choice is checked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from patients.models import Patient
from patients.services import baseline_set, patient_create
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_patient_with_trimmed_fields(therapist) -> None:  # type: ignore[no-untyped-def]
    patient = patient_create(owner=therapist, display_name="  Robin Roe ", external_id=" MRN-9 ")
    assert (patient.display_name, patient.external_id, patient.owner) == ("Robin Roe", "MRN-9", therapist)


def test_it_refuses_a_record_id_the_therapist_already_uses(therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    patient_create(owner=therapist, display_name="A", external_id="MRN-1")
    with pytest.raises(ValidationError):
        patient_create(owner=therapist, display_name="B", external_id="MRN-1")
    # Record ids are per therapist; blank ids never clash.
    patient_create(owner=other_therapist, display_name="C", external_id="MRN-1")
    patient_create(owner=therapist, display_name="D")
    patient_create(owner=therapist, display_name="E")
    assert Patient.objects.filter(owner=therapist).count() == 3


def test_it_refuses_an_empty_name(therapist) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        patient_create(owner=therapist, display_name="   ")
    assert not Patient.objects.exists()


def test_it_sets_each_kind_of_baseline(patient) -> None:  # type: ignore[no-untyped-def]
    one, two = SessionFactory(patient=patient, number=1), SessionFactory(patient=patient, number=2)
    baseline_set(patient=patient, mode="first_n", n=5)
    assert (patient.baseline_mode, patient.baseline_n, list(patient.baseline_sessions.all())) == (
        "first_n",
        5,
        [],
    )
    baseline_set(patient=patient, mode="session", sessions=[two])
    assert list(patient.baseline_sessions.all()) == [two]
    baseline_set(patient=patient, mode="set", sessions=[one, two])
    assert set(patient.baseline_sessions.all()) == {one, two}


@pytest.mark.parametrize(
    "mode, n, count",
    [
        ("session", 3, 0),
        ("session", 3, 2),
        ("set", 3, 0),
        ("first_n", 0, 0),
        ("first_n", 51, 0),
        ("median", 3, 0),
    ],
)
def test_it_refuses_a_baseline_that_does_not_make_sense(patient, mode, n, count) -> None:  # type: ignore[no-untyped-def]
    sessions = [SessionFactory(patient=patient, number=i + 1) for i in range(count)]
    with pytest.raises(ValidationError):
        baseline_set(patient=patient, mode=mode, n=n, sessions=sessions)
    patient.refresh_from_db()
    assert (patient.baseline_mode, patient.baseline_n) == ("first_n", 3)


def test_it_refuses_another_patients_session_as_baseline(patient) -> None:  # type: ignore[no-untyped-def]
    foreign = SessionFactory()
    with pytest.raises(ValidationError):
        baseline_set(patient=patient, mode="session", sessions=[foreign])
    assert not patient.baseline_sessions.exists()
