"""A therapist's profile: one per user, created when first needed."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA zone names this server knows (read from disk once per process)."""
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone name; choose one like Europe/London."),
            code="invalid_time_zone",
            params={"value": value},
        )


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    ehr_practitioner_id = models.CharField(
        _("EHR Practitioner id"),
        max_length=64,
        blank=True,
        help_text=_(
            "The id of this therapist's Practitioner resource in the clinic's FHIR server. "
            "When set, exports refer to it instead of carrying a Practitioner of their own."
        ),
    )
    professional_id = models.CharField(
        _("professional identifier"),
        max_length=64,
        blank=True,
        help_text=_("A licence or registration number, exported as the Practitioner's identifier."),
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Pages show times in this zone; blank: the clinic's (CLINIC_TIME_ZONE)."),
    )

    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Pages, messages and reports are in this language; blank: the browser's."),
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


def profile_of(user: Any) -> Profile:
    """The user's profile, unsaved and empty when they have none yet (reads never write)."""
    try:
        return user.profile  # type: ignore[no-any-return]
    except Profile.DoesNotExist:
        return Profile(user=user)


def time_zone_of(user: Any) -> str:
    """The zone the user's pages show times in: their own choice, else the clinic's."""
    own = profile_of(user).time_zone
    return own if own in time_zone_names() else settings.TIME_ZONE


def language_of(user: Any) -> str:
    """The language the user chose for their pages ("" when they left it to the browser)."""
    own = profile_of(user).language
    return own if own in dict(settings.LANGUAGES) else ""
