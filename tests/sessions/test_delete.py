"""Deleting a session or a recording, and withdrawing consent on one, removes the rows and every
stored file (the audio and the analysis files) once the transaction commits; a rolled-back delete,
another therapist's request or a storage error leaves what it must. The tests read the disk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from ser import services as ser_services
from ser.models import DOWNLOADS, AnalysisJob, EmotionAnalysis
from sessions import services
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


def stored_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    """Every file under MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def files_of(recording: Recording) -> set[str]:
    """The names the rows hold for a recording: its audio and its analysis's files."""
    names = {str(recording.file.name)}
    for a in EmotionAnalysis.objects.filter(recording=recording):
        fields = DOWNLOADS.values()
        names |= {str(getattr(a, f).name) for f in fields if getattr(a, f)}
    return names


class _Rollback(Exception):
    pass


@pytest.fixture
def analysed(upload, fresh_model):  # type: ignore[no-untyped-def]
    """Upload and analyse a recording; returns it with all its files on disk."""

    def make(**options):  # type: ignore[no-untyped-def]
        recording = upload(**options)
        assert ser_services.analysis_run(recording_id=str(recording.pk)) is not None
        return recording

    return make


@pytest.fixture
def two_recordings(analysed, settings):  # type: ignore[no-untyped-def]
    """A frame-granularity recording and an utterance one, each with its audio and five analysis
    files; between them all six analysis file fields are in use."""
    frame, utterance = analysed(granularity="frame"), analysed(granularity="utterance")
    assert len(files_of(frame)) == len(files_of(utterance)) == 6
    assert stored_files(settings) == files_of(frame) | files_of(utterance)
    kinds = {Path(n).name for n in files_of(frame) | files_of(utterance) if n.startswith("analyses/")}
    assert kinds == {
        "result.json",
        "embedding.npy",
        "processed_audio.wav",
        "frames.npz",
        "segments.npz",
        "voice.npz",
    }
    return frame, utterance


@pytest.fixture
def neighbour(analysed, patient):  # type: ignore[no-untyped-def]
    """An analysed recording in another session of the same patient: must survive."""
    other = services.session_create(patient=patient, started_at=timezone.now())
    return analysed(session=other)


