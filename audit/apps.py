from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: who read, wrote, exported or was denied which patient's data, and logins.
    The bottom app layer (every app records into it; it imports none of them)."""

    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"
