"""AuditEvent: one row per access to protected health information, change to it, export of it, and
login event. Rows are never changed or deleted by the application: a PostgreSQL trigger (migration
0001) refuses UPDATE and DELETE on the table for every role, the application's included."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        READ = "read", _("Read")
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        EXPORT = "export", _("Export / download")
        DENIED = "denied", _("Access denied (not the owner, or no such record)")
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        LOCKOUT = "lockout", _("Locked out")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The user who acted. Kept (PROTECT) so the trail always names a person; deactivate users
    # instead of deleting them. Empty only for events without a known user (failed logins).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text=_("As typed, for failed logins."))
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=32, blank=True)  # patient, session, recording, analysis
    object_id = models.CharField(max_length=64, blank=True)
    # No foreign key: the trail must outlive the patient's deletion.
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text=_("What, in words; never PHI."))

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"])]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_id or self.username} {self.action} {self.object_type}"
        )
