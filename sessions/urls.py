from django.urls import path

from . import views

app_name = "sessions"

urlpatterns = [
    path("patients/<uuid:patient_pk>/sessions/new/", views.session_create, name="create"),
    path("recordings/<uuid:pk>/audio/", views.recording_audio, name="audio"),
]
