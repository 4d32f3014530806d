from __future__ import annotations

from django.apps import AppConfig


class TherapySessionsConfig(AppConfig):
    name = "sessions"
    label = "therapy_sessions"
    verbose_name = "Therapy sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A deleted recording's audio leaves storage after the delete commits, whichever way the
        # row went (its own delete, or the cascade from its session or patient).
        from django.db.models.signals import post_delete

        from .models import Recording
        from .receivers import recording_file_delete

        post_delete.connect(recording_file_delete, sender=Recording, dispatch_uid="sessions.recording_file")
