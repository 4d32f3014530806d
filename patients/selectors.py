"""Reads for patient pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Patient

ORDERINGS = {
    "name": ("display_name", "created_at", "id"),
    "-name": ("-display_name", "-created_at", "id"),
    "record_id": ("external_id", "display_name", "id"),
    "-record_id": ("-external_id", "display_name", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "id"),
}


def patient_list(
    *, user: Any, search: str = "", archived: str = "false", ordering: str = "name"
) -> QuerySet[Patient]:
    """The user's patients: `search` matches name or record id (case-insensitive, anywhere);
    `archived` is "false" (the default: active patients), "true" (archived only) or "all";
    `ordering` one of ORDERINGS."""
    qs = Patient.objects.for_user(user).annotate(session_count=Count("sessions"))
    if search.strip():
        term = search.strip()
        qs = qs.filter(Q(display_name__icontains=term) | Q(external_id__icontains=term))
    if archived == "false":
        qs = qs.filter(archived_at__isnull=True)
    elif archived == "true":
        qs = qs.filter(archived_at__isnull=False)
    return qs.order_by(*ORDERINGS.get(ordering, ORDERINGS["name"]))
