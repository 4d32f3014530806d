"""A therapist's profile: one per user, created when first needed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    ehr_practitioner_id = models.CharField(
        "EHR Practitioner id",
        max_length=64,
        blank=True,
        help_text="The id of this therapist's Practitioner resource in the clinic's FHIR server. "
        "When set, exports refer to it instead of carrying a Practitioner of their own.",
    )
    professional_id = models.CharField(
        "professional identifier",
        max_length=64,
        blank=True,
        help_text="A licence or registration number, exported as the Practitioner's identifier.",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


def profile_of(user: Any) -> Profile:
    """The user's profile, unsaved and empty when they have none yet (reads never write)."""
    try:
        return user.profile  # type: ignore[no-any-return]
    except Profile.DoesNotExist:
        return Profile(user=user)
