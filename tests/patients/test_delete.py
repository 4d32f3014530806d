"""Deleting a patient removes their sessions, recordings, analyses and every stored file, after the
transaction commits; a rolled-back delete or another therapist's request removes nothing. The tests
read the disk."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from patients import services
from patients.models import Patient
from ser import services as ser_services
from ser.models import AnalysisJob, EmotionAnalysis
from sessions.models import Recording, TherapySession
from sessions.services import session_create

pytestmark = pytest.mark.django_db

Baseline = Patient.baseline_sessions.through


def stored_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    """Every file under MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


class _Rollback(Exception):
    pass


@pytest.fixture
def full_patient(patient, session, upload, fresh_model, settings):  # type: ignore[no-untyped-def]
    """The owner's patient with two sessions, each with an analysed frame-granularity recording
    (audio, processed audio, result.json, frames.npz, segments.npz, voice.npz: 6 files each), both sessions
    chosen as the drift baseline."""
    second = session_create(patient=patient, started_at=timezone.now())
    for s in (session, second):
        recording = upload(granularity="frame", session=s)
        assert ser_services.analysis_run(recording_id=str(recording.pk)) is not None
    services.baseline_set(patient=patient, mode=Patient.Baseline.SET, sessions=[session, second])
    assert len(stored_files(settings)) == 12
    assert Baseline.objects.filter(patient=patient).count() == 2
    return patient


def _rows(pk: uuid.UUID) -> tuple[int, ...]:
    """The patient's rows per model (by id: a deleted instance's pk is None)."""
    return (
        Patient.objects.filter(pk=pk).count(),
        TherapySession.objects.filter(patient_id=pk).count(),
        Recording.objects.filter(session__patient_id=pk).count(),
        AnalysisJob.objects.filter(recording__session__patient_id=pk).count(),
        EmotionAnalysis.objects.filter(recording__session__patient_id=pk).count(),
        Baseline.objects.filter(patient_id=pk).count(),
    )


def test_it_deletes_the_patient_with_every_row_and_file(
    full_patient, therapist, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.patient_delete(patient=full_patient)
    assert counts["therapy_sessions.TherapySession"] == 2 and counts["ser.EmotionAnalysis"] == 2
    assert _rows(pk) == (0, 0, 0, 0, 0, 0)
    assert stored_files(settings) == set()
    # The per-recording analysis folders went too; the owner (PROTECT) stays.
    assert list((Path(settings.MEDIA_ROOT) / "analyses").iterdir()) == []
    therapist.refresh_from_db()


def test_it_removes_the_files_only_after_commit(
    full_patient, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    before = stored_files(settings)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.patient_delete(patient=full_patient)
    assert _rows(pk) == (0, 0, 0, 0, 0, 0)
    assert stored_files(settings) == before  # not before the commit…
    # …then each recording's audio, each analysis's files and each analysis's cached drawings
    assert len(callbacks) == 6
    for callback in callbacks:
        callback()
    assert stored_files(settings) == set()


def test_a_rolled_back_delete_leaves_rows_and_files(
    full_patient, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    before, rows = stored_files(settings), _rows(pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.patient_delete(patient=full_patient)
                raise _Rollback
        except _Rollback:
            pass
    assert callbacks == []
    assert stored_files(settings) == before and _rows(pk) == rows == (1, 2, 2, 2, 2, 2)


def test_another_therapist_gets_404_and_nothing_is_deleted(
    full_patient, other_api, client, other_therapist, settings
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    before, rows = stored_files(settings), _rows(pk)
    assert other_api.delete(reverse("api:patient", args=[full_patient.pk])).status_code == 404
    client.force_login(other_therapist)
    url = reverse("patients:delete", args=[full_patient.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert stored_files(settings) == before and _rows(pk) == rows
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=other_therapist).count() == 3


def test_anonymous_users_are_sent_to_log_in(client, full_patient, settings) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    before = stored_files(settings)
    assert client.delete(reverse("api:patient", args=[full_patient.pk])).status_code in (401, 403)
    response = client.post(reverse("patients:delete", args=[full_patient.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert stored_files(settings) == before and _rows(pk)[0] == 1


def test_the_owner_deletes_through_the_api(
    api, therapist, full_patient, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    url = reverse("api:patient", args=[full_patient.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert _rows(pk) == (0, 0, 0, 0, 0, 0) and stored_files(settings) == set()
    # The delete is in the audit trail, which outlives the patient (no foreign key to it).
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, object_type="patient", object_id=str(pk))
    assert event.actor == therapist and event.patient_id == pk


def test_the_confirmation_page_counts_what_goes_and_post_deletes(
    web, full_patient, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    dashboard = web.get(reverse("reports:dashboard", args=[full_patient.pk])).content.decode()
    url = reverse("patients:delete", args=[full_patient.pk])
    assert url in dashboard
    page = web.get(url).content.decode()
    assert "2 sessions" in page and "2 recordings" in page
    assert len(stored_files(settings)) == 12, "a GET deletes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("patients:list")
    body = response.content.decode()
    assert "The patient was deleted, with 2 session(s), 2 recording(s)" in body
    assert "Alex Example" not in body  # the name is gone from the list, and not in the message
    assert stored_files(settings) == set() and _rows(pk)[0] == 0


def test_the_log_names_ids_not_the_patient(
    full_patient, therapist, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    pk = full_patient.pk
    with caplog.at_level(logging.INFO, logger="patients.services"):
        with django_capture_on_commit_callbacks(execute=True):
            services.patient_delete(patient=full_patient, actor=therapist)
    [line] = [r.getMessage() for r in caplog.records if r.name == "patients.services"]
    assert str(pk) in line and f"by user {therapist.pk}" in line
    assert full_patient.display_name not in line and full_patient.external_id not in line
