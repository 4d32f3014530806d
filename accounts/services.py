"""Writes for a therapist's own profile.

Not audited: the audit trail records access to patients' records, and `accounts` sits beside
`audit` in the layers (neither imports the other). A profile holds preferences and ids, no PHI."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from .models import Profile

log = logging.getLogger(__name__)


@transaction.atomic
def profile_time_zone_set(*, user: Any, time_zone: str) -> Profile:
    """Show this user's pages in `time_zone` (an IANA name); blank: the clinic's zone."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    profile.time_zone = time_zone.strip()
    profile.full_clean()
    profile.save(update_fields=["time_zone"])
    log.info("user %s set time zone %s", user.pk, profile.time_zone or "(clinic's)")
    return profile


@transaction.atomic
def profile_language_set(*, user: Any, language: str) -> Profile:
    """Show this user's pages in `language` (a code from settings.LANGUAGES); blank: the browser's."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    profile.language = language.strip()
    profile.full_clean()
    profile.save(update_fields=["language"])
    log.info("user %s set language %s", user.pk, profile.language or "(browser's)")
    return profile
