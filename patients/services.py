"""Writes for patients."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction

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
) -> Patient:
    patient = Patient(
        owner=owner,
        display_name=display_name.strip(),
        external_id=external_id.strip(),
        date_of_birth=date_of_birth,
        notes=notes,
    )
    patient.full_clean()
    patient.save()
    audit.record(AuditEvent.Action.CREATE, patient)
    return patient


@transaction.atomic
def baseline_set(*, patient: Patient, mode: str, n: int = 3, sessions: list[Any] | None = None) -> Patient:
    """Choose the patient's drift baseline: the first N sessions, one session, or a set.
    Sessions must be the patient's own."""
    from django.core.exceptions import ValidationError

    if mode not in Patient.Baseline.values:
        raise ValidationError({"baseline_mode": "Choose first N sessions, one session or a set."})
    chosen = list(sessions or [])
    if any(s.patient_id != patient.pk for s in chosen):
        raise ValidationError({"baseline_sessions": "Choose sessions of this patient."})
    if mode == Patient.Baseline.SESSION and len(chosen) != 1:
        raise ValidationError({"baseline_sessions": "Choose exactly one session."})
    if mode == Patient.Baseline.SET and not chosen:
        raise ValidationError({"baseline_sessions": "Choose at least one session."})
    if mode == Patient.Baseline.FIRST_N and not 1 <= n <= 50:
        raise ValidationError({"baseline_n": "N must be between 1 and 50."})
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
    _, counts = patient.delete()
    log.info("patient %s deleted by user %s: %s", pk, getattr(actor, "pk", None) or "-", counts)
    return counts
