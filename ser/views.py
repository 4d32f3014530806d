"""Pages of the analysis app: a session with its recordings, their analysis state and results, the
upload form; and the analysis files, through the owner check (storage is never served by URL)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from audit.services import owned
from sessions import services as session_services
from sessions.forms import RecordingUploadForm
from sessions.models import Recording, TherapySession
from sessions.ranges import includes_first_byte, ranged_file_response, requested_range

from . import attribution, selectors, services, voiceprofiles
from .forms import VoiceProfileForm
from .models import EmotionAnalysis, VoiceProfile

PLAYABLE = "processed_audio.wav"  # the one analysis file a player streams (and seeks in)


def _session_for(request: HttpRequest, pk: str, **audit: Any) -> TherapySession:
    return owned(TherapySession.objects.select_related("patient"), pk, **audit)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return _render_session(request, _session_for(request, pk), RecordingUploadForm())


def _render_session(
    request: HttpRequest, session: TherapySession, form: RecordingUploadForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "ser/session.html",
        {
            "session": session,
            "patient": session.patient,
            "recordings": selectors.session_recordings(session=session),
            "form": form,
            "channels": Recording.Channel.choices,
            "granularities": Recording.Granularity.choices,
        },
        status=status,
    )


@login_required
@require_POST
def recording_upload(request: HttpRequest, pk: str) -> HttpResponse:
    session = _session_for(request, pk, action=AuditEvent.Action.CREATE, detail="recording upload")
    form = RecordingUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_session(request, session, form, status=400)
    try:
        session_services.recording_create(
            session=session,
            upload=form.cleaned_data["file"],
            consent_confirmed=form.cleaned_data["consent_confirmed"],
            channel=form.cleaned_data["channel"],
            granularity=form.cleaned_data["granularity"] or Recording.Granularity.UTTERANCE,
            uploaded_by=request.user,
        )
    except ValidationError as exc:
        status = (
            413
            if isinstance(exc, session_services.UploadTooLarge)
            else 409
            if isinstance(exc, session_services.DuplicateRecording)
            else 400
        )
        for field, errors in (
            exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        ):
            form.add_error(field if field in form.fields else None, errors)
        return _render_session(request, session, form, status=status)
    messages.success(request, gettext("Recording uploaded. The analysis is queued."))
    return redirect("ser:session", pk=session.pk)


@login_required
@require_POST
def recording_retry(request: HttpRequest, pk: str) -> HttpResponse:
    """The "Retry analysis" button of a failed recording."""
    recording = owned(Recording.objects.select_related("session"), pk, detail="analysis retry")
    try:
        services.job_retry(recording=recording)
    except services.JobNotFailed as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("The analysis is queued again."))
    return redirect("ser:session", pk=recording.session_id)


@login_required
@require_POST
def recording_reanalyse(request: HttpRequest, pk: str) -> HttpResponse:
    """ "Correct and re-analyse": another channel or granularity for a recording."""
    recording = owned(Recording.objects.select_related("session"), pk, detail="re-analysis")
    try:
        services.recording_reanalyse(
            recording=recording,
            channel=request.POST.get("channel", ""),
            granularity=request.POST.get("granularity", ""),
        )
    except ValidationError as exc:
        messages.error(
            request, gettext("The recording was not changed: %(reason)s") % {"reason": " ".join(exc.messages)}
        )
    else:
        messages.success(request, gettext("The recording will be analysed again with the new choices."))
    return redirect("ser:session", pk=recording.session_id)


@login_required
@require_POST
def analysis_speakers(request: HttpRequest, pk: str) -> HttpResponse:
    """ "Which voice is yours?": name the voices of a "patient only (voice)" analysis (or correct
    the naming), and, when ticked, save the chosen voice as the therapist's voice profile."""
    analysis = owned(
        EmotionAnalysis.objects.select_related("recording__session"), pk, detail="speakers named"
    )
    therapist_voice = request.POST.get("therapist_voice", "")
    therapist_voice = "" if therapist_voice == "neither" else therapist_voice
    try:
        attribution.speakers_name(analysis=analysis, therapist_voice=therapist_voice, actor=request.user)
    except ValidationError as exc:
        messages.error(
            request, gettext("The voices were not named: %(reason)s") % {"reason": " ".join(exc.messages)}
        )
        return redirect("ser:session", pk=analysis.recording.session_id)
    messages.success(
        request,
        gettext("Voice %(voice)s is yours: the scores are now of the patient's speech alone.")
        % {"voice": therapist_voice}
        if therapist_voice
        else gettext("Neither voice is yours: all speech is taken as the patient's."),
    )
    if therapist_voice and request.POST.get("save_profile"):
        try:
            voiceprofiles.voice_profile_from_analysis(
                user=request.user, analysis=analysis, voice=therapist_voice, consent=True
            )
        except ValidationError as exc:
            messages.error(
                request,
                gettext("Your voice profile was not saved: %(reason)s") % {"reason": " ".join(exc.messages)},
            )
        else:
            messages.success(
                request,
                gettext("Voice %(voice)s is saved as your voice profile.") % {"voice": therapist_voice},
            )
    return redirect("ser:session", pk=analysis.recording.session_id)


