"""How the API authenticates: tokens that expire (API_TOKEN_TTL_SECONDS), and the answer to a
locked-out login that the login page and the token endpoint share (a page that says when to retry;
a 429 JSON for the API).

This module must not import DRF views: DRF resolves DEFAULT_AUTHENTICATION_CLASSES (which names a
class here) while defining APIView, so a view imported here would import this half-loaded module.
The token endpoint is in `clinic.apis`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .api_errors import error_body
from .middleware import API_PREFIX
from .security import client_ip, log, safe_name


def token_ttl() -> timedelta:
    return timedelta(seconds=settings.API_TOKEN_TTL_SECONDS)


def token_expired(token: Token, *, now: datetime | None = None) -> bool:
    return token.created <= (now or timezone.now()) - token_ttl()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, but a token older than API_TOKEN_TTL_SECONDS is deleted and the
    request refused with a 401 that says how to get a new one. A leaked token (a script, a shell
    history, a laptop) thus stops working on its own; DRF's tokens otherwise never expire."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            log.info("api token expired user=%s", safe_name(user.get_username()))
            days = settings.API_TOKEN_TTL_SECONDS / 86400
            raise AuthenticationFailed(
                _(
                    "This API token has expired (tokens last %(days)s days). Get a new one: POST your "
                    "username and password to %(url)s."
                )
                % {"days": f"{days:g}", "url": reverse("api:token")}
            )
        return user, token


@dataclass(frozen=True)
class Lockout:
    """A username locked out from an address, and when it may try again: its last counted failure
    plus the cool-off (failures during a lockout are not counted,
    AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""

    username: str
    retry_at: datetime
    wait_s: int

    @classmethod
    def of(cls, request: HttpRequest | Request, credentials: Any = None) -> Lockout:
        username = str(get_client_username(request, credentials) or "")
        last = AccessAttempt.objects.filter(username=username, ip_address=client_ip(request)).aggregate(
            last=Max("attempt_time")
        )["last"]
        retry_at = (last or timezone.now()) + settings.AXES_COOLOFF_TIME
        wait_s = max(0, math.ceil((retry_at - timezone.now()).total_seconds()))
        return cls(username=username, retry_at=retry_at, wait_s=wait_s)

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait_s / 60))

    def payload(self) -> dict[str, Any]:
        return error_body(
            429,
            ngettext(
                "Too many failed logins for this username from your address. Try again in "
                "%(minutes)s minute (after %(retry_at)s).",
                "Too many failed logins for this username from your address. Try again in "
                "%(minutes)s minutes (after %(retry_at)s).",
                self.minutes,
            )
            % {"minutes": self.minutes, "retry_at": self.retry_at.isoformat()},
            retry_after_s=self.wait_s,
            retry_at=self.retry_at.isoformat(),
        )


def lockout_response(
    request: HttpRequest | Request, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The answer to a locked-out login (AXES_LOCKOUT_CALLABLE; status 429 Too Many Requests): JSON
    under /api/, else the lockout page. Both say when to try again and carry Retry-After."""
    lockout = Lockout.of(request, credentials)
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(lockout.payload(), status=429)
    else:
        http_request = request._request if isinstance(request, Request) else request
        context = {
            "username": lockout.username,
            "retry_at": timezone.localtime(lockout.retry_at),
            "minutes": lockout.minutes,
        }
        response = render(http_request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(lockout.wait_s)
    return response
