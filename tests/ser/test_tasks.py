"""The analysis task on the worker's own terms: its limits, interrupted runs capped, stuck jobs
re-queued by the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from ser import services
from ser.models import AnalysisJob, EmotionAnalysis

pytestmark = pytest.mark.django_db


def test_the_message_carries_no_time_limits_so_the_workers_own_settings_apply(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from celery import current_app

    sent: list[dict] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: sent.append({"name": name, **kw}))
    services.publish("abc")
    # Without the explicit None, Celery copies the sending process's task limits into the header
    # and the worker's SER_TASK_*_TIME_LIMIT would never apply.
    assert sent == [
        {
            "name": services.ANALYSE_TASK,
            "args": ("abc",),
            "time_limit": None,
            "soft_time_limit": None,
            "queue": None,  # no GPU worker alive: the default queue
        }
    ]


def test_limits_are_ordered_soft_then_hard_then_broker_visibility(settings) -> None:  # type: ignore[no-untyped-def]
    from ser.tasks import analyse_recording

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility
    assert analyse_recording.acks_late and analyse_recording.reject_on_worker_lost


def test_a_recording_whose_runs_kept_dying_ends_failed_with_a_reason(upload, fresh_model, settings) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    settings.SER_MAX_ATTEMPTS = 3
    AnalysisJob.objects.filter(pk=recording.pk).update(status=AnalysisJob.Status.RUNNING, attempts=3)
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    job = AnalysisJob.objects.get(pk=recording.pk)
    assert job.status == AnalysisJob.Status.FAILED and "interrupted 3 times" in job.error
    assert job.error_message["params"] == {"attempts": 3}  # kept apart, for the reader's language
    assert not EmotionAnalysis.objects.exists()
    # A redelivery of the same message changes nothing.
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    assert AnalysisJob.objects.get(pk=recording.pk).attempts == 3


def test_each_run_counts_an_attempt(upload, fresh_model) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    AnalysisJob.objects.filter(pk=recording.pk).update(status=AnalysisJob.Status.RUNNING, attempts=1)
    assert services.analysis_run(recording_id=str(recording.pk)) is not None
    job = AnalysisJob.objects.get(pk=recording.pk)
    assert (job.status, job.attempts) == (AnalysisJob.Status.DONE, 2)


def test_the_sweeper_requeues_a_running_job_only_past_its_deadline(upload, settings) -> None:  # type: ignore[no-untyped-def]
    recording = upload()  # duration ~4 s → the minimum deadline applies
    settings.SER_RUNNING_DEADLINE_MIN_S = 600
    started = timezone.now()
    AnalysisJob.objects.filter(pk=recording.pk).update(status=AnalysisJob.Status.RUNNING, started_at=started)
    upload.sent.clear()
    with time_machine.travel(started + timedelta(seconds=600)):  # still inside 600 s + 60 s grace
        assert services.requeue_stale(older_than_s=600) == 0
    assert AnalysisJob.objects.get(pk=recording.pk).status == AnalysisJob.Status.RUNNING
    with time_machine.travel(started + timedelta(seconds=700)):
        assert services.requeue_stale(older_than_s=600) == 1
    assert upload.sent == [str(recording.pk)]
    assert AnalysisJob.objects.get(pk=recording.pk).status == AnalysisJob.Status.PENDING


def test_the_deadline_grows_with_the_recording_but_never_passes_the_hard_limit(upload, settings) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    job = AnalysisJob.objects.get(pk=recording.pk)
    job.started_at = timezone.now()
    settings.SER_RUNNING_DEADLINE_MIN_S, settings.SER_RUNNING_DEADLINE_RTF = 10, 1.0
    job.recording.duration_s = 3000
    settings.CELERY_TASK_TIME_LIMIT = 3600
    assert services.running_deadline(job) == job.started_at + timedelta(seconds=3000 + 60)
    job.recording.duration_s = 4 * 3600
    assert services.running_deadline(job) == job.started_at + timedelta(seconds=3600 + 60)


def test_worker_start_removes_spools_left_by_killed_processes_but_not_live_ones(
    settings, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import os
    import tempfile
    import time

    from ser.tasks import _remove_stale_spools

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    settings.CELERY_TASK_TIME_LIMIT = 3600
    old, live = tmp_path / "ser-analysis-old", tmp_path / "ser-analysis-live"
    for folder in (old, live):
        folder.mkdir()
        (folder / "processed_audio.wav").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    _remove_stale_spools()
    assert not old.exists() and live.exists()
