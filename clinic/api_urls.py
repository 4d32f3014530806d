"""/api/v1/ routes. The schema (OpenAPI 3) is at /api/v1/schema/, its interactive page at
/api/v1/docs/. The unversioned /api/... paths of earlier releases answer 308 to the same path
under /api/v1/ (method and body kept)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clinic.apis import ObtainTokenApi
from patients import apis as patient_apis
from reports import apis as report_apis
from ser import apis as analysis_apis
from ser import voiceprofile_apis
from sessions import apis as session_apis

app_name = "api"

urlpatterns = [
    path("auth/token/", ObtainTokenApi.as_view(), name="token"),
    path("patients/", patient_apis.PatientListCreateApi.as_view(), name="patients"),
    path("patients/<uuid:pk>/", patient_apis.PatientDetailApi.as_view(), name="patient"),
    path(
        "patients/<uuid:patient_pk>/sessions/", session_apis.SessionListCreateApi.as_view(), name="sessions"
    ),
    path("patients/<uuid:pk>/trend/", report_apis.TrendApi.as_view(), name="trend"),
    path("patients/<uuid:pk>/flags/", report_apis.FlagsApi.as_view(), name="flags"),
    path("patients/<uuid:pk>/baseline/", report_apis.BaselineApi.as_view(), name="baseline"),
    path("patients/<uuid:pk>/exports/", report_apis.ExportListApi.as_view(), name="exports"),
    path("patients/<uuid:pk>/exports/push/", report_apis.ExportPushApi.as_view(), name="export-push"),
    path("patients/<uuid:pk>/exports/<str:fmt>/", report_apis.ExportDownloadApi.as_view(), name="export"),
    path("exports/<uuid:pk>/", report_apis.ExportDetailApi.as_view(), name="export-detail"),
    path("sessions/<uuid:pk>/", analysis_apis.SessionDetailApi.as_view(), name="session"),
    path("sessions/<uuid:pk>/recordings/", analysis_apis.RecordingListUploadApi.as_view(), name="recordings"),
    path("recordings/<uuid:pk>/", analysis_apis.RecordingDetailApi.as_view(), name="recording"),
    path("recordings/<uuid:pk>/retry/", analysis_apis.RecordingRetryApi.as_view(), name="recording-retry"),
    path("analyses/<uuid:pk>/", analysis_apis.AnalysisDetailApi.as_view(), name="analysis"),
    path(
        "analyses/<uuid:pk>/speakers/", analysis_apis.AnalysisSpeakersApi.as_view(), name="analysis-speakers"
    ),
    path(
        "analyses/<uuid:pk>/files/<str:name>", analysis_apis.AnalysisFileApi.as_view(), name="analysis-file"
    ),
    path("voice-profile/", voiceprofile_apis.VoiceProfileApi.as_view(), name="voice-profile"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
