"""HTTP byte ranges (RFC 9110 §14) for the audio the pages play, so a player can seek.

Django has no Range support for FileResponse (nor does `django.views.static.serve`); whitenoise's
covers only the static files it indexes itself, and the one package that wraps FileResponse
(django-ranged-response) has had no release since 2017. So this is a small, strict implementation:
one range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answered 206 with `Content-Range`; a
range that starts past the end (or `bytes=-0`) 416 with `Content-Range: bytes */size`; several
ranges, a malformed header or an `If-Range` (we send no validators to compare it with) the whole
file, 200, as the RFC allows. Every answer says `Accept-Ranges: bytes`. The slice is streamed from
the storage's file handle (seek, then bounded reads): the file is never read into memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
BLOCK_SIZE = 64 * 1024


@dataclass(frozen=True)
class RangeSpec:
    """One range as asked for: `first`-`last` (either may be None: `a-` or the suffix `-n`)."""

    first: int | None
    last: int | None

    def resolve(self, size: int) -> tuple[int, int] | None:
        """Inclusive (start, end) within a file of `size` bytes, or None if unsatisfiable."""
        if self.first is None:  # suffix: the last n bytes
            n = self.last or 0
            return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
        if self.first >= size:
            return None
        last = size - 1 if self.last is None else min(self.last, size - 1)
        return self.first, last


def requested_range(request: HttpRequest) -> RangeSpec | None:
    """The single range the request asks for; None for the whole file (no Range, several ranges,
    a header we cannot read, or an If-Range we cannot validate)."""
    header = request.headers.get("Range")
    if not header or "If-Range" in request.headers:
        return None
    match = _RANGE.match(header)
    if match is None:  # several ranges, another unit, or garbage: serve the whole file
        return None
    first, last = (int(g) if g else None for g in match.groups())
    if first is None and last is None:
        return None
    if first is not None and last is not None and last < first:
        return None  # invalid: the RFC says ignore the header
    return RangeSpec(first, last)


def includes_first_byte(spec: RangeSpec | None) -> bool:
    """Whether the answer to this request starts at byte 0: the whole file, or a range from 0.
    (A suffix range is taken as not, whatever the size: players ask for a file's tail only after
    its start.)"""
    return spec is None or spec.first == 0


class _Slice:
    """Reads at most `length` bytes of `handle` from where it stands; closes it when done."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self._handle, self._left = handle, length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(want)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()


def ranged_file_response(
    request: HttpRequest,
    handle: IO[bytes] | Any,
    *,
    size: int,
    content_type: str,
    filename: str = "",
    as_attachment: bool = False,
    spec: RangeSpec | None = None,
) -> HttpResponseBase:
    """`handle` (open, at byte 0, `size` bytes) as 200, 206 or 416 per the request's Range; the
    response owns the handle and closes it. `spec` is `requested_range(request)` when the caller
    already read it."""
    spec = spec if spec is not None else requested_range(request)
    if spec is None:
        response: HttpResponseBase = FileResponse(
            handle, content_type=content_type, filename=filename, as_attachment=as_attachment
        )
        response["Content-Length"] = str(size)
    else:
        bounds = spec.resolve(size)
        if bounds is None:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
        else:
            start, end = bounds
            handle.seek(start)
            response = FileResponse(
                _Slice(handle, end - start + 1),
                status=206,
                content_type=content_type,
                filename=filename,
                as_attachment=as_attachment,
            )
            response["Content-Length"] = str(end - start + 1)
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if isinstance(response, FileResponse):
        response.block_size = BLOCK_SIZE
    response["Accept-Ranges"] = "bytes"
    return response
