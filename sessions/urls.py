from django.urls import path

from . import views

app_name = "sessions"

urlpatterns = [
    path("patients/<uuid:patient_pk>/sessions/new/", views.session_create, name="create"),
    path("sessions/<uuid:pk>/edit/", views.session_edit, name="edit"),
    path("sessions/<uuid:pk>/delete/", views.session_delete, name="delete"),
    path("recordings/<uuid:pk>/audio/", views.recording_audio, name="audio"),
    path("recordings/<uuid:pk>/delete/", views.recording_delete, name="recording_delete"),
]
