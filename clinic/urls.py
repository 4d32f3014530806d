"""Top-level routes. Everything but login and the health check requires a logged-in user."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from clinic.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="patients:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", include("patients.urls")),
    path("", include("reports.urls")),
    path("", include("sessions.urls")),
    path("", include("ser.urls")),
    path("api/", include("clinic.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