@login_required
@require_GET
def analysis_download(request: HttpRequest, pk: str, name: str) -> HttpResponseBase:
    return analysis_file_response(request, pk, name)


def analysis_file_response(request: HttpRequest, pk: str, name: str) -> HttpResponseBase:
    """An analysis's file through the owner check, the download audited (the page and the API).
    The processed audio honours Range (a player seeks in it); as for the recording's audio, only
    an answer that starts at byte 0 is recorded, not each seek."""
    spec = requested_range(request) if name == PLAYABLE else None
    analysis = owned(
        EmotionAnalysis.objects.select_related("recording__session"),
        pk,
        action=AuditEvent.Action.EXPORT,
        detail=f"download {name}"[:300],
        record_access=includes_first_byte(spec),
    )
    download = selectors.analysis_download(analysis=analysis, name=name)
    if download is None:
        raise Http404(gettext("No such file for this analysis."))
    response: HttpResponseBase
    if name == PLAYABLE:
        response = ranged_file_response(
            request,
            download.handle,
            size=analysis.audio_file.size,
            content_type=download.content_type,
            filename=download.filename,
            as_attachment=download.as_attachment,
            spec=spec,
        )
    else:
        response = FileResponse(
            download.handle,
            as_attachment=download.as_attachment,
            filename=download.filename,
            content_type=download.content_type,
        )
    response["Cache-Control"] = "private, no-store"
    return response


# --- the therapist's voice profile ("patient only (voice)") -------------------------------------


def _render_voice_profile(
    request: HttpRequest, form: VoiceProfileForm, *, status: int = 200, confirm_delete: bool = False
) -> HttpResponse:
    return render(
        request,
        "ser/voice_profile.html",
        {
            "form": form,
            "profile": VoiceProfile.objects.filter(pk=request.user.pk).first(),
            "confirm_delete": confirm_delete,
            "min_speech_s": voiceprofiles.MIN_ENROL_SPEECH_S,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def voice_profile(request: HttpRequest) -> HttpResponse:
    """GET: the user's own profile (or that there is none) and the enrolment form; POST: enrol
    from an uploaded or browser-recorded sample (replacing an earlier profile)."""
    if request.method != "POST":
        return _render_voice_profile(request, VoiceProfileForm())
    form = VoiceProfileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_voice_profile(request, form, status=400)
    try:
        profile = voiceprofiles.voice_profile_enrol(
            user=request.user,
            file=form.cleaned_data["file"],
            consent=form.cleaned_data["consent"],
            keep_sample=form.cleaned_data["keep_sample"],
        )
    except ValidationError as exc:
        _form_errors(form, exc)
        status = (
            503
            if isinstance(exc, voiceprofiles.VoiceProfileUnavailable)
            else 413
            if isinstance(exc, voiceprofiles.SampleTooLarge)
            else 400
        )
        return _render_voice_profile(request, form, status=status)
    messages.success(
        request,
        gettext("Your voice profile was saved (%(seconds)s s of speech).")
        % {"seconds": f"{profile.speech_s:.0f}"},
    )
    return redirect("ser:voice_profile")


def _form_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def voice_profile_delete(request: HttpRequest) -> HttpResponse:
    """GET: what will be deleted and a confirm button; POST: delete the profile (and kept sample)."""
    if request.method != "POST":
        return _render_voice_profile(request, VoiceProfileForm(), confirm_delete=True)
    if voiceprofiles.voice_profile_delete(user=request.user):
        messages.success(request, gettext("Your voice profile was deleted."))
    return redirect("ser:voice_profile")
