from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SerConfig(AppConfig):
    name = "ser"
    verbose_name = "Speech-emotion recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The one way the sessions app sets off an analysis: its `recording_stored` signal, sent in
        # the transaction that creates the recording; the job row joins that transaction and the
        # task is sent after it commits.
        from sessions.signals import recording_stored

        recording_stored.connect(_on_recording_stored, dispatch_uid="ser.job_create")

        # A deleted analysis's files leave storage after the delete commits, cascades included.
        from django.db.models.signals import post_delete

        from .models import EmotionAnalysis
        from .receivers import analysis_files_delete

        post_delete.connect(analysis_files_delete, sender=EmotionAnalysis, dispatch_uid="ser.analysis_files")


def _on_recording_stored(sender: Any, recording: Any, **_: Any) -> None:
    from .services import job_create

    job_create(recording=recording)
