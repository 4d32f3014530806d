from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Trends across sessions, drift, flags, plots and the dashboard (and the clinical-record
    exports). Reads the layers below; nothing below imports it."""

    name = "reports"
    verbose_name = "Reports and trends"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from ser.models import EmotionAnalysis

        from .charts import analysis_plot_keys, plots_forget, prerender_soon

        def forget(sender: Any, instance: EmotionAnalysis, **_: Any) -> None:
            keys = analysis_plot_keys(instance)  # now: Django clears the instance's pk after the delete
            transaction.on_commit(lambda: plots_forget(keys))

        post_delete.connect(forget, sender=EmotionAnalysis, weak=False, dispatch_uid="reports.forget_plots")

        # A saved analysis (new or re-run) changes the patient's plots: the worker draws them into
        # the cache after the analysis commits, so the clinician's first look is a cache hit.
        def prerender(sender: Any, instance: EmotionAnalysis, **_: Any) -> None:
            prerender_soon(recording_id=instance.recording_id)

        post_save.connect(
            prerender, sender=EmotionAnalysis, weak=False, dispatch_uid="reports.prerender_plots"
        )
