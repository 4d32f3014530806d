"""A failed analysis can be retried (page button and API), and only a failed one."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from ser import services
from ser.models import AnalysisJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(upload):  # type: ignore[no-untyped-def]
    recording = upload()
    AnalysisJob.objects.filter(recording=recording).update(
        status=AnalysisJob.Status.FAILED,
        stage=AnalysisJob.Stage.DETECTING_SPEECH,
        error="No speech was found in the recording.",
        attempts=3,
        progress=40,
    )
    upload.sent.clear()
    return recording


def test_it_requeues_a_failed_job_after_commit(failed, upload, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.job_retry(recording=failed)
        assert upload.sent == []  # nothing is sent inside the transaction
    for callback in callbacks:
        callback()
    assert upload.sent == [str(failed.pk)]
    job = AnalysisJob.objects.get(recording=failed)
    assert (job.status, job.stage, job.error, job.attempts, job.progress) == ("pending", "queued", "", 0, 0)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(failed.pk), detail="analysis retried"
    ).exists()


@pytest.mark.parametrize("status", ["pending", "running", "done"])
def test_it_refuses_a_job_that_did_not_fail(upload, status) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    AnalysisJob.objects.filter(recording=recording).update(status=status)
    upload.sent.clear()
    with pytest.raises(services.JobNotFailed):
        services.job_retry(recording=recording)
    assert AnalysisJob.objects.get(recording=recording).status == status and upload.sent == []


def test_the_session_page_offers_retry_and_remove_next_to_the_reason(
    web, failed, upload, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("ser:session", args=[failed.session_id])).content.decode()
    assert "No speech was found" in page and "Retry analysis" in page
    assert reverse("ser:retry", args=[failed.pk]) in page
    assert reverse("sessions:recording_delete", args=[failed.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(reverse("ser:retry", args=[failed.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("ser:session", args=[failed.session_id])
    assert "queued again" in response.content.decode()
    assert AnalysisJob.objects.get(recording=failed).status == "pending"
    assert upload.sent == [str(failed.pk)]
    # A second press: nothing to retry, said in words.
    response = web.post(reverse("ser:retry", args=[failed.pk]), follow=True)
    assert "Only a failed analysis can be retried" in response.content.decode()
    assert web.get(reverse("ser:retry", args=[failed.pk])).status_code == 405


def test_the_api_retries_a_failed_job_and_answers_409_otherwise(
    api, failed, upload, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("api:recording-retry", args=[failed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["stage"] == "queued" and body["error"] == ""
    assert upload.sent == [str(failed.pk)]
    response = api.post(url)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and "Only a failed analysis" in response.json()["detail"]


def test_another_therapist_cannot_retry(other_api, client, other_therapist, failed, upload) -> None:  # type: ignore[no-untyped-def]
    assert other_api.post(reverse("api:recording-retry", args=[failed.pk])).status_code == 404
    client.force_login(other_therapist)
    assert client.post(reverse("ser:retry", args=[failed.pk])).status_code == 404
    assert AnalysisJob.objects.get(recording=failed).status == "failed" and upload.sent == []


def test_a_retried_job_runs_again_even_after_the_attempts_ran_out(failed, fresh_model) -> None:  # type: ignore[no-untyped-def]
    # Before the retry a redelivered task does nothing: the job failed, in words.
    assert services.analysis_run(recording_id=str(failed.pk)) is None
    services.job_retry(recording=failed)
    analysis = services.analysis_run(recording_id=str(failed.pk))
    assert analysis is not None
    job = AnalysisJob.objects.get(recording=failed)
    assert (job.status, job.stage, job.attempts) == ("done", "finished", 1)


def test_the_reason_is_stored_as_a_message_and_shown_in_the_readers_language(web, api, upload) -> None:  # type: ignore[no-untyped-def]
    from ser.tasks import TIMED_OUT

    recording = upload()
    services.job_fail(recording_id=str(recording.pk), reason=TIMED_OUT)
    job = AnalysisJob.objects.get(recording=recording)
    english = "The analysis took longer than the time limit and was stopped; nothing was saved."
    assert job.error == english and job.error_message == TIMED_OUT  # English for logs, the message kept
    url = reverse("ser:session", args=[recording.session_id])
    assert english in web.get(url).content.decode()
    chinese = "分析超出时间限制而被停止；未保存任何结果。"
    with translation.override("en"):  # the requests' language is not left active for later tests
        assert chinese in web.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        body = api.get(reverse("api:recording", args=[recording.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["error"] == chinese
    services.job_retry(recording=recording)  # a retry forgets the reason, in both forms
    job.refresh_from_db()
    assert (job.error, job.error_message) == ("", {})
