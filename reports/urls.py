from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("patients/<uuid:pk>/", views.patient_dashboard, name="dashboard"),
    path("patients/<uuid:pk>/plots/<str:kind>.svg", views.patient_plot, name="plot"),
    path("patients/<uuid:pk>/baseline/", views.patient_baseline, name="baseline"),
    path("patients/<uuid:pk>/similar/", views.patient_similar, name="similar"),
    path("help/", views.help_page, name="help"),
    path("patients/<uuid:pk>/report.<str:fmt>", views.patient_export, name="export"),
    path("patients/<uuid:pk>/report/push/", views.patient_export_push, name="export_push"),
    path("analyses/<uuid:pk>/plots/<str:kind>.svg", views.analysis_plot, name="analysis_plot"),
]
