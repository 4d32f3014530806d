"""/healthz: the state of the database, the broker and the cache, each on its own, for load
balancers and operators. No PHI and no login; 503 when anything the app needs is down."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from django.conf import settings
    from kombu import Connection

    # A fresh connection, not the app's pool: the question is whether the broker answers now.
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=2, transport_options={"max_retries": 0}
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _cache() -> None:
    cache.set("healthz", "ok", 5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache did not return what was stored")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "broker": _broker, "cache": _cache}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    state: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            state[name] = "ok"
        except Exception as exc:  # report, never raise: this page must answer when things are down
            state[name] = f"down ({type(exc).__name__})"
    ok = all(v == "ok" for v in state.values())
    # The cache only speeds up plots (pages render without it), so it alone does not fail health.
    serving = state["database"] == "ok" and state["broker"] == "ok"
    return JsonResponse({"ok": ok, **state}, status=200 if serving else 503)
