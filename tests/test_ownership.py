"""Another therapist's patient, session or recording is a 404 everywhere, and absent from lists."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patients.models import Patient
from sessions.models import Recording
from tests.audio import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(upload):  # type: ignore[no-untyped-def]
    return upload(wav_bytes(1.0))


def _urls(patient, session, recording) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        ("get", reverse("reports:dashboard", args=[patient.pk])),
        ("get", reverse("sessions:create", args=[patient.pk])),
        ("get", reverse("ser:session", args=[session.pk])),
        ("get", reverse("sessions:audio", args=[recording.pk])),
        ("post", reverse("ser:upload", args=[session.pk])),
        ("get", reverse("api:patient", args=[patient.pk])),
        ("get", reverse("api:sessions", args=[patient.pk])),
        ("post", reverse("api:sessions", args=[patient.pk])),
        ("get", reverse("api:session", args=[session.pk])),
        ("post", reverse("api:recordings", args=[session.pk])),
        ("get", reverse("api:recording", args=[recording.pk])),
    ]


def test_it_gives_another_therapist_404_on_every_detail_and_upload_url(
    client, other_therapist, patient, session, recording, settings
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    for method, url in _urls(patient, session, recording):
        data = {
            "file": SimpleUploadedFile("x.wav", wav_bytes(1.0)),
            "consent_confirmed": "true",
            "channel": "mix",
            "started_at": "2026-01-01T10:00",
        }
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, (method, url, response.status_code)
    # The posts created nothing under the owner's patient.
    assert Recording.objects.count() == 1
    assert patient.sessions.count() == 1


def test_it_gives_the_owner_each_url(web, patient, session, recording) -> None:  # type: ignore[no-untyped-def]
    for method, url in _urls(patient, session, recording):
        if method == "get":
            assert web.get(url).status_code == 200, url


def test_it_asks_anonymous_users_to_log_in(client, patient, session, recording) -> None:  # type: ignore[no-untyped-def]
    for method, url in _urls(patient, session, recording):
        response = getattr(client, method)(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_lists_show_only_the_therapists_own_patients(
    web, other_api, client, other_therapist, patient
) -> None:  # type: ignore[no-untyped-def]
    from patients.services import patient_create

    theirs = patient_create(owner=other_therapist, display_name="Someone Else")
    api_names = [p["display_name"] for p in other_api.get(reverse("api:patients")).json()["results"]]
    assert api_names == ["Someone Else"]
    page = web.get(reverse("patients:list")).content.decode()
    assert "Alex Example" in page and "Someone Else" not in page
    assert set(Patient.objects.for_user(other_therapist)) == {theirs}


def test_stored_audio_has_no_public_url(client, web, recording) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    path = settings.MEDIA_URL + recording.file.name
    assert client.get(path).status_code == 404
    assert web.get(path).status_code == 404
    # …only the permission-checked view streams it.
    assert web.get(reverse("sessions:audio", args=[recording.pk])).status_code == 200
