"""Writes for patients."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditEvent

from .models import Patient

log = logging.getLogger(__name__)


@transaction.atomic
def patient_create(
    *,
    owner: Any,
    display_name: str,
    external_id: str = "",
    date_of_birth: date | None = None,
    notes: str = "",
    ehr_patient_id: str = "",
) -> Patient:
    patient = Patient(
        owner=owner,
        display_name=display_name.strip(),
        external_id=external_id.strip(),
        date_of_birth=date_of_birth,
        notes=notes,
        ehr_patient_id=ehr_patient_id.strip(),
    )
    _validate(patient)
    patient.save()
    audit.record(AuditEvent.Action.CREATE, patient)
    return patient


def _validate(patient: Patient) -> None:
    """full_clean, with the clashes a therapist makes most said in words first."""
    from django.core.exceptions import ValidationError

    errors: dict[str, str] = {}  # all of them at once, so a form shows every field to correct
    if patient.external_id and (
        Patient.objects.filter(owner_id=patient.owner_id, external_id=patient.external_id)
        .exclude(pk=patient.pk)
        .exists()
    ):
        errors["external_id"] = _("You already have a patient with record id %(record_id)s.") % {
            "record_id": patient.external_id
        }
    if patient.date_of_birth and patient.date_of_birth > timezone.localdate():
        errors["date_of_birth"] = _("The date of birth is in the future.")
    if errors:
        raise ValidationError(errors)
    patient.full_clean()


UPDATABLE = ("display_name", "external_id", "date_of_birth", "notes", "ehr_patient_id")


@transaction.atomic
def patient_update(*, patient: Patient, archived: bool | None = None, **fields: Any) -> Patient:
    """Change a patient's details (any of UPDATABLE), and archive or restore them: an archived
    patient leaves the list and nothing of theirs is deleted."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"not updatable: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(patient, name, value.strip() if isinstance(value, str) and name != "notes" else value)
    changed = sorted(fields)
    if archived is not None and archived != (patient.archived_at is not None):
        patient.archived_at = timezone.now() if archived else None
        changed.append("archived" if archived else "restored")
    _validate(patient)
    patient.save()
    audit.record(AuditEvent.Action.UPDATE, patient, detail="changed: " + ", ".join(changed))
    return patient


@transaction.atomic
def baseline_set(*, patient: Patient, mode: str, n: int = 3, sessions: list[Any] | None = None) -> Patient:
    """Choose the patient's drift baseline: the first N sessions, one session, or a set.
    Sessions must be the patient's own."""
    from django.core.exceptions import ValidationError

    if mode not in Patient.Baseline.values:
        raise ValidationError({"baseline_mode": _("Choose first N sessions, one session or a set.")})
    chosen = list(sessions or [])
    if any(s.patient_id != patient.pk for s in chosen):
        raise ValidationError({"baseline_sessions": _("Choose sessions of this patient.")})
    if mode == Patient.Baseline.SESSION and len(chosen) != 1:
        raise ValidationError({"baseline_sessions": _("Choose exactly one session.")})
    if mode == Patient.Baseline.SET and not chosen:
        raise ValidationError({"baseline_sessions": _("Choose at least one session.")})
    if mode == Patient.Baseline.FIRST_N and not 1 <= n <= 50:
        raise ValidationError({"baseline_n": _("N must be between 1 and 50.")})
    patient.baseline_mode = mode
    patient.baseline_n = n
    patient.full_clean()
    patient.save(update_fields=["baseline_mode", "baseline_n", "updated_at"])
    patient.baseline_sessions.set(chosen if mode != Patient.Baseline.FIRST_N else [])
    audit.record(AuditEvent.Action.UPDATE, patient, detail=f"baseline: {mode}")
    return patient


@transaction.atomic
def patient_delete(*, patient: Patient, actor: Any = None) -> dict[str, int]:
    """Delete a patient with all their sessions, recordings, analyses and every stored file.
    Returns rows deleted per model.

    The rows go by the CASCADEs (sessions, then their recordings, analysis jobs and analyses; the
    baseline choice's link rows); the owner is PROTECT, so a therapist is never deleted with a
    patient. Files are removed after commit by the post_delete receivers of the apps that own
    them, which this app cannot import: a delete that rolls back leaves rows and files intact.
    The log line names ids and counts only, never PHI."""
    pk = patient.pk
    _deleted, counts = patient.delete()
    log.info("patient %s deleted by user %s: %s", pk, getattr(actor, "pk", None) or "-", counts)
    return counts
