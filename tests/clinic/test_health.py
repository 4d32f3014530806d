"""/healthz says how the database, the broker and the cache are, each on its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_reports_each_component_ok(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok", "broker": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_cache_outage_is_reported_but_the_app_still_serves(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    assert body["cache"].startswith("down") and body["database"] == body["broker"] == "ok"


def test_a_broker_outage_is_a_503(client, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens here
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["broker"].startswith("down")
