"""Template context shared by every page: the product's fixed wording (defined once in the engine's
notices module, translated here), so templates never write it out themselves."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from ser.engine import notices


def notices_context(request: HttpRequest) -> dict[str, object]:
    return {
        "NOTICES": {
            "disclaimer": gettext_lazy(notices.DISCLAIMER),
            "disclaimer_long": gettext_lazy(notices.DISCLAIMER_LONG),
            "test_model": gettext_lazy(notices.TEST_MODEL_WARNING),
        }
    }
