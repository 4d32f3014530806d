"""Patient pages: list (search, sort, archived), create, edit, archive/restore and delete (the
dashboard is the reports app's). Thin views: the forms call the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEvent
from audit.services import owned

from . import selectors, services
from .forms import PatientForm, PatientListForm
from .models import Patient


@login_required
@require_http_methods(["GET"])
def patient_list(request: HttpRequest) -> HttpResponse:
    search = PatientListForm(request.GET)
    query = search.query()
    page = Paginator(selectors.patient_list(user=request.user, **query), 25).get_page(request.GET.get("page"))
    patients = list(page)
    failed = selectors.sessions_with_failed_recordings(patient_ids=[p.pk for p in patients])
    rows = [(p, failed.get(p.pk, [])) for p in patients]
    return render(
        request,
        "patients/list.html",
        {"page": page, "rows": rows, "search": search, "searching": bool(query["search"])},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = form.create(owner=request.user)
        if patient is not None:
            return redirect("reports:dashboard", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail="patient edit")
    form = PatientForm.for_patient(patient, request.POST or None)
    if request.method == "POST" and form.is_valid() and form.update(patient=patient) is not None:
        messages.success(request, _("The patient's details were saved."))
        return redirect("reports:dashboard", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": patient})


def _counts(patient: Patient) -> dict[str, Any]:
    # Counted through the reverse relations: this app may not import the sessions app's models.
    return patient.sessions.aggregate(
        sessions=Count("id", distinct=True), recordings=Count("recordings", distinct=True)
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_archive(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: what archiving does (nothing is deleted), and a confirm button; POST: archive."""
    post = request.method == "POST"
    patient = owned(Patient.objects, pk, detail="patient archive" if post else "patient archive confirmation")
    if post:
        services.patient_update(patient=patient, archived=True)
        messages.success(
            request,
            _(
                "The patient was archived: they are no longer in your patient list, and nothing of theirs "
                "was deleted. Tick “Show archived” on the list to find or restore them."
            ),
        )
        return redirect("patients:list")
    return render(request, "patients/confirm_archive.html", {"patient": patient, **_counts(patient)})


@login_required
@require_POST
def patient_restore(request: HttpRequest, pk: str) -> HttpResponse:
    patient = owned(Patient.objects, pk, detail="patient restore")
    services.patient_update(patient=patient, archived=False)
    messages.success(request, _("The patient was restored to your patient list."))
    return redirect("reports:dashboard", pk=patient.pk)


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
    counts = _counts(patient)
    if request.method == "POST":
        services.patient_delete(patient=patient, actor=request.user)
        # No name in the message: messages may travel in a cookie.
        messages.success(
            request,
            _(
                "The patient was deleted, with %(sessions)s session(s), %(recordings)s recording(s), "
                "their analyses and all stored files."
            )
            % counts,
        )
        return redirect("patients:list")
    return render(request, "patients/confirm_delete.html", {"patient": patient, **counts})
