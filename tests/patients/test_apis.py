"""The patient API: list (own patients only, paginated), create (validated, 400 in words), detail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_therapists_own_patients_paginated(api, therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    PatientFactory.create_batch(55, owner=therapist)
    PatientFactory(owner=other_therapist, display_name="Not yours")
    first = api.get(reverse("api:patients")).json()
    assert first["count"] == 55 and len(first["results"]) == 50 and first["next"]
    second = api.get(first["next"]).json()
    names = {p["display_name"] for p in first["results"] + second["results"]}
    assert len(names) == 55 and "Not yours" not in names


def test_it_creates_a_patient_and_shows_it(api) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        reverse("api:patients"),
        {"display_name": "Jo Doe", "external_id": "MRN-7", "date_of_birth": "1990-04-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    detail = api.get(reverse("api:patient", args=[body["id"]])).json()
    assert detail == body and detail["date_of_birth"] == "1990-04-01"


@pytest.mark.parametrize(
    "payload", [{}, {"display_name": ""}, {"display_name": "X", "date_of_birth": "soon"}]
)
def test_it_answers_400_for_invalid_input(api, payload) -> None:  # type: ignore[no-untyped-def]
    assert api.post(reverse("api:patients"), payload, format="json").status_code == 400


def test_a_duplicate_record_id_is_a_400_not_a_500(api) -> None:  # type: ignore[no-untyped-def]
    body = {"display_name": "A", "external_id": "MRN-1"}
    assert api.post(reverse("api:patients"), body, format="json").status_code == 201
    response = api.post(reverse("api:patients"), {**body, "display_name": "B"}, format="json")
    assert response.status_code == 400
    assert "external" in response.content.decode().lower() or "record" in response.content.decode().lower()


def test_another_therapists_patient_is_a_404(other_api, patient) -> None:  # type: ignore[no-untyped-def]
    assert other_api.get(reverse("api:patient", args=[patient.pk])).status_code == 404
