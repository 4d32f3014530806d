"""API rate limits (DRF throttling, counted in the cache)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rest_framework.throttling import UserRateThrottle

if TYPE_CHECKING:  # DRF's views import this module (via settings) while they load
    from rest_framework.request import Request
    from rest_framework.views import APIView

log = logging.getLogger(__name__)


class ClinicUserThrottle(UserRateThrottle):
    """Per-user request rate. With the cache (Redis) unreachable, requests are let through and the
    log says so: an outage of the rate limiter must not become an outage of the API."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            log.warning("rate limit not applied: cache unavailable (%s)", type(exc).__name__)
            return True
