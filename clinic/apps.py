"""The project app: connects the security receivers (logins, logouts, token revocation)."""

from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        # Imported for its @receiver side effects: connected once, when the app registry is ready.
        from . import security  # noqa: F401
