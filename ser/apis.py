"""REST API of the analysis app: a session with its recordings, the upload (one or several files),
a recording's status and analyses, an analysis and its files. Every lookup is scoped to the
requesting therapist (another's is a 404)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from audit.services import owned
from sessions import services as session_services
from sessions.models import Recording, TherapySession
from sessions.serializers import SessionOutputSerializer

from . import attribution, selectors, services
from .models import DOWNLOADS, EmotionAnalysis
from .serializers import AnalysisOutputSerializer, RecordingOutputSerializer
from .views import analysis_file_response

MAX_FILES_PER_UPLOAD = 20


class SessionWithRecordingsSerializer(SessionOutputSerializer):
    recordings = RecordingOutputSerializer(many=True, read_only=True)

    class Meta(SessionOutputSerializer.Meta):
        fields = [*SessionOutputSerializer.Meta.fields, "recordings"]


class SessionUpdateSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField(required=False)
    number = serializers.IntegerField(min_value=1, max_value=100000, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


def _session_data(request: Request, session: TherapySession) -> dict[str, Any]:
    data: dict[str, Any] = dict(SessionOutputSerializer(session).data)
    data["recordings"] = RecordingOutputSerializer(
        selectors.recordings_with_jobs(session=session), many=True, context={"request": request}
    ).data
    return data


class SessionDetailApi(APIView):
    @extend_schema(responses=SessionWithRecordingsSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """The session with its recordings, their analysis state and analyses."""
        return Response(_session_data(request, owned(TherapySession.objects, pk, detail="api")))

    @extend_schema(request=SessionUpdateSerializer, responses=SessionWithRecordingsSerializer)
    def patch(self, request: Request, pk: str) -> Response:
        """Correct the session's date, number or notes."""
        session = owned(TherapySession.objects.select_related("patient"), pk, detail="api update")
        data = SessionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = session_services.session_update(session=session, **data.validated_data)
        return Response(_session_data(request, session))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        """The session, its recordings, their analyses and stored files (after commit)."""
        session = owned(TherapySession.objects, pk, action=AuditEvent.Action.DELETE, detail="session delete")
        session_services.session_delete(session=session, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadInputSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        min_length=1,
        max_length=MAX_FILES_PER_UPLOAD,
        help_text=_(
            "One or more audio files (WAV, MP3, M4A, FLAC, OGG); repeat the field for several. "
            "Each becomes a recording of this session with its own analysis."
        ),
    )
    consent_confirmed = serializers.BooleanField(
        help_text=_("Must be true: the patient consented to these recordings being analysed.")
    )
    channel = serializers.ChoiceField(choices=Recording.Channel.choices, default=Recording.Channel.MIX)
    granularity = serializers.ChoiceField(
        choices=Recording.Granularity.choices, default=Recording.Granularity.UTTERANCE
    )


class UploadOutputSerializer(serializers.Serializer):
    recordings = RecordingOutputSerializer(many=True)


class RecordingListUploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=RecordingOutputSerializer(many=True))
    def get(self, request: Request, pk: str) -> Response:
        """The session's recordings with their analysis state and analyses."""
        session = owned(TherapySession.objects, pk, detail="api recordings")
        recordings = selectors.recordings_with_jobs(session=session)
        return Response(RecordingOutputSerializer(recordings, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": UploadInputSerializer},
        responses={201: UploadOutputSerializer},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Upload one or several recordings; each is queued for analysis once all are stored. All or
        nothing: if one file is refused, none is kept, and the error names the file."""
        session = owned(
            TherapySession.objects, pk, action=AuditEvent.Action.CREATE, detail="recording upload"
        )
        data = UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = []
        files = data.validated_data["file"]
        with transaction.atomic():
            for upload in files:
                try:
                    created.append(
                        session_services.recording_create(
                            session=session,
                            upload=upload,
                            consent_confirmed=data.validated_data["consent_confirmed"],
                            channel=data.validated_data["channel"],
                            granularity=data.validated_data["granularity"],
                            uploaded_by=request.user,
                        )
                    )
                except ValidationError as exc:
                    _refuse(
                        exc,
                        getattr(upload, "name", "") or "file",
                        several=len(data.validated_data["file"]) > 1,
                    )
        return Response(
            {"recordings": RecordingOutputSerializer(created, many=True, context={"request": request}).data},
            status=status.HTTP_201_CREATED,
        )


class _Conflict(exceptions.APIException):
    """409 in the API's error body (the same audio twice; a change while analysing; a retry of an
    analysis that did not fail)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class _TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _refuse(exc: ValidationError, name: str, *, several: bool) -> None:
    messages = exc.messages
    if several:
        messages = [f"{name}: {m}" for m in messages]
    if isinstance(exc, session_services.UploadTooLarge):
        raise _TooLarge(" ".join(messages))
    if isinstance(exc, session_services.DuplicateRecording):
        raise _Conflict(" ".join(messages))
    if hasattr(exc, "error_dict"):
        errors = {k: [f"{name}: {m}" if several else m for m in v] for k, v in exc.message_dict.items()}
        raise exceptions.ValidationError(errors)
    raise exceptions.ValidationError({"file": messages})


class RecordingUpdateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Recording.Channel.choices, required=False)
    granularity = serializers.ChoiceField(choices=Recording.Granularity.choices, required=False)


