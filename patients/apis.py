"""REST API for patients. Every lookup is scoped to the requesting therapist (another's is a 404)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
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
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "display_name",
            "external_id",
            "date_of_birth",
            "notes",
            "ehr_patient_id",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def get_archived(self, obj: Patient) -> bool:
        return obj.archived_at is not None


class PatientInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=120)
    external_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Record id / MRN."
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    ehr_patient_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The patient's id in the clinic's FHIR server; exports then refer to it.",
    )


class PatientUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=120, required=False)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    ehr_patient_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    archived = serializers.BooleanField(
        required=False, help_text="true archives (the patient leaves the list; nothing is deleted)."
    )


class PatientListCreateApi(APIView):
    pagination_class = PageNumberPagination  # for the schema: the list is paginated

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the name or record id."),
            OpenApiParameter(
                "archived", str, enum=["false", "true", "all"], description="Default: active patients."
            ),
            OpenApiParameter("ordering", str, enum=list(selectors.ORDERINGS), description="Default: name."),
        ],
        responses=PatientOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """The therapist's patients, paginated."""
        qs = selectors.patient_list(
            user=request.user,
            search=request.query_params.get("search", ""),
            archived=request.query_params.get("archived", "false"),
            ordering=request.query_params.get("ordering", "name"),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(PatientOutputSerializer(page, many=True).data)

    @extend_schema(request=PatientInputSerializer, responses={201: PatientOutputSerializer})
    def post(self, request: Request) -> Response:
        data = PatientInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = services.patient_create(owner=request.user, **data.validated_data)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(APIView):
    @extend_schema(responses=PatientOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        patient = owned(Patient.objects, pk, detail="api")
        return Response(PatientOutputSerializer(patient).data)

    @extend_schema(request=PatientUpdateSerializer, responses=PatientOutputSerializer)
    def patch(self, request: Request, pk: str) -> Response:
        """Change details, or archive / restore (`archived`)."""
        patient = owned(Patient.objects, pk, detail="api update")
        data = PatientUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        archived = fields.pop("archived", None)
        patient = services.patient_update(patient=patient, archived=archived, **fields)
        return Response(PatientOutputSerializer(patient).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        """The patient, their sessions, recordings, analyses and stored files (after commit)."""
        patient = owned(Patient.objects, pk, action=AuditEvent.Action.DELETE, detail="patient delete")
        services.patient_delete(patient=patient, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
