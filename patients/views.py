"""Patient pages: list and create (the dashboard is in dashboard.py). Thin views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .forms import PatientForm


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.patient_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "patients/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("reports:dashboard", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form})
