"""REST API of the reporting layer: a patient's trend series (trajectory and drift from the current
baseline, with the flags), the baseline, and trend reports (PDF, CSV, FHIR R4 download; push to the
clinic's FHIR server; the export history). Every lookup is scoped to the requesting therapist."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import owned
from patients import services as patient_services
from patients.models import Patient
from ser.engine.labels import EMOTIONS
from ser.engine.voice import BY_KEY, MEASURE_KEYS
from sessions.apis import DATE_RANGE, DateRangeSerializer
from sessions.models import TherapySession

from . import services, voice_panel
from .models import ReportExport
from .report import TrendReport, trend_report
from .restrictions import RESTRICTIONS

VARIANT = OpenApiParameter(
    "variant", str, description="Model variant to compare within (default: the most used one)."
)


class FlagSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["rising-distress", "drift", *(f"voice-{k}" for k in MEASURE_KEYS), "low-speech"],
        help_text="voice-<measure>: that voice measure outside the patient's usual range in each of the "
        "last sessions (for review, not a diagnosis).",
    )
    title = serializers.CharField()
    detail = serializers.CharField(help_text="Why, in words, with the threshold.")
    sessions = serializers.ListField(child=serializers.IntegerField(), help_text="Session numbers.")


class ProvenanceSerializer(serializers.Serializer):
    model_id = serializers.CharField()
    model_revision = serializers.CharField()
    model_variant = serializers.CharField()
    precision = serializers.CharField()
    device = serializers.CharField()
    is_test_model = serializers.BooleanField()


def _measure_help(key: str, what: str) -> str:
    m = BY_KEY[key]
    return f"{m.label}, {m.unit}: {m.help}. {what}"


# The voice shapes, built from ser.engine.voice.MEASURES: a new measure is typed here (and in the
# schema) without touching this module.
TrendVoiceSerializer = type(
    "TrendVoiceSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The session's voice measures, each in its unit: the speech-weighted mean over its "
        "recordings; null where none of them has the measure.",
        "__module__": __name__,
        **{
            k: serializers.FloatField(allow_null=True, help_text=_measure_help(k, "Null: not measured."))
            for k in MEASURE_KEYS
        },
    },
)

TrendVoiceBeyondSerializer = type(
    "TrendVoiceBeyondSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The measures of a (non-baseline) session outside the patient's usual range, and on "
        "which side; measures within it, without a range or without a value are left out.",
        "__module__": __name__,
        **{
            k: serializers.ChoiceField(
                choices=voice_panel.SIDES,
                required=False,
                help_text=_measure_help(k, "Above or below its range."),
            )
            for k in MEASURE_KEYS
        },
    },
)


class VoiceBandSerializer(serializers.Serializer):
    low = serializers.FloatField(help_text="Lower edge of the usual range.")
    high = serializers.FloatField(help_text="Upper edge of the usual range.")
    mean = serializers.FloatField(help_text="Mean of the baseline sessions.")
    n = serializers.IntegerField(help_text="Baseline sessions with a value.")
    unit = serializers.CharField(help_text="The measure's unit.")


TrendVoiceBandsSerializer = type(
    "TrendVoiceBandsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Each voice measure's usual range for this patient: the baseline sessions' mean ± "
        "VOICE_BAND_SD SD, at least ± VOICE_BAND_MIN_REL of the mean; null with fewer than two baseline "
        "values.",
        "__module__": __name__,
        **{
            k: VoiceBandSerializer(allow_null=True, help_text=_measure_help(k, "Null: no range yet."))
            for k in MEASURE_KEYS
        },
    },
)


class TrendSessionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    number = serializers.IntegerField()
    date = serializers.DateTimeField()
    dominant = serializers.ChoiceField(choices=list(EMOTIONS))
    confidence = serializers.FloatField(help_text="Share of the dominant emotion, 0–1.")
    scores = serializers.DictField(child=serializers.FloatField(), help_text="Class → share, 0–1.")
    euclidean = serializers.FloatField(help_text="Distance of the session's embedding from the baseline.")
    cosine = serializers.FloatField(help_text="1 − cosine similarity to the baseline.")
    speech_s = serializers.FloatField(help_text="Seconds of speech analysed.")
    baseline = serializers.BooleanField(help_text="Part of the baseline.")
    beyond_band = serializers.BooleanField(
        help_text="Drift above the patient's usual range (never for a session not drift_comparable)."
    )
    restriction = serializers.ChoiceField(
        choices=list(RESTRICTIONS),
        help_text="Whose speech the session rests on: mix (both speakers: mixed channels, or a one-channel "
        "recording), channel (the patient's own channel), voice (patient only, found by voice), mixed "
        "(its recordings differ).",
    )
    drift_comparable = serializers.BooleanField(
        help_text="Restricted like the baseline. When false the drift values are given but not compared: "
        "no band, no flag."
    )
    analysis_ids = serializers.ListField(child=serializers.UUIDField())
    voice = TrendVoiceSerializer(help_text="Voice measures (pitch, loudness, rate, pauses, quality).")
    voice_beyond_band = TrendVoiceBeyondSerializer(
        source="voice_beyond", help_text="Voice measures outside the patient's usual range."
    )


class BandSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()


class TrendSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    variant = serializers.CharField(
        allow_null=True, help_text="Drift compares sessions of this variant only."
    )
    variants = serializers.ListField(child=serializers.CharField())
    is_test_model = serializers.BooleanField()
    notice = serializers.CharField()
    baseline = serializers.CharField(help_text="The baseline definition in words.")
    baseline_restriction = serializers.ChoiceField(
        choices=list(RESTRICTIONS),
        allow_null=True,
        help_text="The baseline sessions' restriction (mixed: they differ, and no drift is compared).",
    )
    restriction_note = serializers.CharField(
        allow_blank=True, help_text="Which sessions' drift is not compared, and why; empty when all are."
    )
    band = BandSerializer(allow_null=True, help_text="Usual range: baseline mean ± 2 SD (None under 2).")
    sessions = TrendSessionSerializer(many=True)
    flags = FlagSerializer(many=True)
    models = ProvenanceSerializer(many=True)
    voice_bands = TrendVoiceBandsSerializer(
        help_text="Each voice measure's usual range (for review: decision support, not a diagnosis)."
    )


def _trend_data(report: TrendReport) -> dict[str, Any]:
    trend = report.trend
    return {
        "patient": report.patient.pk,
        "date_from": report.date_from,
        "date_to": report.date_to,
        "variant": trend.variant,
        "variants": trend.variants,
        "is_test_model": trend.is_test_model,
        "notice": " ".join(report.notices),
        "baseline": report.baseline_words,
        "baseline_restriction": trend.baseline_restriction or None,
        "restriction_note": trend.restriction_note,
        "band": {"low": trend.band[0], "high": trend.band[1]} if trend.band else None,
        "sessions": [{**row.__dict__, "analysis_ids": list(row.analysis_ids)} for row in report.rows],
        "flags": [f.__dict__ for f in trend.flags],
        "models": [m.__dict__ for m in report.models],
        "voice_bands": {
            k: (
                {"low": b.low, "high": b.high, "mean": b.mean, "n": b.n, "unit": BY_KEY[k].unit}
                if (b := trend.voice_bands.get(k)) is not None
                else None
            )
            for k in MEASURE_KEYS
        },
    }


def _report(request: Request, pk: str, detail: str) -> TrendReport:
    patient = owned(Patient.objects, pk, detail=detail)
    window = DateRangeSerializer(data=request.query_params)
    window.is_valid(raise_exception=True)
    return trend_report(patient=patient, variant=request.query_params.get("variant"), **window.validated_data)


class TrendApi(APIView):
    @extend_schema(parameters=[*DATE_RANGE, VARIANT], responses=TrendSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """The emotion trajectory and drift from the current baseline, one entry per analysed session,
        with the flags judged on the sessions in the range."""
        return Response(TrendSerializer(_trend_data(_report(request, pk, "api trend"))).data)


class FlagsApi(APIView):
    @extend_schema(parameters=[*DATE_RANGE, VARIANT], responses=FlagSerializer(many=True))
    def get(self, request: Request, pk: str) -> Response:
        """Changes worth a look (decision support, not a diagnosis)."""
        report = _report(request, pk, "api flags")
        return Response(FlagSerializer([f.__dict__ for f in report.flags], many=True).data)


class BaselineSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Patient.Baseline.choices)
    n = serializers.IntegerField(min_value=1, max_value=50, default=3, help_text="For first_n.")
    sessions = serializers.ListField(
        child=serializers.UUIDField(), default=list, help_text="For session (one) or set (one or more)."
    )


class BaselineApi(APIView):
    @extend_schema(responses=BaselineSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """How drift's baseline is chosen for this patient."""
        patient = owned(Patient.objects, pk, detail="api baseline")
        return Response(BaselineSerializer(self._data(patient)).data)

    @extend_schema(request=BaselineSerializer, responses=BaselineSerializer)
    def put(self, request: Request, pk: str) -> Response:
        """Choose the baseline: the first N sessions, one session, or a set."""
        patient = owned(Patient.objects, pk, detail="api baseline set")
        data = BaselineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = {str(s) for s in data.validated_data["sessions"]}
        sessions = list(TherapySession.objects.filter(patient=patient, pk__in=wanted))
        if len(sessions) != len(wanted):
            raise serializers.ValidationError({"sessions": [gettext("Choose sessions of this patient.")]})
        patient_services.baseline_set(
            patient=patient, mode=data.validated_data["mode"], n=data.validated_data["n"], sessions=sessions
        )
        return Response(BaselineSerializer(self._data(patient)).data)

    @staticmethod
    def _data(patient: Patient) -> dict[str, Any]:
        return {
            "mode": patient.baseline_mode,
            "n": patient.baseline_n,
            "sessions": list(patient.baseline_sessions.order_by("number").values_list("id", flat=True)),
        }


class ExportOutputSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.get_username")
    error = serializers.CharField(
        source="error_text",
        read_only=True,
        help_text="Why sending failed, in words (in the request's language).",
    )

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "patient",
            "requested_by",
            "format",
            "page_size",
            "destination",
            "date_from",
            "date_to",
            "session_count",
            "model_variant",
            "sha256",
            "size_bytes",
            "status",
            "attempts",
            "http_status",
            "server_ids",
            "error",
            "created_at",
            "finished_at",
        ]


class ExportListApi(APIView):
    pagination_class = PageNumberPagination  # for the schema: the list is paginated

    @extend_schema(responses=ExportOutputSerializer(many=True))
    def get(self, request: Request, pk: str) -> Response:
        """Every report of this patient that left the system, newest first."""
        patient = owned(Patient.objects, pk, detail="api export history")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            patient.exports.select_related("requested_by").order_by("-created_at"), request, view=self
        )
        return paginator.get_paginated_response(ExportOutputSerializer(page, many=True).data)


class ExportQuerySerializer(DateRangeSerializer):
    page_size = serializers.ChoiceField(choices=ReportExport.PageSize.choices, default="a4")
    variant = serializers.CharField(required=False, allow_blank=True, default="")


class ExportDownloadApi(APIView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)  # a file, whatever Accept says

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(ReportExport.Format.values)),
            *DATE_RANGE,
            OpenApiParameter("page_size", str, enum=list(ReportExport.PageSize.values), description="PDF."),
            VARIANT,
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="pdf"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="csv"),
            (200, "application/fhir+json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="fhir: an R4 Bundle (collection) with the PDF inside"
            ),
        },
    )
    def get(self, request: Request, pk: str, fmt: str) -> HttpResponse:
        """The trend report as a file; the export is recorded (history and audit trail)."""
        if fmt not in ReportExport.Format.values:
            raise serializers.ValidationError({"fmt": [gettext("Choose pdf, csv or fhir.")]})
        patient = owned(Patient.objects, pk, detail=f"api export {fmt}")
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        out = services.report_export(
            patient=patient,
            user=request.user,
            fmt=fmt,
            date_from=query.validated_data["date_from"],
            date_to=query.validated_data["date_to"],
            page_size=query.validated_data["page_size"],
            variant=query.validated_data["variant"] or None,
        )
        return services.attachment(out)


class PushInputSerializer(DateRangeSerializer):
    page_size = serializers.ChoiceField(choices=ReportExport.PageSize.choices, default="a4")


class ExportPushApi(APIView):
    @extend_schema(request=PushInputSerializer, responses={202: ExportOutputSerializer})
    def post(self, request: Request, pk: str) -> Response:
        """Send the report to the clinic's FHIR server (a transaction Bundle with the PDF). Answers at
        once; poll the export (GET /exports/{id}/) for the outcome."""
        patient = owned(Patient.objects, pk, detail="api export push")
        data = PushInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        export = services.report_push(patient=patient, user=request.user, **data.validated_data)
        return Response(ExportOutputSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """One export: for a push, its status, attempts, the server's answer and resource ids."""
        export = owned(ReportExport.objects.select_related("requested_by"), pk, detail="api export")
        return Response(ExportOutputSerializer(export).data)
