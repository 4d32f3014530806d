"""Shared fixtures: the test checkpoint, personas, clients, a private media root per test."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from ser.testkit.checkpoint import write_test_checkpoint

_counter = itertools.count()


@pytest.fixture(scope="session")
def test_model_dir() -> Path:
    """The small random-initialised checkpoint (real FunASR format) that SER_MODEL points at."""
    path = Path(django_settings.SER_MODEL)
    if not path.is_absolute():
        path = Path(django_settings.BASE_DIR) / path
    return write_test_checkpoint(path, size="tiny")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path, test_model_dir):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SER_MODEL = str(test_model_dir)


@pytest.fixture(autouse=True)
def _english_unless_asked():  # type: ignore[no-untyped-def]
    """Each test starts in English: a test-client request with a Chinese Accept-Language leaves
    Chinese active in the thread (as any request does), which must not leak into the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


def _make_user(username: str, **extra: Any):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=f"{username}{next(_counter)}", password="correct horse battery", **extra
    )


@pytest.fixture
def therapist(db):  # type: ignore[no-untyped-def]
    # The owning therapist: creates the patients, sessions and recordings under test.
    return _make_user("owner")


@pytest.fixture
def other_therapist(db):  # type: ignore[no-untyped-def]
    # Another therapist of the same clinic: must see none of the owner's records.
    return _make_user("other")


@pytest.fixture
def api(therapist) -> APIClient:  # type: ignore[no-untyped-def]
    # A real session login (not force_authenticate, which no middleware can see): the request-size
    # guard, the session lifetime and the audit trail all run as they do for a real client.
    client = APIClient()
    client.force_login(therapist)
    return client


@pytest.fixture
def other_api(other_therapist) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(other_therapist)
    return client


@pytest.fixture
def web(client, therapist):  # type: ignore[no-untyped-def]
    client.force_login(therapist)
    return client


@pytest.fixture
def patient(therapist):  # type: ignore[no-untyped-def]
    from patients.services import patient_create

    return patient_create(owner=therapist, display_name="Alex Example", external_id="MRN-001")


@pytest.fixture
def session(patient):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from sessions.services import session_create

    return session_create(patient=patient, started_at=timezone.now())


@pytest.fixture
def upload(session, therapist, monkeypatch, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Upload bytes into `session` through the real service, with its after-commit work run (the
    file stored, the task "sent" into `upload.sent`, which records the ids instead of queueing)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sessions.services import recording_create
    from tests.audio import speech_wav_bytes

    sent: list[str] = []
    monkeypatch.setattr("ser.services.publish", lambda rid: sent.append(rid))

    def make(content: bytes | None = None, *, name: str = "r.wav", **options: Any):  # type: ignore[no-untyped-def]
        if content is None:
            # The same speech each time, its last sample made unique: a session refuses the same
            # audio (same SHA-256) twice.
            speech = speech_wav_bytes()
            content = speech[:-2] + len(sent).to_bytes(2, "little")
        with django_capture_on_commit_callbacks(execute=True):
            return recording_create(
                session=options.pop("session", session),
                upload=SimpleUploadedFile(name, content),
                consent_confirmed=True,
                uploaded_by=therapist,
                **options,
            )

    make.sent = sent  # type: ignore[attr-defined]
    return make


@pytest.fixture
def fresh_model(monkeypatch):  # type: ignore[no-untyped-def]
    """The process holds no model: the test decides which one gets loaded."""
    from ser import runtime

    monkeypatch.setattr(runtime, "_model", None)


def _start_worker(settings, test_model_dir, log: Path, **env_overrides: str) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    import redis
    from django.db import connection

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # the tests' own Redis db
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SER_MODEL": str(test_model_dir),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "LOG_LEVEL": "INFO",
        **env_overrides,
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clinic",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                env.get("TEST_WORKER_CONCURRENCY", "1"),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                env.get("TEST_WORKER_QUEUES", settings.CELERY_TASK_DEFAULT_QUEUE),
                "-n",
                f"tests-{os.getpid()}-{next(_counter)}@%h",
            ],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def worker(settings, test_model_dir, tmp_path):  # type: ignore[no-untyped-def]
    """A real Celery worker process on the tests' own queue and Redis db, against the test database."""
    log = tmp_path / "worker.log"
    proc = _start_worker(settings, test_model_dir, log)
    try:
        yield proc, log
    finally:
        _stop(proc)


@pytest.fixture
def start_worker(settings, test_model_dir, tmp_path):  # type: ignore[no-untyped-def]
    """Start real worker processes with extra environment (e.g. the worker's own time limits;
    TEST_WORKER_CONCURRENCY and TEST_WORKER_QUEUES set its --concurrency and -Q); each is stopped
    at the end of the test. Returns (process, log path)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"worker-{len(started)}.log"
        started.append(_start_worker(settings, test_model_dir, log, **env))
        return started[-1], log

    yield start
    for proc in started:
        _stop(proc)
