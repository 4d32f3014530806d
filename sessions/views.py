"""Session pages of this app: create a session, and the permission-checked recording audio. (The
session page itself, with its recordings' analyses and the upload form, is the analysis app's.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from patients.models import Patient

from . import services
from .forms import SessionForm
from .models import Recording


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, patient_pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.for_user(request.user), pk=patient_pk)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("ser:session", pk=session.pk)
    return render(request, "sessions/form.html", {"form": form, "patient": patient})


@login_required
@require_GET
def recording_audio(request: HttpRequest, pk: str) -> FileResponse:
    recording = get_object_or_404(Recording.objects.for_user(request.user), pk=pk)
    response = FileResponse(recording.file.open("rb"), as_attachment=False)
    response["Cache-Control"] = "private, no-store"
    return response
