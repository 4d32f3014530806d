"""The patient pages: edit (audited, validation in the service's words on the field), archive and
restore (nothing deleted), the list's search, sort and "show archived", the mark on sessions
whose recordings all failed, and another therapist's 404 on each of them."""

from __future__ import annotations

from datetime import date
from typing import cast

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from patients.models import Patient
from patients.services import patient_create, patient_update
from ser.models import AnalysisJob
from sessions.models import Recording, TherapySession
from tests.factories import JobFactory, RecordingFactory, SessionFactory

pytestmark = pytest.mark.django_db

FAILED, DONE, PENDING = AnalysisJob.Status.FAILED, AnalysisJob.Status.DONE, AnalysisJob.Status.PENDING


def _form(patient: Patient, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": patient.display_name,
        "external_id": patient.external_id,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
        "notes": patient.notes,
        "ehr_patient_id": patient.ehr_patient_id,
    }
    return {**data, **changes}


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.display_name for p, _ in response.context["rows"]]


def test_it_edits_a_patient_and_audits_the_update(web, patient) -> None:  # type: ignore[no-untyped-def]
    url = reverse("patients:edit", args=[patient.pk])
    page = web.get(url)
    assert page.status_code == 200 and b'value="MRN-001"' in page.content
    response = web.post(url, _form(patient, display_name="Alex Renamed", date_of_birth="1980-02-03"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:dashboard", args=[patient.pk]
    )
    patient.refresh_from_db()
    assert (patient.display_name, patient.date_of_birth) == ("Alex Renamed", date(1980, 2, 3))
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(patient.pk)).get()
    assert event.detail == "changed: date_of_birth, display_name"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"external_id": "MRN-002"}, "external_id", "You already have a patient with record id MRN-002."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth is in the future."),
    ],
)
def test_it_shows_the_services_words_on_the_field(web, therapist, patient, changes, field, words) -> None:  # type: ignore[no-untyped-def]
    patient_create(owner=therapist, display_name="Sam Other", external_id="MRN-002")
    edit, create = reverse("patients:edit", args=[patient.pk]), reverse("patients:create")
    for url, record_id in ((edit, patient.external_id), (create, "MRN-NEW")):
        response = web.post(
            url, _form(patient, display_name="New name", **{"external_id": record_id, **changes})
        )
        assert response.status_code == 200, url
        assert response.context["form"].errors == {field: [words]}, url
        assert words in response.content.decode()
    patient.refresh_from_db()
    assert (patient.display_name, patient.external_id) == ("Alex Example", "MRN-001")
    assert Patient.objects.filter(owner=therapist).count() == 2
    # The page's heading still names the patient as stored, not the refused input.
    assert (
        b"Edit Alex Example"
        in web.post(
            reverse("patients:edit", args=[patient.pk]), _form(patient, display_name="X", **changes)
        ).content
    )


def test_it_shows_every_refused_field_at_once(web, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    patient_create(owner=therapist, display_name="Sam Other", external_id="MRN-002")
    response = web.post(
        reverse("patients:edit", args=[patient.pk]),
        _form(patient, external_id="MRN-002", date_of_birth="2999-01-01"),
    )
    assert response.context["form"].errors == {
        "external_id": ["You already have a patient with record id MRN-002."],
        "date_of_birth": ["The date of birth is in the future."],
    }


def test_it_archives_and_restores_a_patient_deleting_nothing(web, patient, session) -> None:  # type: ignore[no-untyped-def]
    RecordingFactory(session=session)
    confirm = web.get(reverse("patients:archive", args=[patient.pk]))
    text = confirm.content.decode()
    assert "Nothing is deleted" in text and "leaves your patient list" in text and "1 session," in text
    assert web.post(reverse("patients:archive", args=[patient.pk])).status_code == 302
    patient.refresh_from_db()
    assert patient.archived_at is not None
    assert _names(web.get(reverse("patients:list"))) == []
    listed = web.get(reverse("patients:list"), {"archived": "on"})
    assert _names(listed) == ["Alex Example"] and b"Restore" in listed.content
    assert TherapySession.objects.filter(patient=patient).count() == 1 and Recording.objects.count() == 1

    response = web.post(reverse("patients:restore", args=[patient.pk]))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.archived_at is None
    assert _names(web.get(reverse("patients:list"))) == ["Alex Example"]
    details = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(patient.pk))
        .order_by("at", "pk")
        .values_list("detail", flat=True)
    )
    assert details == ["changed: archived", "changed: restored"]


