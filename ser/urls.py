from django.urls import path

from . import views

app_name = "ser"

urlpatterns = [
    path("sessions/<uuid:pk>/", views.session_detail, name="session"),
    path("sessions/<uuid:pk>/recordings/", views.recording_upload, name="upload"),
    path("recordings/<uuid:pk>/retry/", views.recording_retry, name="retry"),
    path("recordings/<uuid:pk>/reanalyse/", views.recording_reanalyse, name="reanalyse"),
    path("analyses/<uuid:pk>/speakers/", views.analysis_speakers, name="speakers"),
    path("analyses/<uuid:pk>/<str:name>", views.analysis_download, name="download"),
    path("voice-profile/", views.voice_profile, name="voice_profile"),
    path("voice-profile/delete/", views.voice_profile_delete, name="voice_profile_delete"),
]