class RecordingDetailApi(APIView):
    @extend_schema(request=RecordingUpdateSerializer, responses={202: RecordingOutputSerializer})
    def patch(self, request: Request, pk: str) -> Response:
        """Correct the channel or granularity: the old analyses are deleted and the recording is
        analysed again (202). 409 while an analysis is queued or running."""
        recording = owned(Recording.objects.select_related("session"), pk, detail="api re-analysis")
        data = RecordingUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.recording_reanalyse(
                recording=recording,
                channel=data.validated_data.get("channel", recording.channel),
                granularity=data.validated_data.get("granularity", recording.granularity),
            )
        except services.JobBusy as exc:
            raise _Conflict(" ".join(exc.messages)) from None
        recording = Recording.objects.select_related("job", "session").prefetch_related("analyses").get(pk=pk)
        return Response(
            RecordingOutputSerializer(recording, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses=RecordingOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """The recording, its analysis state (status, stage, progress, error) and analyses."""
        recording = owned(
            Recording.objects.select_related("job", "session").prefetch_related("analyses"), pk, detail="api"
        )
        return Response(RecordingOutputSerializer(recording, context={"request": request}).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reason",
                str,
                enum=["consent_withdrawn"],
                description=_("consent_withdrawn records that the patient withdrew consent."),
            )
        ],
        responses={204: None},
    )
    def delete(self, request: Request, pk: str) -> Response:
        """The recording, its analyses and stored files (after commit)."""
        reason = request.query_params.get("reason", "")
        if reason not in ("", "consent_withdrawn"):  # checked first: a refused call audits no delete
            raise exceptions.ValidationError({"reason": [gettext("Leave it out, or use consent_withdrawn.")]})
        withdrawn = reason == "consent_withdrawn"
        recording = owned(
            Recording.objects.select_related("session"),
            pk,
            action=AuditEvent.Action.DELETE,
            detail="recording delete: consent withdrawn" if withdrawn else "recording delete",
        )
        if withdrawn:
            session_services.recording_consent_withdraw(recording=recording, actor=request.user)
        else:
            session_services.recording_delete(recording=recording, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingRetryApi(APIView):
    @extend_schema(request=None, responses={202: RecordingOutputSerializer})
    def post(self, request: Request, pk: str) -> Response:
        """Queue a failed analysis again, from the start (status pending, attempts and error
        cleared). 409 unless the analysis failed."""
        recording = owned(Recording.objects.select_related("session"), pk, detail="api analysis retry")
        try:
            services.job_retry(recording=recording)
        except services.JobNotFailed as exc:
            raise _Conflict(" ".join(exc.messages)) from None
        recording = Recording.objects.select_related("job", "session").prefetch_related("analyses").get(pk=pk)
        return Response(
            RecordingOutputSerializer(recording, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class AnalysisDetailApi(APIView):
    @extend_schema(responses=AnalysisOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """Scores, the segment timeline, provenance (model, revision, precision, input SHA-256) and
        links to the analysis's files (result.json, embedding.npy, frames.npz at frame granularity)."""
        analysis = owned(EmotionAnalysis.objects, pk, detail="api")
        return Response(AnalysisOutputSerializer(analysis, context={"request": request}).data)


class SpeakersInputSerializer(serializers.Serializer):
    therapist_voice = serializers.ChoiceField(
        choices=["A", "B", ""],
        allow_blank=True,
        help_text=_(
            'Which voice is the therapist\'s: "A", "B", or "" when neither is (all speech is the patient\'s).'
        ),
    )


class AnalysisSpeakersApi(APIView):
    @extend_schema(request=SpeakersInputSerializer, responses=AnalysisOutputSerializer)
    def post(self, request: Request, pk: str) -> Response:
        """Name the voices of a "patient only (voice)" analysis, or correct the naming: the scores,
        embedding, speech seconds and voice measures are computed again from the patient's
        segments alone (the model does not run again), and the analysis joins the patient's
        trends. 400 for an analysis of another channel, or a naming that leaves no patient speech."""
        analysis = owned(
            EmotionAnalysis.objects.select_related("recording__session"), pk, detail="api speakers named"
        )
        data = SpeakersInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        analysis = attribution.speakers_name(
            analysis=analysis, therapist_voice=data.validated_data["therapist_voice"], actor=request.user
        )
        return Response(AnalysisOutputSerializer(analysis, context={"request": request}).data)


class AnalysisFileApi(APIView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)  # files, whatever Accept says

    @extend_schema(
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(DOWNLOADS))],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="result.json"),
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="embedding.npy, frames.npz, segments.npz"
            ),
            (200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY, description="processed_audio.wav"),
            (206, "audio/wav"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=_("processed_audio.wav: the one byte range asked for (Range)"),
            ),
        },
    )
    def get(self, request: Request, pk: str, name: str) -> HttpResponseBase:
        """One of the analysis's files, as an attachment (processed_audio.wav inline, and it
        honours Range: 206 for one byte range)."""
        return analysis_file_response(request._request, pk, name)
