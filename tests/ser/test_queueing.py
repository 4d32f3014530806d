"""Broker down at upload: the recording is stored and stays pending, the user gets their 201, and
the sweeper sends it once the broker is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ser import services
from ser.models import AnalysisJob
from sessions.models import Recording
from tests.audio import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):  # type: ignore[no-untyped-def]
    """Sending goes to a Redis port where nothing listens: a real failed connection, without
    touching the app's shared connection pools (later tests send for real)."""
    from celery import current_app
    from kombu import Connection

    dead = Connection("redis://127.0.0.1:1/0", connect_timeout=1)
    monkeypatch.setattr(
        "ser.services.publish",
        lambda rid: current_app.send_task(services.ANALYSE_TASK, args=(rid,), connection=dead, retry=False),
    )
    yield
    dead.release()


def test_a_broker_outage_leaves_the_upload_pending_and_the_sweeper_requeues_it(
    api, session, settings, django_capture_on_commit_callbacks, request, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    # A real connection attempt to a port where nothing listens: the broker is down.
    outage = request.getfixturevalue("broker_down")
    del outage
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("api:recordings", args=[session.pk]),
            {"file": SimpleUploadedFile("a.wav", wav_bytes(1.0)), "consent_confirmed": "true"},
            format="multipart",
        )
    assert response.status_code == 201
    assert "could not queue recording" in caplog.text
    recording = Recording.objects.get(pk=response.json()["recordings"][0]["id"])
    assert recording.job.status == AnalysisJob.Status.PENDING
    assert recording.file.storage.exists(str(recording.file.name))

    # The broker is back; a fresh pending row is left alone, a stale one is re-sent.
    sent: list[str] = []
    monkeypatch.setattr("ser.services.publish", lambda rid: sent.append(rid))
    assert services.requeue_stale(older_than_s=600) == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert services.requeue_stale(older_than_s=600) == 1
    assert sent == [str(recording.pk)]


def test_the_task_name_sent_is_the_registered_task() -> None:
    from ser.tasks import analyse_recording

    assert services.ANALYSE_TASK == analyse_recording.name
