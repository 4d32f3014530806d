"""Writes for patients."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from .models import Patient


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
    return patient
