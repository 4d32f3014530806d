"""The OpenAPI schema's conventions (drf-spectacular): every operation documents the error body
for the error statuses it can answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from .api_errors import ErrorSerializer

ERRORS = {
    "400": "The request is not valid (the body says what was wrong).",
    "401": "No valid credentials (log in, or send `Authorization: Token <key>`).",
    "403": "Not allowed (for a page session: a missing CSRF token).",
    "404": "No such record, or not yours.",
    "409": "Conflicts with a record that already exists.",
    "413": "The upload is larger than the limit.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests; wait retry_after_s seconds.",
}
PUBLIC_ERRORS = ("400", "429")  # what the token endpoint can answer


class ClinicAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        public = not getattr(self.view, "permission_classes", None)
        for code, words in ERRORS.items():
            if code in responses or (public and code not in PUBLIC_ERRORS):
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            response["description"] = words
            responses[code] = response
        return responses
