"""Patient pages: list, create and delete (the dashboard is the reports app's). Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import owned

from . import selectors, services
from .forms import PatientForm
from .models import Patient


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


@login_required
@require_http_methods(["GET", "POST"])
def patient_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: what will be removed, and a confirm button; POST: delete. Only the owner's patient."""
    patient = owned(
        Patient.objects,
        pk,
        # The lookup is the audited event: the confirmation page is a read, the POST the delete.
        action=AuditEvent.Action.DELETE if request.method == "POST" else AuditEvent.Action.READ,
        detail="patient delete" if request.method == "POST" else "patient delete confirmation",
    )
    # Counted through the reverse relations: this app may not import the sessions app's models.
    counts = patient.sessions.aggregate(
        sessions=Count("id", distinct=True), recordings=Count("recordings", distinct=True)
    )
    if request.method == "POST":
        services.patient_delete(patient=patient, actor=request.user)
        # No name in the message: messages may travel in a cookie.
        messages.success(
            request,
            f"The patient was deleted, with {counts['sessions']} session(s), {counts['recordings']} "
            "recording(s), their analyses and all stored files.",
        )
        return redirect("patients:list")
    return render(request, "patients/confirm_delete.html", {"patient": patient, **counts})
