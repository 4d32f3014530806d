from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """What the product keeps about a therapist beyond Django's user: the ids the clinic's record
    system knows them by. At the bottom of the layers beside `audit`: it imports neither."""

    name = "accounts"
    verbose_name = "Therapist profiles"
    default_auto_field = "django.db.models.BigAutoField"
