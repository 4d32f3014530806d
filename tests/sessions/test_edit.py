"""The edit-session page: it changes the row and audits the update, shows the service's words on
the field (a date before the patient's birth, a number the patient already has), keeps what was
not changed, and is a 404 for another therapist."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from patients.services import patient_update
from sessions.models import Recording
from tests.factories import RecordingFactory, SessionFactory

pytestmark = pytest.mark.django_db

STORED = datetime(2026, 3, 1, 9, 15, 42, tzinfo=UTC)


@pytest.fixture
def stored(patient):  # type: ignore[no-untyped-def]
    # Session 1 of the owner's patient at 09:15:42 UTC (the clinic's zone in tests), with notes.
    return SessionFactory(patient=patient, number=1, started_at=STORED, notes="First visit")


def test_it_edits_a_session_and_audits_the_update(web, stored) -> None:  # type: ignore[no-untyped-def]
    url = reverse("sessions:edit", args=[stored.pk])
    page = web.get(url).content.decode()
    assert 'value="2026-03-01T09:15"' in page and "In UTC time." in page
    RecordingFactory(session=stored)
    response = web.post(url, {"started_at": "2026-03-01T09:15", "number": "7", "notes": "Corrected"})
    assert response.status_code == 302 and response["Location"] == reverse("ser:session", args=[stored.pk])
    stored.refresh_from_db()
    # The time was not changed, so its seconds are kept.
    assert (stored.number, stored.notes, stored.started_at) == (7, "Corrected", STORED)
    assert Recording.objects.filter(session=stored).count() == 1
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(stored.pk)).get()
    assert event.detail == "changed: number, notes"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {"started_at": "1979-12-31T10:00", "number": "1"},
            "started_at",
            "The session date is before the patient's date of birth.",
        ),
        (
            {"started_at": "2026-03-01T09:15", "number": "2"},
            "number",
            "This patient already has a session number 2.",
        ),
    ],
)
def test_it_shows_the_services_words_on_the_field(web, patient, stored, data, field, words) -> None:  # type: ignore[no-untyped-def]
    patient_update(patient=patient, date_of_birth=date(1980, 1, 1))
    SessionFactory(patient=patient, number=2)
    response = web.post(reverse("sessions:edit", args=[stored.pk]), {**data, "notes": ""})
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [words]}
    assert words.replace("'", "&#x27;") in response.content.decode()
    stored.refresh_from_db()
    assert (stored.number, stored.started_at, stored.notes) == (1, STORED, "First visit")
    assert b"Edit session 1 of" in response.content


def test_it_refuses_a_new_session_before_the_patients_birth_on_the_field(web, patient) -> None:  # type: ignore[no-untyped-def]
    patient_update(patient=patient, date_of_birth=date(2000, 6, 1))
    response = web.post(reverse("sessions:create", args=[patient.pk]), {"started_at": "1999-01-01T10:00"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "started_at": ["The session date is before the patient's date of birth."]
    }
    assert not patient.sessions.exists()


def test_it_gives_another_therapist_404_on_the_edit_page(client, other_therapist, stored) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    url = reverse("sessions:edit", args=[stored.pk])
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"started_at": "2026-01-01T10:00", "number": "9", "notes": "x"}).status_code == 404
    )
    stored.refresh_from_db()
    assert (stored.number, stored.notes) == (1, "First visit")
