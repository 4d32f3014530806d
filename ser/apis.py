"""REST API of the analysis app: a session with its recordings, the upload, a recording's status
and analyses. Every lookup is scoped to the requesting therapist."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions import services as session_services
from sessions.models import Recording, TherapySession
from sessions.serializers import SessionOutputSerializer

from . import selectors
from .serializers import RecordingOutputSerializer


class SessionDetailApi(APIView):
    def get(self, request: Request, pk: str) -> Response:
        session = get_object_or_404(TherapySession.objects.for_user(request.user), pk=pk)
        data = SessionOutputSerializer(session).data
        data["recordings"] = RecordingOutputSerializer(
            selectors.recordings_with_jobs(session=session), many=True, context={"request": request}
        ).data
        return Response(data)


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
        session = get_object_or_404(TherapySession.objects.for_user(request.user), pk=pk)
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
        recording = get_object_or_404(
            Recording.objects.for_user(request.user).select_related("job").prefetch_related("analyses"),
            pk=pk,
        )
        return Response(RecordingOutputSerializer(recording, context={"request": request}).data)
