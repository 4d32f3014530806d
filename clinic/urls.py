"""Top-level routes. Everything but login and the health check requires a logged-in user."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from clinic.health import healthz


def api_unversioned(request: HttpRequest, rest: str) -> HttpResponsePermanentRedirect:
    """/api/<rest> of earlier releases → /api/v1/<rest>, 308: the client repeats the same method
    and body there (a 301 would turn a POST into a GET)."""
    target = f"/api/v1/{rest}"
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    response = HttpResponsePermanentRedirect(target)
    response.status_code = 308
    return response


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="patients:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", include("patients.urls")),
    path("", include("reports.urls")),
    path("", include("sessions.urls")),
    path("", include("ser.urls")),
    path("api/v1/", include("clinic.api_urls")),
    re_path(r"^api/(?!v1/)(?P<rest>.*)$", api_unversioned, name="api-unversioned"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
