"""Reads of sessions for pages and the API."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Patient

from .models import TherapySession


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """[start of date_from, start of the day after date_to) in the clinic's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tz) if date_from else None
    end = datetime.combine(date_to, time.max, tz) if date_to else None
    return start, end


def session_list(
    *, patient: Patient, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[TherapySession]:
    start, end = day_bounds(date_from, date_to)
    qs = patient.sessions.all()
    if start:
        qs = qs.filter(started_at__gte=start)
    if end:
        qs = qs.filter(started_at__lte=end)
    return qs.order_by("number")
