"""Request bodies are refused before anything reads them: oversized for anyone, anything but a
small body for anonymous clients. The test client's payload is tiny while the declared length is
huge: had the server tried to read the declared body, the request would fail differently."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from sessions.models import Recording

pytestmark = pytest.mark.django_db

GIB = str(1200 * 1024 * 1024)


def _stored(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _post(client, url: str, length: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.generic(
        "POST",
        url,
        b"x" * 100,
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=length,
        **extra,
    )


def test_a_declared_oversized_upload_is_a_413_before_the_body_is_read(web, api, session, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    page = _post(web, reverse("ser:upload", args=[session.pk]), GIB)
    assert page.status_code == 413 and b"10 MB limit" in page.content
    response = _post(api, reverse("api:recordings", args=[session.pk]), GIB)
    assert response.status_code == 413 and "10 MB limit" in response.json()["errors"]["file"][0]
    assert not Recording.objects.exists() and _stored(settings) == []


def test_an_anonymous_big_body_gets_the_login_or_a_401_unread(client, session, settings) -> None:  # type: ignore[no-untyped-def]
    page = _post(client, reverse("ser:upload", args=[session.pk]), str(5 * 1024 * 1024))
    assert page.status_code == 302 and reverse("login") in page["Location"]
    api = _post(client, reverse("api:recordings", args=[session.pk]), str(5 * 1024 * 1024))
    assert api.status_code == 401
    # Even a random session id: nothing is looked up or parsed for an anonymous client.
    stray = _post(client, "/sessions/00000000-0000-0000-0000-000000000000/recordings/", GIB)
    assert stray.status_code == 413
    assert not Recording.objects.exists() and _stored(settings) == []


def test_small_anonymous_posts_such_as_the_login_form_still_work(client, therapist) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        reverse("login"), {"username": therapist.username, "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("patients:list")


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(rf, therapist, settings) -> None:  # type: ignore[no-untyped-def]
    # A server that passes a chunked body on unbounded (wsgi.input_terminated, no Content-Length):
    # reading stops with an error once the limit is passed, instead of spooling all of it.
    import io

    from django.core.exceptions import RequestDataTooBig
    from django.http import HttpResponse

    from clinic.limits import ENVELOPE_BYTES, RequestBodyLimitMiddleware

    settings.SER_MAX_UPLOAD_BYTES = 1024
    limit = 1024 + ENVELOPE_BYTES
    seen: dict[str, int] = {}

    def view(request):  # type: ignore[no-untyped-def]
        seen["read"] = len(request.body)
        return HttpResponse("ok")

    def chunked(size: int):  # type: ignore[no-untyped-def]
        request = rf.post("/x/", content_type="application/octet-stream")
        request.META.pop("CONTENT_LENGTH", None)
        request.META["wsgi.input_terminated"] = True
        request._stream = io.BytesIO(b"a" * size)
        request.user = therapist
        return request

    middleware = RequestBodyLimitMiddleware(view)
    assert middleware(chunked(limit)).status_code == 200 and seen["read"] == limit
    with pytest.raises(RequestDataTooBig):
        middleware(chunked(limit + 1))
