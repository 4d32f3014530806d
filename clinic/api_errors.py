"""One error body for every API error (400, 401, 403, 404, 409, 413, 415, 429):

    {"status": 400, "code": "invalid", "detail": "display_name: This field is required.",
     "errors": {"display_name": ["This field is required."]}}

`detail` is a sentence for people, `errors` the same per field for programs (empty when the error
is not about fields), `code` a stable machine word. The DRF exception handler shapes exceptions;
`error_response` is for the answers given before DRF runs (the body-size middleware, the lockout)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with a record that already exists.")
    default_code = "conflict"


def error_body(
    status_code: int, detail: str, *, errors: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "status": status_code,
        "code": CODES.get(status_code, "error"),
        "detail": detail,
        "errors": errors or {},
        **extra,
    }


def error_response(
    status_code: int, detail: str, *, errors: dict[str, list[str]] | None = None, **extra: Any
) -> JsonResponse:
    return JsonResponse(error_body(status_code, detail, errors=errors, **extra), status=status_code)


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [f"{k}: {s}" for k, v in value.items() for s in _strings(v)]
    return [str(value)]


def _field_errors(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {str(k): _strings(v) for k, v in data.items()}
    return {"non_field_errors": _strings(data)}


def _sentence(errors: dict[str, list[str]]) -> str:
    parts = [
        " ".join(msgs) if field in ("non_field_errors", "__all__", "detail") else f"{field}: {' '.join(msgs)}"
        for field, msgs in errors.items()
    ]
    return " ".join(parts) or gettext("The request is not valid.")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK['EXCEPTION_HANDLER']. Django's ValidationError (raised by services and
    full_clean) is a 400 with its messages; an IntegrityError that validation did not foresee (two
    requests racing for the same unique value) is a 409; everything else is DRF's, reshaped."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    from rest_framework.views import exception_handler  # not at import: DRF's settings import us

    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 (logged), never details to the client
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(response.data)
        detail = _sentence(errors)
    else:
        data = response.data
        detail = str(data.get("detail", "")) if isinstance(data, dict) else " ".join(_strings(data))
        errors = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            extra["retry_after_s"] = int(wait)
    response.data = error_body(response.status_code, detail, errors=errors, **extra)
    return response


class ErrorSerializer(serializers.Serializer):
    """The error body, for the OpenAPI schema."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.ChoiceField(choices=sorted(set(CODES.values()) | {"error"}))
    detail = serializers.CharField(help_text="What was wrong, in words.")
    # The metaclass takes declared fields off the class, so Serializer.errors stays intact.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per field: its messages (400 only; empty otherwise).",
    )
    retry_after_s = serializers.IntegerField(required=False, help_text="429 only: seconds to wait.")
