"""The recording's audio honours HTTP Range (so the player can seek), streams the slice, keeps to
the owner check, and writes one audit event per listening rather than one per seek."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import RecordingFactory, SessionFactory

pytestmark = pytest.mark.django_db
CONTENT = bytes(range(256)) * 40  # 10 240 bytes, every offset recognisable


@pytest.fixture
def recording(patient):  # type: ignore[no-untyped-def]
    return RecordingFactory(session=SessionFactory(patient=patient), content=CONTENT)


def _get(client, recording, range_header: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    if range_header is not None:
        headers["HTTP_RANGE"] = range_header
    response = client.get(reverse("sessions:audio", args=[recording.pk]), **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _exports(recording) -> int:  # type: ignore[no-untyped-def]
    return AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_id=str(recording.pk)).count()


def test_it_answers_a_range_with_206_and_exactly_that_slice(web, recording) -> None:  # type: ignore[no-untyped-def]
    response, body = _get(web, recording, "bytes=100-1099")
    assert response.status_code == 206
    assert body == CONTENT[100:1100]
    assert response["Content-Range"] == f"bytes 100-1099/{len(CONTENT)}"
    assert response["Content-Length"] == "1000"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"].startswith("audio/")
    assert response["Cache-Control"] == "private, no-store"


def test_it_answers_open_ended_and_suffix_ranges(web, recording) -> None:  # type: ignore[no-untyped-def]
    response, body = _get(web, recording, "bytes=10000-")
    assert response.status_code == 206 and body == CONTENT[10000:]
    assert response["Content-Range"] == f"bytes 10000-10239/{len(CONTENT)}"
    response, body = _get(web, recording, "bytes=-300")
    assert response.status_code == 206 and body == CONTENT[-300:]
    assert response["Content-Range"] == f"bytes 9940-10239/{len(CONTENT)}"
    # A range running past the end is cut at the end; a suffix longer than the file is all of it.
    response, body = _get(web, recording, "bytes=10200-99999")
    assert response.status_code == 206 and body == CONTENT[10200:]
    response, body = _get(web, recording, "bytes=-99999")
    assert response.status_code == 206 and body == CONTENT


def test_an_unsatisfiable_range_is_416_with_the_size(web, recording) -> None:  # type: ignore[no-untyped-def]
    for header in (f"bytes={len(CONTENT)}-", "bytes=20000-20010", "bytes=-0"):
        response, body = _get(web, recording, header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
        assert response["Accept-Ranges"] == "bytes" and body == b""


def test_without_a_usable_range_it_serves_the_whole_file_and_says_ranges_work(web, recording) -> None:  # type: ignore[no-untyped-def]
    for header in (None, "bytes=0-9,100-199", "bytes=9-1", "items=0-9", "bytes=abc"):
        response, body = _get(web, recording, header)
        assert response.status_code == 200, header
        assert body == CONTENT and response["Content-Length"] == str(len(CONTENT))
        assert response["Accept-Ranges"] == "bytes"
    # If-Range: we send no validators, so we cannot tell whether the client's copy is current.
    response, body = _get(web, recording, "bytes=10-19", HTTP_IF_RANGE='"some-etag"')
    assert response.status_code == 200 and body == CONTENT


def test_another_therapist_gets_404_whatever_the_range(client, other_therapist, recording) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    for header in (None, "bytes=0-", "bytes=5000-"):
        response, _ = _get(client, recording, header)
        assert response.status_code == 404
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.DENIED, actor=other_therapist, object_id=str(recording.pk)
        ).count()
        == 3
    )
    assert _exports(recording) == 0


def test_a_browser_listening_and_seeking_is_served_and_audited_once(web, recording) -> None:  # type: ignore[no-untyped-def]
    """What Chromium sends for <audio>: the start as an open range, then a range per seek."""
    response, body = _get(web, recording, "bytes=0-")
    assert response.status_code == 206 and body == CONTENT
    assert response["Content-Range"] == f"bytes 0-10239/{len(CONTENT)}"
    for start in (6000, 2048, 9000):
        response, body = _get(web, recording, f"bytes={start}-")
        assert response.status_code == 206 and body == CONTENT[start:]
    assert _exports(recording) == 1
    # A new listening (from the start again) is a new export in the trail.
    _get(web, recording, "bytes=0-")
    assert _exports(recording) == 2


def test_the_slice_is_streamed_in_blocks_not_read_whole(web, patient) -> None:  # type: ignore[no-untyped-def]
    big = bytes(range(256)) * 1200  # 300 KiB
    recording: Any = RecordingFactory(session=SessionFactory(patient=patient), content=big)
    response = web.get(reverse("sessions:audio", args=[recording.pk]), HTTP_RANGE="bytes=1000-")
    assert response.status_code == 206 and response.streaming
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == big[1000:]
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 64 * 1024


def test_the_processed_audio_download_honours_range_too(web, upload, fresh_model) -> None:  # type: ignore[no-untyped-def]
    from ser import services

    analysis = services.analysis_run(recording_id=str(upload().pk))
    assert analysis is not None
    url = reverse("ser:download", args=[analysis.pk, "processed_audio.wav"])
    whole = b"".join(web.get(url).streaming_content)
    response = web.get(url, HTTP_RANGE="bytes=44-1043")
    assert response.status_code == 206 and response["Accept-Ranges"] == "bytes"
    assert b"".join(response.streaming_content) == whole[44:1044]
    assert response["Content-Range"] == f"bytes 44-1043/{len(whole)}"
    # Other files are downloads, not streams: whole, as before.
    response = web.get(reverse("ser:download", args=[analysis.pk, "result.json"]), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200
