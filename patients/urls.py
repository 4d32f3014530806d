from django.urls import path

from . import dashboard, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:pk>/", dashboard.patient_dashboard, name="detail"),
    path("<uuid:pk>/plots/<str:kind>.svg", dashboard.patient_plot, name="plot"),
    path("<uuid:pk>/baseline/", dashboard.patient_baseline, name="baseline"),
]
