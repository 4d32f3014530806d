"""Top-level routes. Everything but login and the health check requires a logged-in user."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from clinic.api_errors import error_response
from clinic.health import healthz


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a path no route matches: the API's error body under /api/, else Django's page."""
    if request.path.startswith("/api/"):
        return error_response(404, _("No such API path."))
    return page_not_found(request, exception)


handler404 = not_found


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
    path("accounts/", include("accounts.urls")),
    path("patients/", include("patients.urls")),
    path("", include("reports.urls")),
    path("", include("sessions.urls")),
    path("", include("ser.urls")),
    path("api/v1/", include("clinic.api_urls")),
    re_path(r"^api/(?!v1/)(?P<rest>.*)$", api_unversioned, name="api-unversioned"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The words the pages' scripts show (locale/*/LC_MESSAGES/djangojs.po), public like the
    # scripts themselves: the login page has none, but caching one URL for all is simpler.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
