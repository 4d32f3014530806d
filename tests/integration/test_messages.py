"""What goes through the broker: the raw message on Redis carries the recording id and nothing
else — no names, no file names, no audio (security row 25)."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from django.conf import settings

from ser import services

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_the_broker_message_holds_only_the_recording_id(upload, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    recording = upload(name="Alex Example - session 3.wav")  # the fixture does not send for real…
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(queue)
    monkeypatch.undo()  # …so send this one to the real broker
    services.publish(str(recording.pk))
    (raw,) = client.lrange(queue, 0, -1)
    client.delete(queue)
    message = json.loads(raw)
    body = json.loads(base64.b64decode(message["body"]))
    assert body[0] == [str(recording.pk)] and body[1] == {}
    everything = (raw if isinstance(raw, str) else raw.decode()) + json.dumps(body)
    for secret in ("Alex", "Example", recording.session.patient.display_name, recording.sha256, "session 3"):
        assert secret not in everything
    assert message["headers"]["timelimit"] == [None, None]
