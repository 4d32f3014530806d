from django.apps import AppConfig


class SerConfig(AppConfig):
    name = "ser"
    verbose_name = "Speech-emotion recognition"
    default_auto_field = "django.db.models.BigAutoField"
