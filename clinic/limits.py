"""Request bodies are bounded before anything reads them.

Django's CSRF middleware reads a POST body (parsing uploads to temp files) before a view's login
check runs, so without this an anonymous client could make the server spool gigabytes to disk, and
an oversized upload was refused only after all of it was on disk. This middleware answers first:
- a declared Content-Length over the upload limit → 413 at once, for anyone;
- an anonymous request (no session user, no API token header) with more than a small body → the
  login redirect (pages) or 401 (API), body unread;
- a body without Content-Length (chunked, where the server passes it on) is read through a capped
  stream that stops at the limit (Django answers 400).
docker-compose.yml's reverse proxy caps bodies too (client_max_body_size), ahead of the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAuthenticated

from .api_errors import error_response

# Slack above the audio limit for the multipart envelope and the other form fields.
ENVELOPE_BYTES = 1 << 20
# Enough for the login form and the token request; anything bigger needs a logged-in user.
ANONYMOUS_BODY_BYTES = 64 << 10


def max_body_bytes() -> int:
    return int(settings.SER_MAX_UPLOAD_BYTES) + ENVELOPE_BYTES


class _CappedStream:
    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._left = stream, limit

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size is not None and size >= 0 else self._left + 1)
        self._left -= len(data)
        if self._left < 0:
            raise RequestDataTooBig("The request body is larger than the upload limit.")
        return data

    def __getattr__(self, name: str) -> object:  # close() and the rest: the wrapped stream's
        return getattr(self._stream, name)

    def readline(self, size: int = -1) -> bytes:
        line = self._stream.readline(size)
        self._left -= len(line)
        if self._left < 0:
            raise RequestDataTooBig("The request body is larger than the upload limit.")
        return line


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class RequestBodyLimitMiddleware:
    """Placed after AuthenticationMiddleware (it needs request.user); reads no body itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH"):
            refused = self._refuse(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        limit = max_body_bytes()
        declared = request.META.get("CONTENT_LENGTH") or ""
        length = int(declared) if declared.isdigit() else None
        if length is not None and length > limit:
            message = _("The upload is larger than the %(limit)s MB limit.") % {
                "limit": f"{settings.SER_MAX_UPLOAD_BYTES / 1024 / 1024:.0f}"
            }
            if _wants_json(request):
                return error_response(413, message, errors={"file": [message]})
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        anonymous = not request.user.is_authenticated and "HTTP_AUTHORIZATION" not in request.META
        if anonymous and (length is None or length > ANONYMOUS_BODY_BYTES):
            if _wants_json(request):
                return error_response(401, str(NotAuthenticated.default_detail))  # DRF's words, translated
            return redirect_to_login(request.get_full_path())
        if length is None and request.META.get("wsgi.input_terminated"):
            # A chunked body the server passes on unbounded: Django would read it all.
            request._stream = _CappedStream(request._stream, limit)  # type: ignore[attr-defined,assignment]
        return None
