"""Rules every page and API call shares: sessions end a fixed time after login however active
they are, nothing the app sends is kept in a browser or proxy cache, and times are shown in the
user's time zone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import language_of, time_zone_of

from .api_errors import error_response
from .security import LOGIN_AT_SESSION_KEY, client_ip, safe_name

log = logging.getLogger("clinic.security")

API_PREFIX = "/api/"


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g}"


class AbsoluteSessionLifetimeMiddleware:
    """End a logged-in session SESSION_ABSOLUTE_SECONDS after login.

    The idle logoff (SESSION_COOKIE_AGE renewed on every request) never fires for a page that
    polls every few seconds (the session page polls analysis progress), so a session left open on
    a shared workstation would otherwise live forever. The login time is stamped into the session
    by `clinic.security` at login; a session without a stamp did not log in through
    django.contrib.auth and is ended too (fail closed).

    Ending is not a logout by the user: the session is flushed without `logout()`, so the user's
    API tokens (with their own TTL) survive. The web gets a "log in again" message and goes on as
    anonymous, so login_required sends it to the login page with ?next=; the API without a token
    gets a 401 that says why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(LOGIN_AT_SESSION_KEY)
            limit = settings.SESSION_ABSOLUTE_SECONDS
            if not isinstance(started, int | float) or time.time() - started >= limit:
                response = self._end(request, limit)
                if response is not None:
                    return response
        return self.get_response(request)

    def _end(self, request: HttpRequest, limit: int) -> HttpResponse | None:
        log.info(
            "session ended: absolute lifetime user=%s ip=%s limit_s=%d",
            safe_name(request.user.get_username()),
            client_ip(request),
            limit,
        )
        request.session.flush()
        request.user = AnonymousUser()
        text = _("Your session reached its %(hours)s-hour limit. Please log in again.") % {
            "hours": _hours(limit)
        }
        if request.path_info.startswith(API_PREFIX):
            if "HTTP_AUTHORIZATION" in request.META:
                return None  # a token request that also carried an old cookie: the token decides
            response = error_response(401, text)
            response["WWW-Authenticate"] = "Token"
            return response
        messages.info(request, text)
        return None


class NoStoreMiddleware:
    """Send `Cache-Control: private, no-store` and `Pragma: no-cache` with every response the app
    makes, so no page, plot, download or API answer (all of them may carry PHI) is written to a
    browser's disk cache or a shared proxy, and Back after logout cannot redisplay a patient's
    dashboard from the cache.

    Every response, not only logged-in users': which responses carry PHI is decided by views that
    change, and the few public ones (login page, health check) lose nothing by not being cached.
    A view that already says no-store keeps its header. Static files are served by WhiteNoise (or
    runserver) before this middleware and keep their long cache lifetimes. The plots used to be
    cached privately for an hour; they are rendered once and cached in Redis server-side, so
    re-fetching them costs a cache read."""

    VALUE = "private, no-store"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = self.VALUE
        response["Pragma"] = "no-cache"
        return response


class TimeZoneMiddleware:
    """Show and read times in the user's own zone (their profile), else the clinic's
    (CLINIC_TIME_ZONE), for the rest of the request: templates, form fields and exports convert
    with it; the database keeps UTC. Requests without a logged-in user (the login page, API calls
    with a token, which DRF authenticates later) get the clinic's zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            timezone.activate(ZoneInfo(time_zone_of(request.user)))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class UserLanguageMiddleware:
    """A logged-in therapist's own language (their profile) for the rest of the request, over
    what LocaleMiddleware found (the language cookie, else Accept-Language). Without a choice in
    the profile the request keeps LocaleMiddleware's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            chosen = language_of(request.user)
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
