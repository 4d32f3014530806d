from __future__ import annotations

from django.contrib import admin

from .models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "ehr_practitioner_id", "professional_id"]
    search_fields = ["user__username", "ehr_practitioner_id", "professional_id"]
