"""Analysis files download through the owner check; the API shows the engine's fields."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
from django.urls import reverse

from ser import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysis(upload, fresh_model):  # type: ignore[no-untyped-def]
    recording = upload(granularity="frame")
    return services.analysis_run(recording_id=str(recording.pk))


def _get(client, analysis, name):  # type: ignore[no-untyped-def]
    response = client.get(reverse("ser:download", args=[analysis.pk, name]))
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, body


def test_the_owner_downloads_result_embedding_and_processed_audio(web, analysis) -> None:  # type: ignore[no-untyped-def]
    response, body = _get(web, analysis, "result.json")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    doc = json.loads(body)
    assert doc["emotion"] == analysis.dominant_emotion and doc["granularity"] == "frame"
    response, body = _get(web, analysis, "embedding.npy")
    frames = np.load(io.BytesIO(body))
    assert frames.ndim == 2 and frames.shape[1] == analysis.embedding_dim
    assert abs(frames.shape[0] - 50 * analysis.analysed_s) <= 2 * analysis.segment_count
    response, body = _get(web, analysis, "processed_audio.wav")
    audio, rate = sf.read(io.BytesIO(body))
    assert rate == 16000 and audio.ndim == 1
    response, body = _get(web, analysis, "frames.npz")
    track = np.load(io.BytesIO(body))
    assert track["scores"].shape == (frames.shape[0], 9)


def test_another_therapist_gets_404_for_every_file(client, other_therapist, analysis) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    for name in ("result.json", "embedding.npy", "processed_audio.wav", "frames.npz", "segments.npz"):
        assert client.get(reverse("ser:download", args=[analysis.pk, name])).status_code == 404


def test_unknown_names_are_404_and_anonymous_is_sent_to_login(web, analysis) -> None:  # type: ignore[no-untyped-def]
    assert web.get(reverse("ser:download", args=[analysis.pk, "settings.py"])).status_code == 404
    web.logout()
    response = web.get(reverse("ser:download", args=[analysis.pk, "result.json"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_api_shows_timeline_progress_and_downloads(api, analysis) -> None:  # type: ignore[no-untyped-def]
    body = api.get(reverse("api:recording", args=[analysis.recording_id])).json()
    assert body["status"] == "done" and body["progress"] == 100 and body["granularity"] == "frame"
    a = body["analyses"][0]
    assert len(a["timeline"]) == a["segment_count"] >= 2
    assert set(a["timeline"][0]["scores"]) == set(a["scores"])
    assert {"result.json", "embedding.npy", "processed_audio.wav"} <= set(a["downloads"])
    assert {"decode_s", "vad_s", "model_s"} <= set(a["timings"])


def test_the_session_page_shows_player_plots_and_log(web, client, other_therapist, analysis) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("ser:session", args=[analysis.recording.session_id])).content.decode()
    for text in (
        "<audio",
        "Processing log",
        "Speech detection (silero-vad)",
        analysis.model_revision,
        "Within the session",
        "result.json",
        "decision support, not a diagnosis",
    ):
        assert text.lower() in page.lower(), text
    for kind in ("timeline", "bars"):
        response = web.get(reverse("reports:analysis_plot", args=[analysis.pk, kind]))
        assert response.status_code == 200 and response.content.lstrip().startswith(b"<?xml")
    # The frame track is drawn under the segments at frame granularity.
    assert (
        b"frame scores (20 ms)"
        in web.get(reverse("reports:analysis_plot", args=[analysis.pk, "timeline"])).content
    )
    client.force_login(other_therapist)
    assert client.get(reverse("reports:analysis_plot", args=[analysis.pk, "timeline"])).status_code == 404
