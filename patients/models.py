"""The Patient row. Every lookup goes through `Patient.objects.for_user(user)`."""

from __future__ import annotations

import uuid
from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_M = TypeVar("_M", bound=models.Model)


class OwnedQuerySet(models.QuerySet[_M]):
    """Ownership in one place: every row of patient data belongs to the therapist who owns its
    patient, reached through `owner_path`. `for_user` keeps only that therapist's rows, so anyone
    else's are invisible (404, never 403); inactive or anonymous users see nothing."""

    owner_path = "owner"

    def for_user(self, user: object) -> Self:
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        return self.filter(**{self.owner_path: user})


class PatientQuerySet(OwnedQuerySet["Patient"]):
    owner_path = "owner"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patients")
    display_name = models.CharField(max_length=120)
    external_id = models.CharField(
        _("external record id / MRN"),
        max_length=64,
        blank=True,
        help_text=_("The patient's identifier in the clinical record system."),
    )
    date_of_birth = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    ehr_patient_id = models.CharField(
        _("EHR Patient id"),
        max_length=64,
        blank=True,
        help_text=_(
            "The id of this patient's Patient resource in the clinic's FHIR server. When set, "
            "exports refer to it instead of carrying a Patient of their own."
        ),
    )
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Archived patients leave the list; nothing of theirs is deleted."),
    )

    class Baseline(models.TextChoices):
        FIRST_N = "first_n", _("Mean of the first N sessions")
        SESSION = "session", _("One chosen session")
        SET = "set", _("A chosen set of sessions")

    baseline_mode = models.CharField(max_length=16, choices=Baseline.choices, default=Baseline.FIRST_N)
    baseline_n = models.PositiveSmallIntegerField(default=3)
    baseline_sessions = models.ManyToManyField(
        "therapy_sessions.TherapySession", blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "external_id"],
                condition=~models.Q(external_id=""),
                name="patient_unique_external_id_per_owner",
            )
        ]

    def __str__(self) -> str:
        return self.display_name
