"""Reads for patient pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import Patient


def patient_list(*, user: Any) -> QuerySet[Patient]:
    return (
        Patient.objects.for_user(user)
        .annotate(session_count=Count("sessions"))
        .order_by("display_name", "created_at", "id")
    )
