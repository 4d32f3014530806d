"""Correcting a recording's channel or granularity: the old results and their files go, the audio
stays, and the recording is analysed again — from the page and the API, owner only."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from ser.models import AnalysisJob, EmotionAnalysis
from ser.services import analysis_run

pytestmark = pytest.mark.django_db


def _analysed(upload):  # type: ignore[no-untyped-def]
    recording = upload(channel="left")  # two-channel speech, patient on the left
    analysis = analysis_run(recording_id=str(recording.pk))
    assert analysis is not None
    return recording, analysis


def _files(analysis: EmotionAnalysis) -> list[Path]:
    return [Path(f.path) for f in (analysis.result_file, analysis.embedding_file, analysis.audio_file) if f]


def test_the_page_reanalyses_with_the_corrected_channel(  # type: ignore[no-untyped-def]
    web, upload, settings, django_capture_on_commit_callbacks
) -> None:
    recording, analysis = _analysed(upload)
    files = _files(analysis)
    assert files and all(p.exists() for p in files)
    audio = Path(recording.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            reverse("ser:reanalyse", args=[recording.pk]), {"channel": "mix", "granularity": "frame"}
        )
    assert response.status_code == 302
    recording.refresh_from_db()
    assert (recording.channel, recording.granularity) == ("mix", "frame")
    assert not EmotionAnalysis.objects.filter(recording=recording).exists()
    assert not any(p.exists() for p in files) and audio.exists()
    job = AnalysisJob.objects.get(recording=recording)
    assert (job.status, job.attempts) == ("pending", 0)
    assert upload.sent[-1] == str(recording.pk)  # queued again after commit
    assert AuditEvent.objects.filter(
        action="update", detail__startswith="re-analysis: left/utterance"
    ).exists()
    again = analysis_run(recording_id=str(recording.pk))
    assert again is not None and (again.channel, again.granularity) == ("mix", "frame")


def test_the_api_refuses_while_analysing_and_for_impossible_choices(api, other_api, upload) -> None:  # type: ignore[no-untyped-def]
    from tests.audio import wav_bytes

    recording = upload(wav_bytes(2.0, seed=5))  # one channel, still queued
    url = reverse("api:recording", args=[recording.pk])
    busy = api.patch(url, {"granularity": "frame"}, format="json")
    assert busy.status_code == 409 and "being analysed" in busy.json()["detail"]
    AnalysisJob.objects.filter(recording=recording).update(status="failed")
    body = api.patch(url, {"channel": "right"}, format="json").json()
    assert body["status"] == 400 and body["errors"]["channel"] == [
        "The recording has one channel; choose mix or left."
    ]
    assert other_api.patch(url, {"granularity": "frame"}, format="json").status_code == 404
    done = api.patch(url, {"granularity": "frame"}, format="json")
    assert (
        done.status_code == 202
        and done.json()["granularity"] == "frame"
        and done.json()["status"] == "pending"
    )
