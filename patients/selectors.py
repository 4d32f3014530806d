"""Reads for patient pages and the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet

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
    qs = Patient.objects.for_user(user).annotate(
        session_count=Count("sessions"), last_session_at=Max("sessions__started_at")
    )
    if search.strip():
        term = search.strip()
        qs = qs.filter(Q(display_name__icontains=term) | Q(external_id__icontains=term))
    if archived == "false":
        qs = qs.filter(archived_at__isnull=True)
    elif archived == "true":
        qs = qs.filter(archived_at__isnull=False)
    return qs.order_by(*ORDERINGS.get(ordering, ORDERINGS["name"]))


# ser.AnalysisJob.Status.FAILED, named by value: the job is reached by its relation name
# (Recording → "job"), which needs no import of the analysis app (a higher layer).
JOB_FAILED = "failed"


@dataclass(frozen=True)
class FailedSession:
    session_id: uuid.UUID
    number: int


def sessions_with_failed_recordings(
    *, patient_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[FailedSession]]:
    """Per patient, the sessions that have recordings and all of whose analyses failed (nothing
    to show for them until a recording is retried or removed), by session number.

    In this layer, not `sessions`, because the patient list needs it and may not import the
    sessions app; the rows are reached through the reverse relations by name."""
    rows = (
        Patient.objects.filter(pk__in=list(patient_ids))
        .values("pk", "sessions__id", "sessions__number")
        .annotate(
            recordings=Count("sessions__recordings", distinct=True),
            failed=Count(
                "sessions__recordings",
                filter=Q(sessions__recordings__job__status=JOB_FAILED),
                distinct=True,
            ),
        )
        .filter(recordings__gt=0, failed=F("recordings"))
        .order_by("pk", "sessions__number")
    )
    out: dict[uuid.UUID, list[FailedSession]] = {}
    for row in rows:
        out.setdefault(row["pk"], []).append(FailedSession(row["sessions__id"], row["sessions__number"]))
    return out
