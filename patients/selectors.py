"""Reads for patient pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from sessions.models import Recording, TherapySession

from .models import Patient


def patient_list(*, user: Any) -> QuerySet[Patient]:
    return (
        Patient.objects.for_user(user)
        .annotate(session_count=Count("sessions"))
        .order_by("display_name", "created_at", "id")
    )


def patient_sessions(*, patient: Patient) -> QuerySet[TherapySession]:
    """The patient's sessions, newest first, with recordings and their analyses in 3 queries."""
    recordings = Recording.objects.order_by("created_at").prefetch_related("analyses")
    return patient.sessions.order_by("-started_at", "-number").prefetch_related(
        Prefetch("recordings", queryset=recordings)
    )
