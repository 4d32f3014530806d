from django.urls import path

from . import views

app_name = "patients"

# The patient's own page is the dashboard (reports:dashboard, /patients/<id>/).
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:pk>/edit/", views.patient_edit, name="edit"),
    path("<uuid:pk>/archive/", views.patient_archive, name="archive"),
    path("<uuid:pk>/restore/", views.patient_restore, name="restore"),
    path("<uuid:pk>/delete/", views.patient_delete, name="delete"),
]
