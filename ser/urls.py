from django.urls import path

from . import views

app_name = "ser"

urlpatterns = [
    path("sessions/<uuid:pk>/", views.session_detail, name="session"),
    path("sessions/<uuid:pk>/recordings/", views.recording_upload, name="upload"),
    path("recordings/<uuid:pk>/retry/", views.recording_retry, name="retry"),
    path("recordings/<uuid:pk>/reanalyse/", views.recording_reanalyse, name="reanalyse"),
    path("analyses/<uuid:pk>/<str:name>", views.analysis_download, name="download"),
]
