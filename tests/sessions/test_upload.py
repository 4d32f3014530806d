"""Uploading recordings: validated by content, stored under a server-made name, queued after commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sessions.models import Recording
from tests.audio import wav_bytes

pytestmark = pytest.mark.django_db


def _stored_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _post(api, session, content: bytes, name: str = "session.wav", **extra):  # type: ignore[no-untyped-def]
    data = {
        "file": SimpleUploadedFile(name, content, content_type="audio/wav"),
        "consent_confirmed": "true",
        **extra,
    }
    return api.post(reverse("api:recordings", args=[session.pk]), data, format="multipart")


def test_it_stores_a_valid_recording_and_queues_its_analysis_after_commit(
    api, session, settings, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sent: list[tuple] = []
    monkeypatch.setattr("ser.services.publish", lambda *a, **k: sent.append((a, k)))
    content = wav_bytes(2.0, sr=44100, channels=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(api, session, content, name="../../etc/passwd\x00.wav", channel="left")
    assert response.status_code == 201, response.content
    (body,) = response.json()["recordings"]
    recording = Recording.objects.get(pk=body["id"])
    assert body["status"] == "pending"
    assert recording.sha256 == hashlib.sha256(content).hexdigest() == body["sha256"]
    assert (recording.sample_rate, recording.channels, recording.channel) == (44100, 2, "left")
    assert recording.duration_s == pytest.approx(2.0, abs=1e-3)
    # Stored under the media root with a server-made name; the uploaded name is metadata only.
    stored = Path(recording.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert stored.name == f"{recording.id.hex}.wav"
    assert stored.read_bytes() == content
    assert "/" not in recording.original_name and "\x00" not in recording.original_name
    # After commit: the bytes to storage, then the analysis queued exactly once, with the id only
    # (no PHI in the message).
    assert len(callbacks) == 2
    assert sent == [((str(recording.pk),), {})]


@pytest.mark.parametrize(
    "content, name, fragment",
    [
        (b"", "empty.wav", "empty"),
        (bytes(range(256)) * 64, "random.wav", "could not be read as audio"),
        (
            b"Dear colleague,\nplease find the notes attached.\n" * 50,
            "notes.wav",
            "could not be read as audio",
        ),
        (b"MZ\x90\x00\x03" + b"\x00" * 4000, "setup.exe.wav", "could not be read as audio"),
    ],
)
def test_it_rejects_bad_uploads_with_a_clear_400_and_stores_and_queues_nothing(
    api, session, settings, django_capture_on_commit_callbacks, monkeypatch, content, name, fragment
) -> None:  # type: ignore[no-untyped-def]
    sent: list = []
    monkeypatch.setattr("ser.services.publish", lambda *a, **k: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(api, session, content, name=name)
    assert response.status_code == 400
    assert fragment in response.content.decode()
    assert Recording.objects.count() == 0
    assert _stored_files(settings) == []
    assert callbacks == [] and sent == []


def test_it_rejects_a_truncated_recording(api, session, settings) -> None:  # type: ignore[no-untyped-def]
    content = wav_bytes(6.0, fmt="FLAC", subtype="PCM_16")
    response = _post(api, session, content[: len(content) // 2], name="cut.flac")
    assert response.status_code == 400
    assert Recording.objects.count() == 0 and _stored_files(settings) == []


def test_it_caps_the_upload_size_with_413(api, session, settings) -> None:  # type: ignore[no-untyped-def]
    content = wav_bytes(1.0)
    settings.SER_MAX_UPLOAD_BYTES = len(content) - 1
    response = _post(api, session, content)
    assert response.status_code == 413
    assert "limit" in response.content.decode()
    assert Recording.objects.count() == 0 and _stored_files(settings) == []


def test_it_requires_consent(api, session, settings) -> None:  # type: ignore[no-untyped-def]
    response = _post(api, session, wav_bytes(1.0), consent_confirmed="false")
    assert response.status_code == 400
    assert "consent" in response.content.decode()
    assert Recording.objects.count() == 0 and _stored_files(settings) == []


def test_it_queues_and_stores_nothing_when_the_transaction_rolls_back(
    session, therapist, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from sessions.services import recording_create

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                recording_create(
                    session=session,
                    upload=SimpleUploadedFile("a.wav", wav_bytes(1.0)),
                    consent_confirmed=True,
                    uploaded_by=therapist,
                )
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert Recording.objects.count() == 0
    # The caller's rollback leaves no audio behind in storage either.
    assert _stored_files(settings) == []


def test_the_web_form_uploads_and_shows_errors_in_words(web, session, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ser.services.publish", lambda *a, **k: None)
    url = reverse("ser:upload", args=[session.pk])
    bad = web.post(
        url,
        {
            "file": SimpleUploadedFile("x.wav", b"not audio at all" * 40),
            "channel": "mix",
            "consent_confirmed": "on",
        },
    )
    assert bad.status_code == 400
    assert "could not be read as audio" in bad.content.decode()
    good = web.post(
        url,
        {
            "file": SimpleUploadedFile("visit.wav", wav_bytes(1.0)),
            "channel": "mix",
            "consent_confirmed": "on",
        },
        follow=True,
    )
    assert good.status_code == 200
    assert "visit.wav" in good.content.decode()
    assert Recording.objects.filter(session=session).count() == 1


def test_it_accepts_m4a_and_webm_by_content(api, session, settings, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    monkeypatch.setattr("ser.services.publish", lambda *a, **k: None)
    src = tmp_path / "src.wav"
    src.write_bytes(wav_bytes(2.0, sr=44100, channels=2))
    for ext, codec in (("m4a", "aac"), ("webm", "libopus")):
        out = tmp_path / f"clip.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", codec, str(out)], check=True)
        response = _post(api, session, out.read_bytes(), name=f"browser.{ext}")
        assert response.status_code == 201, response.content
        recording = Recording.objects.get(pk=response.json()["recordings"][0]["id"])
        assert recording.channels == 2 and recording.duration_s == pytest.approx(2.0, abs=0.1)
        assert Path(str(recording.file.name)).suffix == f".{ext}"


def test_it_refuses_the_right_channel_of_a_mono_file(api, session) -> None:  # type: ignore[no-untyped-def]
    response = _post(api, session, wav_bytes(1.0), channel="right")
    assert response.status_code == 400 and "one channel" in response.content.decode()
    assert Recording.objects.count() == 0
