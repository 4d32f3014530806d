"""Deny by default: every URL pattern the project has, walked, answers an anonymous client with the
login page (pages) or 401 (API) — except the few that are public on purpose, listed here."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# The token endpoint, the redirect of pre-v1 API paths to /api/v1/ (checked below), the language
# switcher (the login page has it) and the scripts' catalogue of words.
PUBLIC = {
    "accounts/login/",
    "healthz",
    "api/v1/auth/token/",
    "^api/(?!v1/)(?P<rest>.*)$",
    "accounts/language/",
    "jsi18n/",
}


def _walk(patterns: list, prefix: str = "") -> list[str]:  # type: ignore[type-arg]
    out: list[str] = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin: its own login, checked below
            out += _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            out.append(route)
    return out


def _concrete(route: str) -> str:
    """A URL for the route with made-up ids (no such object: a leak would show as a 404)."""
    url = route
    for conv, value in (("<uuid:", str(uuid.uuid4())), ("<str:", "x"), ("<int:", "1"), ("<path:", "x")):
        while conv in url:
            start = url.index(conv)
            url = url[:start] + value + url[url.index(">", start) + 1 :]
    return "/" + url.lstrip("^").rstrip("$")


def test_every_url_but_the_public_ones_requires_a_login(client) -> None:  # type: ignore[no-untyped-def]
    routes = [r for r in _walk(get_resolver().url_patterns) if r not in PUBLIC and r != ""]
    assert len(routes) >= 15, routes  # the walk found the project's routes
    for route in routes:
        url = _concrete(route)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if url.startswith("/api/"):
                assert response.status_code in (401, 405), (method, url, response.status_code)
            else:
                assert response.status_code in (302, 405), (method, url, response.status_code)
                if response.status_code == 302:
                    assert response["Location"].startswith("/accounts/login/"), (method, url)


def test_the_admin_asks_for_its_own_login(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/admin/audit/auditevent/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_old_unversioned_api_paths_redirect_to_v1_which_asks_for_credentials(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/patients/?search=x", {"display_name": "A"})
    assert response.status_code == 308 and response["Location"] == "/api/v1/patients/?search=x"
    assert client.post(response["Location"], {"display_name": "A"}).status_code == 401
