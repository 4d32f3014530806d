from django.urls import path

from . import views

app_name = "ser"

urlpatterns = [
    path("analyses/<uuid:pk>/plots/<str:kind>.svg", views.analysis_plot, name="plot"),
    path("analyses/<uuid:pk>/<str:name>", views.analysis_download, name="download"),
]
