"""REST API for patients. Every lookup is scoped to the requesting therapist."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from audit.services import owned

from . import selectors, services
from .models import Patient


class PatientOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "display_name", "external_id", "date_of_birth", "notes", "created_at", "updated_at"]


class PatientListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=120)
        external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.patient_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(PatientOutputSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            patient = services.patient_create(owner=request.user, **data.validated_data)
        except ValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(APIView):
    def get(self, request: Request, pk: str) -> Response:
        patient = owned(Patient.objects, pk, detail="api")
        return Response(PatientOutputSerializer(patient).data)

    def delete(self, request: Request, pk: str) -> Response:
        """The patient, their sessions, recordings, analyses and stored files (after commit)."""
        patient = owned(Patient.objects, pk, action=AuditEvent.Action.DELETE, detail="patient delete")
        services.patient_delete(patient=patient, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
