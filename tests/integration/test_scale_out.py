"""Many workers on one host and a GPU queue, with real worker processes (no GPU needed): each
worker process sizes its torch threads by the host's cores and its concurrency, and recordings go to
the GPU queue exactly while a worker consuming it is alive."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from ser import services, workers
from ser.engine.host import threads_per_process
from ser.models import EmotionAnalysis
from tests.audio import speech_wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _client(django_user_model: Any) -> APIClient:
    user = django_user_model.objects.create_user(username="dr.scale", password="a long test password")
    client = APIClient()
    client.force_login(user)
    return client


def _upload(client: APIClient, n: int) -> str:
    patient = client.post(reverse("api:patients"), {"display_name": f"Pat {n}", "external_id": f"MRN-S{n}"})
    session = client.post(
        reverse("api:sessions", args=[patient.json()["id"]]), {"started_at": "2026-11-20T10:00:00Z"}
    )
    content = speech_wav_bytes()
    content = content[:-2] + n.to_bytes(2, "little")
    upload = client.post(
        reverse("api:recordings", args=[session.json()["id"]]),
        {"file": SimpleUploadedFile(f"s{n}.wav", content), "consent_confirmed": True},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    return str(upload.json()["recordings"][0]["id"])


def _analyses_queued(broker: redis.Redis, queue: str) -> list[str]:
    """Recording ids of the analysis messages waiting in a queue (kombu's Redis list)."""
    ids = []
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "ser.tasks.analyse_recording":
            ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return ids


def _wait_done(client: APIClient, recording_id: str, log: Any, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    status = "pending"
    while time.monotonic() < deadline:
        status = client.get(reverse("api:recording", args=[recording_id])).json()["status"]
        if status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status == "done", f"status={status}\n{log.read_text(errors='replace')[-3000:]}"


def test_each_worker_process_uses_cores_over_concurrency_torch_threads(
    start_worker, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    _, log = start_worker(TEST_WORKER_CONCURRENCY="2", SER_THREADS="0")  # 0: automatic
    client = _client(django_user_model)
    recording_id = _upload(client, 1)
    _wait_done(client, recording_id, log)
    analysis = EmotionAnalysis.objects.get(recording_id=recording_id)
    expected = threads_per_process(2)
    assert analysis.timings["threads"] == expected
    text = log.read_text(errors="replace")
    assert f"on {expected} torch thread" in text and "// concurrency 2" in text, text[-3000:]
    page = client.get(reverse("ser:session", args=[analysis.recording.session_id]))
    assert f"with {expected} torch thread" in page.content.decode()


def test_an_explicit_thread_count_wins(start_worker, django_user_model) -> None:  # type: ignore[no-untyped-def]
    _, log = start_worker(TEST_WORKER_CONCURRENCY="2", SER_THREADS="3")
    client = _client(django_user_model)
    recording_id = _upload(client, 2)
    _wait_done(client, recording_id, log)
    assert EmotionAnalysis.objects.get(recording_id=recording_id).timings["threads"] == 3
    assert "(SER_THREADS=3)" in log.read_text(errors="replace")


def test_recordings_go_to_the_gpu_queue_only_while_a_gpu_worker_is_alive(  # type: ignore[no-untyped-def]
    settings, start_worker, django_user_model
) -> None:
    gpu_queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-gpu"
    settings.SER_GPU_QUEUE, settings.SER_GPU_HEARTBEAT_S = gpu_queue, 1
    cache.delete(workers.GPU_WORKER_KEY)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client = _client(django_user_model)
    assert workers.gpu_queue() is None  # no GPU worker yet

    # A worker consuming the GPU queue (on this machine's CPU: the routing needs no GPU).
    gpu_env = {"TEST_WORKER_QUEUES": gpu_queue, "SER_GPU_QUEUE": gpu_queue, "SER_GPU_HEARTBEAT_S": "1"}
    gpu_worker, gpu_log = start_worker(**gpu_env)
    deadline = time.monotonic() + 60
    while workers.gpu_queue() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers.gpu_queue() == gpu_queue, gpu_log.read_text(errors="replace")[-3000:]
    first = _upload(client, 3)
    _wait_done(client, first, gpu_log)  # no other worker runs: only the GPU queue's worker could
    assert "ser.tasks.analyse_recording" in gpu_log.read_text(errors="replace")

    # The GPU worker stops: its announcement expires and the next recording goes to the CPU queue.
    gpu_worker.terminate()
    gpu_worker.wait(timeout=30)
    deadline = time.monotonic() + 10
    while workers.gpu_queue() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers.gpu_queue() is None
    second = _upload(client, 4)
    assert _analyses_queued(broker, gpu_queue) == []
    assert _analyses_queued(broker, settings.CELERY_TASK_DEFAULT_QUEUE) == [second]
    _, cpu_log = start_worker()  # (starting a test worker empties the tests' broker db)
    assert services.requeue_stale(older_than_s=0) == 1  # the sweeper sends it again: to the CPU queue
    _wait_done(client, second, cpu_log)


def test_a_cache_outage_sends_recordings_to_the_cpu_queue(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    assert workers.gpu_queue() is None
