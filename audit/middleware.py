from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import Actor, current


def client_ip(request: HttpRequest | Any) -> str | None:
    """The client's address, or None where there is none (a test's force_login). Behind the one TLS
    proxy (BEHIND_TLS_PROXY), the last X-Forwarded-For entry, the one that proxy appended (earlier
    entries come from the client and can be forged); otherwise REMOTE_ADDR. The audit trail, the
    security log and django-axes (AXES_CLIENT_IP_CALLABLE) all use this one, so they name the same
    address; it is validated because it lands in IP columns."""
    meta = request.META
    candidates = [meta.get("REMOTE_ADDR")]
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        candidates.insert(0, meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate or ""))
        except ValueError:
            continue
    return None


class AuditContextMiddleware:
    """Makes the request's user and address available to audit recording anywhere below."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(
            Actor(user=lambda: getattr(request, "user", None), ip=client_ip(request), path=request.path[:300])
        )
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
