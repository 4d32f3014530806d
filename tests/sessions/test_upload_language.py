"""An upload refused in the sender's language: the service's words and the engine's (rendered from
the stored message where the AudioError is caught) follow Accept-Language; codes and field names
stay as they are."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sessions.models import Recording

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_a_bad_upload_is_refused_in_chinese_when_the_request_asks_for_it(api, session) -> None:  # type: ignore[no-untyped-def]
    url = reverse("api:recordings", args=[session.pk])
    for content, english, chinese in (
        (b"", "The file is empty.", "文件为空。"),
        (bytes(range(256)) * 64, "could not be read as audio", ""),
    ):
        data = {"file": SimpleUploadedFile("bad.wav", content), "consent_confirmed": "true"}
        body = api.post(url, data, format="multipart", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
        assert (body["status"], body["code"], list(body["errors"])) == (400, "invalid", ["file"])
        (message,) = body["errors"]["file"]
        assert CHINESE.search(message) and english not in message and chinese in message, body
        assert message in body["detail"]
    assert Recording.objects.count() == 0
