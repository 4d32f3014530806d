from django.urls import path

from . import views

app_name = "sessions"

urlpatterns = [
    path("patients/<uuid:patient_pk>/sessions/new/", views.session_create, name="create"),
    path("sessions/<uuid:pk>/", views.session_detail, name="detail"),
    path("sessions/<uuid:pk>/recordings/", views.recording_upload, name="upload"),
    path("recordings/<uuid:pk>/audio/", views.recording_audio, name="audio"),
]
