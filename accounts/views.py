"""The therapist's own settings pages. Thin views."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

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
            messages.success(
                request,
                _("Times are now shown in %(zone)s.") % {"zone": profile.time_zone or settings.TIME_ZONE},
            )
            return redirect("accounts:time_zone")
    return render(request, "accounts/time_zone.html", {"form": form, "clinic_zone": settings.TIME_ZONE})


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The header's language switcher: remembered in the profile of a logged-in therapist (so it
    follows them to any browser) and in the language cookie (so the login page speaks it too)."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        code = ""
    if request.user.is_authenticated:
        services.profile_language_set(user=request.user, language=code)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = redirect(target)
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
            secure=request.is_secure(),
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    with translation.override(code or translation.get_language()):
        messages.success(
            request, _("Pages are now shown in %(language)s.") % {"language": _language_name(code)}
        )
    return response


def _language_name(code: str) -> str:
    if not code:
        return _("your browser's language")
    return dict(settings.LANGUAGES)[code]
