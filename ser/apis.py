"""REST API of the analysis app: a session with its recordings, the upload, a recording's status
and analyses. Every lookup is scoped to the requesting therapist."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from audit.services import owned
from sessions import services as session_services
from sessions.models import Recording, TherapySession
from sessions.serializers import SessionOutputSerializer

from . import selectors
from .serializers import RecordingOutputSerializer


class SessionDetailApi(APIView):
    def get(self, request: Request, pk: str) -> Response:
        session = owned(TherapySession.objects, pk, detail="api")
        data = SessionOutputSerializer(session).data
        data["recordings"] = RecordingOutputSerializer(
            selectors.recordings_with_jobs(session=session), many=True, context={"request": request}
        ).data
        return Response(data)

    def delete(self, request: Request, pk: str) -> Response:
        """The session, its recordings, their analyses and stored files (after commit)."""
        session = owned(TherapySession.objects, pk, action=AuditEvent.Action.DELETE, detail="session delete")
        session_services.session_delete(session=session, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingUploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        consent_confirmed = serializers.BooleanField()
        channel = serializers.ChoiceField(choices=Recording.Channel.choices, default=Recording.Channel.MIX)
        granularity = serializers.ChoiceField(
            choices=Recording.Granularity.choices, default=Recording.Granularity.UTTERANCE
        )

    def post(self, request: Request, pk: str) -> Response:
        session = owned(
            TherapySession.objects, pk, action=AuditEvent.Action.CREATE, detail="recording upload"
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            recording = session_services.recording_create(
                session=session,
                upload=data.validated_data["file"],
                consent_confirmed=data.validated_data["consent_confirmed"],
                channel=data.validated_data["channel"],
                granularity=data.validated_data["granularity"],
                uploaded_by=request.user,
            )
        except session_services.UploadTooLarge as exc:
            return Response({"file": exc.messages}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except ValidationError as exc:
            body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            RecordingOutputSerializer(recording, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class RecordingDetailApi(APIView):
    def get(self, request: Request, pk: str) -> Response:
        recording = owned(
            Recording.objects.select_related("job", "session").prefetch_related("analyses"), pk, detail="api"
        )
        return Response(RecordingOutputSerializer(recording, context={"request": request}).data)

    def delete(self, request: Request, pk: str) -> Response:
        """The recording, its analyses and stored files (after commit). `?reason=consent_withdrawn`
        records that the patient withdrew consent (the deletion is the same)."""
        reason = request.query_params.get("reason", "")
        if reason not in ("", "consent_withdrawn"):  # checked first: a refused call audits no delete
            return Response(
                {"reason": ["Leave it out, or use consent_withdrawn."]}, status=status.HTTP_400_BAD_REQUEST
            )
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
