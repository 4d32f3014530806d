"""Administrators review the trail here, filtered by user, action and patient (read-only)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


class PatientFilter(admin.SimpleListFilter):
    """?patient=<uuid>: every event about one patient (reads, writes, exports, denials)."""

    title = "patient"
    parameter_name = "patient"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = request.GET.get(self.parameter_name)
        return [(value, value)] if value else []

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(patient_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor",
        "username",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "ip",
        "path",
    )
    list_filter = ("action", "object_type", "actor", PatientFilter)
    search_fields = ("=object_id", "username", "path")
    date_hierarchy = "at"
    list_select_related = ("actor",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
