"""The therapist's own settings pages. Thin views."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import services
from .forms import TimeZoneForm
from .models import profile_of


@login_required
@require_http_methods(["GET", "POST"])
def time_zone(request: HttpRequest) -> HttpResponse:
    """Choose the zone this therapist's pages show times in (blank: the clinic's)."""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": profile_of(request.user).time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.profile_time_zone_set(
                user=request.user, time_zone=form.cleaned_data["time_zone"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Times are now shown in {profile.time_zone or settings.TIME_ZONE}.")
            return redirect("accounts:time_zone")
    return render(request, "accounts/time_zone.html", {"form": form, "clinic_zone": settings.TIME_ZONE})
