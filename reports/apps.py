from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Trends across sessions, drift, flags, plots and the dashboard (and the clinical-record
    exports). Reads the layers below; nothing below imports it."""

    name = "reports"
    verbose_name = "Reports and trends"
    default_auto_field = "django.db.models.BigAutoField"
