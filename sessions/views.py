"""Session pages of this app: create, edit and delete a session, delete a recording, and the
permission-checked recording audio. (The session page itself, with its recordings' analyses and the
upload form, is the analysis app's.)"""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEvent
from audit.services import owned
from patients.models import Patient

from . import services
from .forms import SessionEditForm, SessionForm
from .models import Recording, TherapySession
from .ranges import includes_first_byte, ranged_file_response, requested_range
from .storage import open_stored


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, patient_pk: str) -> HttpResponse:
    patient = owned(Patient.objects, patient_pk, detail="new session form")
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = form.create(patient=patient)
        if session is not None:
            return redirect("ser:session", pk=session.pk)
    return render(request, "sessions/form.html", {"form": form, "patient": patient})


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: str) -> HttpResponse:
    """Correct a session's date and time, number or notes; its recordings and analyses stay."""
    session = owned(TherapySession.objects.select_related("patient"), pk, detail="session edit")
    form = SessionEditForm.for_session(session, request.POST or None)
    if request.method == "POST" and form.is_valid() and form.update(session=session) is not None:
        messages.success(request, _("The session was saved."))
        return redirect("ser:session", pk=session.pk)
    return render(
        request, "sessions/form.html", {"form": form, "patient": session.patient, "session": session}
    )


@login_required
@require_GET
def recording_audio(request: HttpRequest, pk: str) -> HttpResponseBase:
    """The recording's audio, honouring Range so the player can seek. A player that seeks sends a
    request per seek: only a request whose answer starts at byte 0 (no Range, or a range from 0) is
    written to the audit trail as the export; the follow-up ranges of the same listening are
    checked for ownership (another's recording is a 404, and that denial is recorded) but not each
    recorded, so the trail says who listened to what, not how often they skipped."""
    spec = requested_range(request)
    recording = owned(
        Recording.objects.select_related("session"),
        pk,
        action=AuditEvent.Action.EXPORT,
        detail="audio",
        record_access=includes_first_byte(spec),
    )
    name = recording.file.name or ""
    response = ranged_file_response(
        request,
        open_stored(recording.file),
        size=recording.file.size,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        spec=spec,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: the session's recordings that will go with it, and a confirm button; POST: delete."""
    post = request.method == "POST"
    session = owned(
        TherapySession.objects.select_related("patient"),
        pk,
        action=AuditEvent.Action.DELETE if post else AuditEvent.Action.READ,
        detail="session delete" if post else "session delete confirmation",
    )
    patient = session.patient
    if post:
        counts = services.session_delete(session=session, actor=request.user)
        messages.success(
            request,
            _(
                "Session %(number)s was deleted, with %(recordings)s recording(s), their analyses and "
                "stored files."
            )
            % {"number": session.number, "recordings": counts.get(Recording._meta.label, 0)},
        )
        return redirect("reports:dashboard", pk=patient.pk)
    return render(
        request,
        "sessions/confirm_delete.html",
        {
            "what": "session",
            "session": session,
            "patient": patient,
            "recordings": session.recordings.order_by("created_at"),
            # Deleting it changes a drift baseline the therapist chose by hand.
            "in_baseline": patient.baseline_mode != Patient.Baseline.FIRST_N
            and patient.baseline_sessions.filter(pk=session.pk).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recording_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: the recording and a confirm button, with a box to record that the patient withdrew
    consent; POST: delete (through `recording_consent_withdraw` when that box is ticked)."""
    post, withdrawn = request.method == "POST", bool(request.POST.get("consent_withdrawn"))
    recording = owned(
        Recording.objects.select_related("session__patient"),
        pk,
        action=AuditEvent.Action.DELETE if post else AuditEvent.Action.READ,
        detail=("recording delete" + (": consent withdrawn" if withdrawn else ""))
        if post
        else "recording delete confirmation",
    )
    session = recording.session
    if post:
        if withdrawn:
            services.recording_consent_withdraw(recording=recording, actor=request.user)
            done = _("Consent withdrawn: the recording, its analyses and stored files were deleted.")
        else:
            services.recording_delete(recording=recording, actor=request.user)
            done = _("The recording, its analyses and stored files were deleted.")
        messages.success(request, done)
        return redirect("ser:session", pk=session.pk)
    return render(
        request,
        "sessions/confirm_delete.html",
        {
            "what": "recording",
            "session": session,
            "patient": session.patient,
            "recordings": [recording],
        },
    )
