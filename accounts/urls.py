from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("time-zone/", views.time_zone, name="time_zone"),
    path("language/", views.language, name="language"),
]