def test_it_searches_by_name_or_record_id_and_sorts(web, therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    for name, mrn in (("Cara Jones", "MRN-300"), ("Abe Smith", "MRN-200"), ("Bea Jonas", "X-100")):
        patient_create(owner=therapist, display_name=name, external_id=mrn)
    patient_create(owner=other_therapist, display_name="Jo Notyours", external_id="MRN-999")
    list_url = reverse("patients:list")
    assert _names(web.get(list_url)) == ["Abe Smith", "Bea Jonas", "Cara Jones"]
    assert _names(web.get(list_url, {"q": "jon"})) == ["Bea Jonas", "Cara Jones"]
    assert _names(web.get(list_url, {"q": "mrn-2"})) == ["Abe Smith"]
    assert _names(web.get(list_url, {"sort": "record_id"})) == ["Abe Smith", "Cara Jones", "Bea Jonas"]
    assert _names(web.get(list_url, {"sort": "-created"})) == ["Bea Jonas", "Abe Smith", "Cara Jones"]
    assert _names(web.get(list_url, {"sort": "nonsense"})) == ["Abe Smith", "Bea Jonas", "Cara Jones"]
    empty = web.get(list_url, {"q": "zzz"})
    assert _names(
        empty
    ) == [] and "No patient’s name or record id contains “zzz”" in empty.content.decode().replace("'", "’")
    # The search box keeps what was typed, the sort what was chosen.
    page = web.get(list_url, {"q": "jon", "sort": "record_id"}).content.decode()
    assert 'value="jon"' in page and '<option value="record_id" selected>' in page


def test_it_marks_a_session_whose_recordings_all_failed(web, patient) -> None:  # type: ignore[no-untyped-def]
    all_failed = cast(TherapySession, SessionFactory(patient=patient, number=3))
    for _ in range(2):
        JobFactory(recording=RecordingFactory(session=all_failed, content=b"a" + bytes(8)), status=FAILED)
    mixed = SessionFactory(patient=patient, number=4)
    JobFactory(recording=RecordingFactory(session=mixed), status=FAILED)
    JobFactory(recording=RecordingFactory(session=mixed, content=b"other"), status=DONE)
    waiting = SessionFactory(patient=patient, number=5)
    JobFactory(recording=RecordingFactory(session=waiting), status=PENDING)
    SessionFactory(patient=patient, number=6)  # no recordings yet: nothing failed
    response = web.get(reverse("patients:list"))
    [(row, failed)] = response.context["rows"]
    assert [(s.number, s.session_id) for s in failed] == [(3, all_failed.pk)]
    text = response.content.decode()
    assert "Session 3: all recordings failed" in text and reverse("ser:session", args=[all_failed.pk]) in text
    assert "Session 4: all" not in text and "Session 5: all" not in text and "Session 6: all" not in text


def test_it_gives_another_therapist_404_on_the_edit_and_archive_pages(
    client, other_therapist, patient
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    for method, name in (
        ("get", "edit"),
        ("post", "edit"),
        ("get", "archive"),
        ("post", "archive"),
        ("post", "restore"),
    ):
        url = reverse(f"patients:{name}", args=[patient.pk])
        response = getattr(client, method)(url, _form(patient, display_name="Taken over"))
        assert response.status_code == 404, (method, url)
    patient.refresh_from_db()
    assert (patient.display_name, patient.archived_at) == ("Alex Example", None)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()
    # ...and the restore of an archived patient is theirs alone too.
    patient_update(patient=patient, archived=True)
    assert client.post(reverse("patients:restore", args=[patient.pk])).status_code == 404
    patient.refresh_from_db()
    assert patient.archived_at is not None
