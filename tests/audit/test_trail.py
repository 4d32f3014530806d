"""The audit trail: reads, writes, exports and denials of patient data name the actor, the object,
the patient, the address and the time; nobody, the application included, can change or delete a
row; administrators review it filtered by patient."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from ser import services
from tests.factories import analysed_session
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db


def _events(**filters):  # type: ignore[no-untyped-def]
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_reading_a_patients_pages_and_api_is_audited(web, api, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    AuditEvent.objects.all()  # nothing recorded by the fixtures themselves matters here
    before = AuditEvent.objects.count()
    assert web.get(reverse("reports:dashboard", args=[patient.pk]), REMOTE_ADDR="10.1.2.3").status_code == 200
    assert web.get(reverse("ser:session", args=[session.pk])).status_code == 200
    assert api.get(reverse("api:patient", args=[patient.pk])).status_code == 200
    events = _events(id__gt=0)[before:]
    reads = [e for e in events if e.action == AuditEvent.Action.READ]
    assert {(e.object_type, e.object_id) for e in reads} >= {
        ("patient", str(patient.pk)),
        ("session", str(session.pk)),
    }
    for e in reads:
        assert e.actor == therapist and e.patient_id == patient.pk and e.at is not None
    dashboard = next(e for e in reads if e.path == reverse("reports:dashboard", args=[patient.pk]))
    assert dashboard.ip == "10.1.2.3"
    assert any(e.path == reverse("api:patient", args=[patient.pk]) for e in reads)  # the API detail too


def test_downloads_and_audio_are_audited_as_exports(web, upload, fresh_model, therapist) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    analysis = services.analysis_run(recording_id=str(recording.pk))
    assert analysis is not None
    response = web.get(reverse("ser:download", args=[analysis.pk, "result.json"]))
    assert response.status_code == 200
    (event,) = _events(action=AuditEvent.Action.EXPORT, object_type="analysis")
    assert event.actor == therapist and event.object_id == str(analysis.pk)
    assert event.patient_id == recording.session.patient_id and "result.json" in event.detail
    assert web.get(reverse("sessions:audio", args=[recording.pk])).status_code == 200
    audio = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_type="recording").get()
    assert audio.object_id == str(recording.pk) and audio.patient_id == recording.session.patient_id


def test_another_therapists_attempt_is_a_404_recorded_as_a_denial_without_phi(
    client, other_therapist, patient, caplog
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    with caplog.at_level("WARNING", logger="clinic.security"):
        assert client.get(reverse("reports:dashboard", args=[patient.pk])).status_code == 404
    (event,) = _events(action=AuditEvent.Action.DENIED)
    assert event.actor == other_therapist and event.object_id == str(patient.pk)
    assert event.patient_id is None  # the trail does not confirm whose record it was
    assert "access denied" in caplog.text and patient.display_name not in caplog.text
    assert not _events(action=AuditEvent.Action.READ, actor=other_therapist)


def test_audit_rows_cannot_be_changed_or_deleted_even_by_the_application(web, patient) -> None:  # type: ignore[no-untyped-def]
    web.get(reverse("reports:dashboard", args=[patient.pk]))
    event = AuditEvent.objects.latest("id")
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        event.detail = "edited"
        event.save()
    event.refresh_from_db()
    assert event.detail == "dashboard"


def test_administrators_review_the_trail_by_patient_read_only(
    client, django_user_model, web, patient
) -> None:  # type: ignore[no-untyped-def]
    web.get(reverse("reports:dashboard", args=[patient.pk]))
    admin = django_user_model.objects.create_superuser("auditor", "a@example.org", "a long admin password")
    client.force_login(admin)
    url = reverse("admin:audit_auditevent_changelist")
    page = client.get(url, {"patient": str(patient.pk)})
    assert page.status_code == 200 and str(patient.pk) in page.content.decode()
    assert client.get(url, {"patient": "not-a-uuid"}).status_code == 200
    event = AuditEvent.objects.latest("id")
    assert (
        client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_logins_failures_and_logouts_are_in_the_trail_without_the_password(client, therapist) -> None:  # type: ignore[no-untyped-def]
    client.post(reverse("login"), {"username": therapist.username, "password": "wrong password 1"})
    client.post(reverse("login"), {"username": therapist.username, "password": "correct horse battery"})
    client.post(reverse("logout"))
    actions = [(e.action, e.actor_id, e.username) for e in AuditEvent.objects.order_by("id")]
    assert actions == [
        (AuditEvent.Action.LOGIN_FAILED, None, therapist.username),
        (AuditEvent.Action.LOGIN, therapist.pk, therapist.username),
        (AuditEvent.Action.LOGOUT, therapist.pk, therapist.username),
    ]
    assert not AuditEvent.objects.filter(detail__icontains="password").exists()
