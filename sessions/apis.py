"""REST API for a patient's sessions. Every lookup is scoped to the requesting therapist. (A
session's recordings and their analyses are served by the analysis app's API.)"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import owned
from patients.models import Patient

from . import selectors, services
from .serializers import SessionOutputSerializer

DATE_RANGE = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Sessions on or after this date."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Sessions on or before this date."),
]


class DateRangeSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:  # type: ignore[type-arg]
        if attrs["date_from"] and attrs["date_to"] and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": _("The end of the range is before its start.")})
        return attrs


class SessionInputSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    number = serializers.IntegerField(
        min_value=1,
        max_value=100000,
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out for the next number.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SessionListCreateApi(APIView):
    pagination_class = PageNumberPagination  # for the schema: the list is paginated

    def _patient(self, patient_pk: str) -> Patient:
        return owned(Patient.objects, patient_pk, detail="sessions list")

    @extend_schema(
        parameters=DATE_RANGE,
        responses=SessionOutputSerializer(many=True),
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        """The patient's sessions in number order, paginated; optionally within a date range."""
        patient = self._patient(patient_pk)
        window = DateRangeSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        qs = selectors.session_list(patient=patient, **window.validated_data)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(SessionOutputSerializer(page, many=True).data)

    @extend_schema(request=SessionInputSerializer, responses={201: SessionOutputSerializer})
    def post(self, request: Request, patient_pk: str) -> Response:
        patient = self._patient(patient_pk)
        data = SessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(patient=patient, **data.validated_data)
        return Response(SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)
