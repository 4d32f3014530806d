"""Faults with real processes: a real Celery worker, Redis and PostgreSQL. A killed worker child,
a dropped database connection and the worker's own time limits; then what the user sees, and that
nothing is lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from ser.models import AnalysisJob, EmotionAnalysis
from tests.audio import wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def long_upload(api, session):  # type: ignore[no-untyped-def]
    """Uploads (through the API, queued for real) a 1-minute recording: long enough that the worker
    is still analysing it when the test strikes."""

    def upload() -> str:
        response = api.post(
            reverse("api:recordings", args=[session.pk]),
            {"file": SimpleUploadedFile("long.wav", wav_bytes(60.0, seed=7)), "consent_confirmed": "true"},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        return str(response.json()["recordings"][0]["id"])

    return upload


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _wait_for(
    recording_id: str, states: set[str], proc: subprocess.Popen[bytes], log: Path, timeout: float = 180
) -> AnalysisJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = AnalysisJob.objects.filter(recording_id=recording_id).first()
        if job is not None and job.status in states:
            return job
        assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
        time.sleep(0.05)
    raise AssertionError(f"not {states} in {timeout} s:\n{log.read_text(errors='replace')[-4000:]}")


def test_a_killed_worker_child_is_replaced_and_the_same_worker_finishes_the_recording(
    start_worker, long_upload
) -> None:  # type: ignore[no-untyped-def]
    proc, log = start_worker()
    recording_id = long_upload()
    _wait_for(recording_id, {"running"}, proc, log)
    (child,) = _children(proc.pid)
    os.kill(child, signal.SIGKILL)  # as the OOM killer would

    job = _wait_for(recording_id, {"done", "failed"}, proc, log)
    text = log.read_text(errors="replace")
    assert job.status == "done", text[-4000:]
    assert job.attempts == 2  # the killed run and the one that finished
    assert EmotionAnalysis.objects.filter(recording_id=recording_id).count() == 1
    assert child not in _children(proc.pid) and len(_children(proc.pid)) == 1
    assert "Timed out waiting for UP message" not in text
    assert "WorkerLostError" in text or "SIGKILL" in text


def test_a_dropped_database_connection_mid_task_is_retried_to_one_result(start_worker, long_upload) -> None:  # type: ignore[no-untyped-def]
    proc, log = start_worker()
    recording_id = long_upload()
    _wait_for(recording_id, {"running"}, proc, log)
    with connection.cursor() as cursor:  # every other session on the test database: the worker's
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "the worker had no database connection to drop"
    job = _wait_for(recording_id, {"done", "failed"}, proc, log, timeout=240)
    text = log.read_text(errors="replace")
    assert job.status == "done", text[-4000:]
    assert "Retry in" in text  # the task was retried, not failed
    assert EmotionAnalysis.objects.filter(recording_id=recording_id).count() == 1


def test_the_workers_own_time_limit_stops_the_task_with_a_reason_and_no_rows(
    start_worker, long_upload
) -> None:  # type: ignore[no-untyped-def]
    # The web side (this process) keeps its long defaults; only the worker has tiny limits.
    proc, log = start_worker(SER_TASK_SOFT_TIME_LIMIT="1", SER_TASK_TIME_LIMIT="30")
    recording_id = long_upload()
    job = _wait_for(recording_id, {"done", "failed"}, proc, log)
    assert job.status == "failed", log.read_text(errors="replace")[-4000:]
    assert "time limit" in job.error
    assert not EmotionAnalysis.objects.filter(recording_id=recording_id).exists()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_the_model_loads_once_per_process_and_memory_plateaus(start_worker, api, session) -> None:  # type: ignore[no-untyped-def]
    proc, log = start_worker()
    rss: list[float] = []
    for i in range(4):
        response = api.post(
            reverse("api:recordings", args=[session.pk]),
            {"file": SimpleUploadedFile(f"r{i}.wav", wav_bytes(15.0, seed=i)), "consent_confirmed": "true"},
            format="multipart",
        )
        job = _wait_for(str(response.json()["recordings"][0]["id"]), {"done", "failed"}, proc, log)
        assert job.status == "done", log.read_text(errors="replace")[-3000:]
        (child,) = _children(proc.pid)
        rss.append(_rss_mb(child))
    assert log.read_text(errors="replace").count("loaded emotion model") == 1
    # After the first analysis (model, VAD and allocator warm), later ones add next to nothing.
    assert max(rss[1:]) - rss[1] < 50, rss
