"""ReportExport: one row per trend report that left the system — downloaded (PDF, CSV, FHIR) or
pushed to the clinic's FHIR server — with who, which patient, which range, and for a push its
outcome. The rows are the export history; the audit trail records the same event."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.models import OwnedQuerySet
from ser.engine.messages import render


class ReportExportQuerySet(OwnedQuerySet["ReportExport"]):
    owner_path = "patient__owner"


class ReportExport(models.Model):
    class Format(models.TextChoices):
        PDF = "pdf", _("PDF report")
        CSV = "csv", _("CSV table")
        FHIR = "fhir", _("FHIR R4 Bundle (JSON)")

    class Destination(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded")
        PUSH = "push", _("Sent to the clinic's FHIR server")

    class Status(models.TextChoices):
        DONE = "done", _("Downloaded")
        QUEUED = "queued", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class PageSize(models.TextChoices):
        A4 = "a4", _("A4")
        LETTER = "letter", _("US Letter")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=Format.choices)
    page_size = models.CharField(max_length=8, choices=PageSize.choices, blank=True)
    destination = models.CharField(max_length=8, choices=Destination.choices, default=Destination.DOWNLOAD)
    date_from = models.DateField(null=True, blank=True, help_text=_("First session date included."))
    date_to = models.DateField(null=True, blank=True, help_text=_("Last session date included."))
    session_count = models.PositiveIntegerField(default=0)
    model_variant = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text=_("Of the file that left."))
    size_bytes = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DONE)
    attempts = models.PositiveSmallIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    server_ids = models.JSONField(default=list, blank=True, help_text=_("Resource ids the server assigned."))
    error = models.TextField(blank=True, help_text=_("Why sending failed, in words."))
    # The same reason kept translatable: {"msgid", "params"} (ser.engine.messages), shown in the
    # reader's language; empty for rows from before it existed (their `error` is shown).
    error_message = models.JSONField(
        default=dict, blank=True, help_text=_("Why sending failed, as a message to translate.")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} of {self.patient_id} ({self.get_status_display()})"

    def error_text(self) -> str:
        """Why sending failed (or what went wrong after), in the active language."""
        if self.error_message and self.error_message.get("msgid"):
            return render(self.error_message, gettext)
        return self.error
