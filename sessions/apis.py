"""REST API for sessions and recordings. Every lookup is scoped to the requesting therapist."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from patients.models import Patient
from ser.serializers import AnalysisOutputSerializer

from . import services
from .models import Recording, TherapySession


class SessionOutputSerializer(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient_id")

    class Meta:
        model = TherapySession
        fields = ["id", "patient", "number", "started_at", "notes", "created_at"]


class RecordingOutputSerializer(serializers.ModelSerializer):
    session = serializers.UUIDField(source="session_id")
    analyses = AnalysisOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Recording
        fields = [
            "id",
            "session",
            "status",
            "error",
            "original_name",
            "sha256",
            "size_bytes",
            "duration_s",
            "sample_rate",
            "channels",
            "audio_format",
            "channel",
            "granularity",
            "consent_confirmed",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
            "analyses",
        ]


class SessionListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        started_at = serializers.DateTimeField()
        number = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    def _patient(self, request: Request, patient_pk: str) -> Patient:
        return get_object_or_404(Patient.objects.for_user(request.user), pk=patient_pk)

    def get(self, request: Request, patient_pk: str) -> Response:
        patient = self._patient(request, patient_pk)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(patient.sessions.order_by("number"), request, view=self)
        return paginator.get_paginated_response(SessionOutputSerializer(page, many=True).data)

    def post(self, request: Request, patient_pk: str) -> Response:
        patient = self._patient(request, patient_pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = services.session_create(patient=patient, **data.validated_data)
        except ValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(APIView):
    def get(self, request: Request, pk: str) -> Response:
        session = get_object_or_404(TherapySession.objects.for_user(request.user), pk=pk)
        data = SessionOutputSerializer(session).data
        recordings = session.recordings.order_by("created_at").prefetch_related("analyses")
        data["recordings"] = RecordingOutputSerializer(
            recordings, many=True, context={"request": request}
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
            recording = services.recording_create(
                session=session,
                upload=data.validated_data["file"],
                consent_confirmed=data.validated_data["consent_confirmed"],
                channel=data.validated_data["channel"],
                granularity=data.validated_data["granularity"],
                uploaded_by=request.user,
            )
        except services.UploadTooLarge as exc:
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
            Recording.objects.for_user(request.user).prefetch_related("analyses"), pk=pk
        )
        return Response(RecordingOutputSerializer(recording, context={"request": request}).data)
