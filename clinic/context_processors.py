"""Template context shared by every page: the product's fixed wording (defined once in the engine's
notices module), so templates never write it out themselves."""

from __future__ import annotations

from django.http import HttpRequest

from ser.engine import notices


def notices_context(request: HttpRequest) -> dict[str, object]:
    return {
        "NOTICES": {
            "disclaimer": notices.DISCLAIMER,
            "disclaimer_long": notices.DISCLAIMER_LONG,
            "test_model": notices.TEST_MODEL_WARNING,
        }
    }
