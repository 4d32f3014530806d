"""TherapySession and Recording rows. A recording's analysis state lives with the analysis app
(ser.AnalysisJob), which this app never imports."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import OwnedQuerySet


class TherapySessionQuerySet(OwnedQuerySet["TherapySession"]):
    owner_path = "patient__owner"


class TherapySession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField()
    number = models.PositiveIntegerField(help_text=_("Session number for this patient, from 1."))
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TherapySessionQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "started_at", "number"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "number"], name="session_number_unique_per_patient"),
        ]

    def __str__(self) -> str:
        return f"Session {self.number}"


class RecordingQuerySet(OwnedQuerySet["Recording"]):
    owner_path = "session__patient__owner"


def recording_upload_to(instance: Recording, filename: str) -> str:
    # The uploaded name never forms a path: the server picks the name; `filename` here is
    # already the server-made one passed by recording_create.
    return f"recordings/{instance.id.hex[:2]}/{filename}"


class Recording(models.Model):
    class Channel(models.TextChoices):
        MIX = "mix", _("Both channels mixed")
        LEFT = "left", _("Left channel only")
        RIGHT = "right", _("Right channel only")
        # One channel (or both mixed) with both speakers: the patient's segments found by voice.
        VOICE = "voice", _("Patient only (voice)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="recordings")
    file = models.FileField(upload_to=recording_upload_to, max_length=255)
    original_name = models.CharField(max_length=255, blank=True, help_text=_("As uploaded; metadata only."))
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    duration_s = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    audio_format = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.MIX)

    class Granularity(models.TextChoices):
        UTTERANCE = "utterance", _("Per speech segment (utterance)")
        FRAME = "frame", _("Per segment and every 20 ms frame")

    granularity = models.CharField(max_length=16, choices=Granularity.choices, default=Granularity.UTTERANCE)
    consent_confirmed = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["session", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_confirmed=True), name="recording_requires_consent"
            ),
        ]

    def __str__(self) -> str:
        return f"Recording {self.id}"
