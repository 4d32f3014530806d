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
        from django.db.models.signals import post_delete

        from ser.models import EmotionAnalysis

        from .charts import analysis_plot_keys, plots_forget

        def forget(sender: Any, instance: EmotionAnalysis, **_: Any) -> None:
            keys = analysis_plot_keys(instance)  # now: Django clears the instance's pk after the delete
            transaction.on_commit(lambda: plots_forget(keys))

        post_delete.connect(forget, sender=EmotionAnalysis, weak=False, dispatch_uid="reports.forget_plots")
