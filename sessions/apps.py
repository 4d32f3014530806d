from django.apps import AppConfig


class TherapySessionsConfig(AppConfig):
    name = "sessions"
    label = "therapy_sessions"
    verbose_name = "Therapy sessions"
    default_auto_field = "django.db.models.BigAutoField"
