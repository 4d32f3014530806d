"""The whole path on the real components: API upload → PostgreSQL → Redis → a Celery worker process
running the FunASR model → the stored analysis."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from ser.engine.model import choose_precision
from ser.models import EmotionAnalysis
from sessions.models import Recording
from tests.audio import speech_wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_uploaded_wav_is_analysed_by_a_real_worker(worker, django_user_model) -> None:  # type: ignore[no-untyped-def]
    proc, log = worker
    django_user_model.objects.create_user(username="dr.lee", password="a long test password")
    client = APIClient()
    token = client.post(reverse("api:token"), {"username": "dr.lee", "password": "a long test password"})
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    patient = client.post(reverse("api:patients"), {"display_name": "Sam Worker", "external_id": "MRN-9"})
    session = client.post(
        reverse("api:sessions", args=[patient.json()["id"]]), {"started_at": "2026-11-20T10:00:00Z"}
    )
    content = speech_wav_bytes(sr=22050)
    upload = client.post(
        reverse("api:recordings", args=[session.json()["id"]]),
        {"file": SimpleUploadedFile("visit-1.wav", content), "consent_confirmed": True, "channel": "right"},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    recording_id = upload.json()["recordings"][0]["id"]

    deadline = time.monotonic() + 180
    status = "pending"
    while time.monotonic() < deadline:
        status = client.get(reverse("api:recording", args=[recording_id])).json()["status"]
        if status in ("done", "failed") or proc.poll() is not None:
            break
        time.sleep(0.5)
    worker_log = log.read_text(errors="replace")
    assert status == "done", f"status={status}\n{worker_log[-4000:]}"

    recording = Recording.objects.get(pk=recording_id)
    analysis = EmotionAnalysis.objects.get(recording=recording)
    assert recording.sha256 == hashlib.sha256(content).hexdigest() == analysis.input_sha256
    assert len(analysis.scores) == 9 and sum(analysis.scores) == pytest.approx(1.0, abs=1e-6)
    assert len(analysis.embedding_array()) == analysis.embedding_dim == 64
    assert analysis.model_id == str(Path(django_settings.SER_MODEL))
    assert analysis.model_revision.startswith("sha256:") and analysis.is_test_model
    assert analysis.channel == "right" and analysis.precision == choose_precision("auto", "cpu")
    assert analysis.segment_count >= 1 and str(analysis.result_file.name).endswith("result.json")
    body = client.get(reverse("api:recording", args=[recording_id])).json()
    assert body["analyses"][0]["scores"].keys() == {
        "angry",
        "disgusted",
        "fearful",
        "happy",
        "neutral",
        "other",
        "sad",
        "surprised",
        "unknown",
    }
    assert "test checkpoint" in body["analyses"][0]["notice"]
    # The worker loaded the model once, in its one process.
    assert worker_log.count("loaded emotion model") == 1, worker_log[-4000:]