def test_it_deletes_a_session_with_its_recordings_analyses_and_every_file(
    session, two_recordings, neighbour, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    session_id = session.pk
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.session_delete(session=session)
    assert counts["therapy_sessions.Recording"] == 2 and counts["ser.EmotionAnalysis"] == 2
    assert not TherapySession.objects.filter(pk=session_id).exists()
    ids = [r.pk for r in two_recordings]
    assert not Recording.objects.filter(pk__in=ids).exists()
    assert not AnalysisJob.objects.filter(recording_id__in=ids).exists()
    assert not EmotionAnalysis.objects.filter(recording_id__in=ids).exists()
    # Only the other session's files are left, and no empty analysis folders of the deleted ones.
    assert stored_files(settings) == files_of(neighbour)
    analyses = Path(settings.MEDIA_ROOT) / "analyses"
    assert {p.name for p in analyses.iterdir()} == {neighbour.pk.hex}


def test_it_deletes_one_recording_and_leaves_its_neighbours(
    two_recordings, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    gone, kept = two_recordings
    gone_id = gone.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_delete(recording=gone)
    assert not Recording.objects.filter(pk=gone_id).exists()
    assert not EmotionAnalysis.objects.filter(recording_id=gone_id).exists()
    assert not AnalysisJob.objects.filter(recording_id=gone_id).exists()
    assert stored_files(settings) == files_of(kept)
    assert Recording.objects.filter(pk=kept.pk).exists() and kept.session.recordings.count() == 1


def test_it_removes_files_only_after_commit(
    two_recordings, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    before, gone = stored_files(settings), files_of(two_recordings[0])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.recording_delete(recording=two_recordings[0])
    # Inside the transaction the rows are gone but every file is still there…
    # audio; the analysis's files; its cached drawings
    assert stored_files(settings) == before and len(callbacks) == 3
    for callback in callbacks:  # …until it commits.
        callback()
    assert stored_files(settings) == before - gone == files_of(two_recordings[1])


@pytest.mark.parametrize("delete", ["session", "recording", "consent"])
def test_a_rolled_back_delete_leaves_rows_and_files(
    delete, session, two_recordings, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    before, session_id = stored_files(settings), session.pk
    recording = two_recordings[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                if delete == "session":
                    services.session_delete(session=session)
                elif delete == "recording":
                    services.recording_delete(recording=recording)
                else:
                    services.recording_consent_withdraw(recording=recording)
                raise _Rollback
        except _Rollback:
            pass
    assert callbacks == []
    assert stored_files(settings) == before
    assert TherapySession.objects.filter(pk=session_id).exists()
    assert Recording.objects.filter(session_id=session_id).count() == 2
    assert EmotionAnalysis.objects.filter(recording__session_id=session_id).count() == 2
    assert AnalysisJob.objects.filter(recording__session_id=session_id).count() == 2


def test_consent_withdrawal_removes_rows_and_files_and_logs_the_reason(
    two_recordings, therapist, settings, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    withdrawn, kept = two_recordings
    withdrawn_id = withdrawn.pk
    with caplog.at_level(logging.INFO, logger="sessions.services"):
        with django_capture_on_commit_callbacks(execute=True):
            services.recording_consent_withdraw(recording=withdrawn, actor=therapist)
    assert not Recording.objects.filter(pk=withdrawn_id).exists()
    assert not EmotionAnalysis.objects.filter(recording_id=withdrawn_id).exists()
    assert not AnalysisJob.objects.filter(recording_id=withdrawn_id).exists()
    assert stored_files(settings) == files_of(kept)
    [line] = [r.getMessage() for r in caplog.records if "consent withdrawn" in r.getMessage()]
    assert str(withdrawn_id) in line and f"by user {therapist.pk}" in line
    assert withdrawn.original_name not in line  # ids and counts, no PHI


def test_a_storage_error_is_logged_not_raised_and_the_rows_still_go(
    two_recordings, settings, django_capture_on_commit_callbacks, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    recording = two_recordings[0]
    recording_id, names = recording.pk, files_of(recording)

    def refuse(self, name):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(FileSystemStorage, "delete", refuse)
    with caplog.at_level(logging.ERROR):
        with django_capture_on_commit_callbacks(execute=True):
            services.recording_delete(recording=recording)
    assert not Recording.objects.filter(pk=recording_id).exists()
    assert names <= stored_files(settings)  # left for find_orphan_files
    logged = [r.getMessage() for r in caplog.records if "it is now an orphan" in r.getMessage()]
    assert {name for name in names if any(name in line for line in logged)} == names


def _api_url(kind: str, session, recording) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"api:{kind}", args=[session.pk if kind == "session" else recording.pk])


@pytest.mark.parametrize("kind", ["session", "recording"])
def test_another_therapist_gets_404_and_nothing_is_deleted(
    kind, other_api, client, other_therapist, session, two_recordings, settings
) -> None:  # type: ignore[no-untyped-def]
    before = stored_files(settings)
    recording = two_recordings[0]
    assert other_api.delete(_api_url(kind, session, recording)).status_code == 404
    client.force_login(other_therapist)
    page = reverse(
        "sessions:delete" if kind == "session" else "sessions:recording_delete",
        args=[session.pk if kind == "session" else recording.pk],
    )
    assert client.get(page).status_code == 404
    assert client.post(page, {"consent_withdrawn": "1"}).status_code == 404
    assert stored_files(settings) == before
    assert Recording.objects.filter(session=session).count() == 2
    assert EmotionAnalysis.objects.filter(recording__session=session).count() == 2
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()


@pytest.mark.parametrize("kind", ["session", "recording"])
def test_the_owner_deletes_through_the_api(
    kind, api, session, two_recordings, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    recording, other = two_recordings
    url = _api_url(kind, session, recording)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(url)
    assert response.status_code == 204
    assert api.get(url).status_code == 404
    expected = set() if kind == "session" else files_of(other)
    assert stored_files(settings) == expected


def test_the_api_records_consent_withdrawal_and_refuses_unknown_reasons(
    api, two_recordings, settings, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    recording = two_recordings[0]
    url = reverse("api:recording", args=[recording.pk])
    before = stored_files(settings)
    assert api.delete(url + "?reason=tidy").status_code == 400
    assert stored_files(settings) == before and Recording.objects.filter(pk=recording.pk).exists()
    with caplog.at_level(logging.INFO, logger="sessions.services"):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.delete(url + "?reason=consent_withdrawn").status_code == 204
    assert any("consent withdrawn" in r.getMessage() for r in caplog.records)
    assert stored_files(settings) == files_of(two_recordings[1])


def test_the_session_page_links_to_the_confirmation_pages(web, session, two_recordings) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("ser:session", args=[session.pk])).content.decode()
    assert reverse("sessions:delete", args=[session.pk]) in page
    for recording in two_recordings:
        assert reverse("sessions:recording_delete", args=[recording.pk]) in page


def test_the_session_confirmation_lists_what_goes_and_post_deletes(
    web, session, patient, two_recordings, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    session_id, url = session.pk, reverse("sessions:delete", args=[session.pk])
    page = web.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 recordings" in text and text.count(two_recordings[0].original_name) >= 2
    assert stored_files(settings), "a GET deletes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(url)
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:dashboard", args=[patient.pk]
    )
    assert stored_files(settings) == set() and not TherapySession.objects.filter(pk=session_id).exists()
    assert web.put(url).status_code in (404, 405)


def test_the_recording_confirmation_withdraws_consent_when_ticked(
    web, session, two_recordings, settings, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    recording, kept = two_recordings
    recording_id, url = recording.pk, reverse("sessions:recording_delete", args=[recording.pk])
    page = web.get(url).content.decode()
    assert "withdrew consent" in page
    with caplog.at_level(logging.INFO, logger="sessions.services"):
        with django_capture_on_commit_callbacks(execute=True):
            response = web.post(url, {"consent_withdrawn": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("ser:session", args=[session.pk])
    assert "Consent withdrawn" in response.content.decode()
    assert any("consent withdrawn" in r.getMessage() for r in caplog.records)
    assert stored_files(settings) == files_of(kept)
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, object_id=str(recording_id))
    assert event.detail == "recording delete: consent withdrawn" and event.patient_id == session.patient_id
