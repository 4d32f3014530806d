"""Session pages: create, detail with upload, recording upload and the permission-checked audio."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patients.models import Patient

from . import services
from .forms import RecordingUploadForm, SessionForm
from .models import Recording, TherapySession


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
            return redirect("sessions:detail", pk=session.pk)
    return render(request, "sessions/form.html", {"form": form, "patient": patient})


def _session_for(request: HttpRequest, pk: str) -> TherapySession:
    return get_object_or_404(TherapySession.objects.for_user(request.user).select_related("patient"), pk=pk)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: str) -> HttpResponse:
    session = _session_for(request, pk)
    return _render_session(request, session, RecordingUploadForm())


def _render_session(
    request: HttpRequest, session: TherapySession, form: RecordingUploadForm, status: int = 200
) -> HttpResponse:
    recordings = list(
        session.recordings.order_by("created_at").select_related("uploaded_by").prefetch_related("analyses")
    )
    return render(
        request,
        "sessions/detail.html",
        {
            "session": session,
            "patient": session.patient,
            "recordings": recordings,
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def recording_upload(request: HttpRequest, pk: str) -> HttpResponse:
    session = _session_for(request, pk)
    form = RecordingUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.recording_create(
                session=session,
                upload=form.cleaned_data["file"],
                consent_confirmed=form.cleaned_data["consent_confirmed"],
                channel=form.cleaned_data["channel"],
                granularity=form.cleaned_data["granularity"] or Recording.Granularity.UTTERANCE,
                uploaded_by=request.user,
            )
        except ValidationError as exc:
            status = 413 if isinstance(exc, services.UploadTooLarge) else 400
            for field, errors in (
                exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
            ):
                form.add_error(field if field in form.fields else None, errors)
            return _render_session(request, session, form, status=status)
        messages.success(request, "Recording uploaded. The analysis is queued.")
        return redirect("sessions:detail", pk=session.pk)
    return _render_session(request, session, form, status=400)


@login_required
@require_GET
def recording_audio(request: HttpRequest, pk: str) -> FileResponse:
    recording = get_object_or_404(Recording.objects.for_user(request.user), pk=pk)
    response = FileResponse(recording.file.open("rb"), as_attachment=False)
    response["Cache-Control"] = "private, no-store"
    return response
