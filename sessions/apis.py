"""REST API for a patient's sessions. Every lookup is scoped to the requesting therapist. (A
session's recordings and their analyses are served by the analysis app's API.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import owned
from patients.models import Patient

from . import services
from .serializers import SessionOutputSerializer


class SessionListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        started_at = serializers.DateTimeField()
        number = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    def _patient(self, request: Request, patient_pk: str) -> Patient:
        return owned(Patient.objects, patient_pk, detail="sessions list")

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
