"""/api/ routes."""

from django.urls import path

from clinic.apis import ObtainTokenApi
from patients import apis as patient_apis
from ser import apis as analysis_apis
from sessions import apis as session_apis

app_name = "api"

urlpatterns = [
    path("auth/token/", ObtainTokenApi.as_view(), name="token"),
    path("patients/", patient_apis.PatientListCreateApi.as_view(), name="patients"),
    path("patients/<uuid:pk>/", patient_apis.PatientDetailApi.as_view(), name="patient"),
    path(
        "patients/<uuid:patient_pk>/sessions/", session_apis.SessionListCreateApi.as_view(), name="sessions"
    ),
    path("sessions/<uuid:pk>/", analysis_apis.SessionDetailApi.as_view(), name="session"),
    path("sessions/<uuid:pk>/recordings/", analysis_apis.RecordingUploadApi.as_view(), name="recordings"),
    path("recordings/<uuid:pk>/", analysis_apis.RecordingDetailApi.as_view(), name="recording"),
]
