"""Sessions end: after 30 idle minutes, 12 hours after login however busy, at logout (the old cookie
is dead), and for other devices at a password change. Nothing sent to a logged-in user may be
cached, so Back after logout cannot show a patient's page again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.security import LOGIN_AT_SESSION_KEY

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/conftest.py's personas


def _is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_logs_out_after_30_idle_minutes(client, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    dashboard = reverse("reports:dashboard", args=[patient.pk])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(therapist)
        clock.shift(timedelta(minutes=29))
        assert client.get(dashboard).status_code == 200  # activity renews the idle timer...
        clock.shift(timedelta(minutes=29))
        assert client.get(dashboard).status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))  # ...30 quiet minutes end it
        assert _is_login_redirect(client.get(dashboard))


def test_it_ends_a_session_polled_all_day_12_hours_after_login(client, therapist, session) -> None:  # type: ignore[no-untyped-def]
    page = reverse("ser:session", args=[session.pk])  # the page that polls analysis progress
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(therapist)
        polled = timedelta(0)
        while polled < timedelta(hours=12) - timedelta(minutes=10):
            clock.shift(timedelta(minutes=10))  # well inside the idle limit
            polled += timedelta(minutes=10)
            assert client.get(page).status_code == 200, polled
        clock.shift(timedelta(minutes=10))  # exactly 12 h after login
        response = client.get(page)
        assert _is_login_redirect(response) and "next=" in response["Location"]
        login_page = client.get(response["Location"])
        assert "reached its 12-hour limit" in login_page.content.decode()
        assert _is_login_redirect(client.get(page))  # the session itself is gone, not just refused


def test_it_answers_401_to_an_api_call_on_a_session_older_than_12_hours(  # type: ignore[no-untyped-def]
    client, therapist, session, settings
) -> None:
    settings.SESSION_COOKIE_AGE = 24 * 60 * 60  # isolate the absolute limit from the idle one
    url = reverse("api:session", args=[session.pk])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(therapist)
        clock.shift(timedelta(hours=11, minutes=59))
        assert client.get(url).status_code == 200
        clock.shift(timedelta(minutes=1))
        response = client.get(url)
    assert response.status_code == 401
    assert "12-hour limit" in response.json()["detail"]


def test_it_ends_a_session_that_carries_no_login_time(client, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    client.force_login(therapist)
    store = client.session
    del store[LOGIN_AT_SESSION_KEY]  # a session not made by django.contrib.auth.login
    store.save()
    assert _is_login_redirect(client.get(reverse("reports:dashboard", args=[patient.pk])))


def test_it_gives_a_new_session_key_at_login_and_rejects_the_old_cookie_after_logout(  # type: ignore[no-untyped-def]
    client, therapist, patient
) -> None:
    dashboard = reverse("reports:dashboard", args=[patient.pk])
    store = client.session
    store["seen"] = True  # an anonymous session before login
    store.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(reverse("login"), {"username": therapist.username, "password": PASSWORD})
    assert response.status_code == 302
    logged_in = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert logged_in != before
    assert client.get(dashboard).status_code == 200

    assert client.post(reverse("logout")).status_code == 302
    assert _is_login_redirect(client.get(dashboard))
    client.cookies[settings.SESSION_COOKIE_NAME] = logged_in  # replay the captured cookie
    assert _is_login_redirect(client.get(dashboard))


def test_it_ends_other_sessions_when_the_password_changes(client, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    dashboard = reverse("reports:dashboard", args=[patient.pk])
    laptop, workstation = client, Client()
    laptop.force_login(therapist)
    workstation.force_login(therapist)
    assert workstation.get(dashboard).status_code == 200
    therapist.set_password("a brand new long passphrase")
    therapist.save()
    assert _is_login_redirect(workstation.get(dashboard))
    assert _is_login_redirect(laptop.get(dashboard))


def _no_store(response) -> bool:  # type: ignore[no-untyped-def]
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and "max-age=3600" not in directives and response["Pragma"] == "no-cache"


def test_it_forbids_caching_of_pages_plots_and_api_answers(web, therapist, patient, session) -> None:  # type: ignore[no-untyped-def]
    api = APIClient()
    api.force_login(therapist)
    responses = {
        "dashboard": web.get(reverse("reports:dashboard", args=[patient.pk])),
        "session page": web.get(reverse("ser:session", args=[session.pk])),
        "plot": web.get(reverse("reports:plot", args=[patient.pk, "trajectory"])),
        "patient list": web.get(reverse("patients:list")),
        "api detail": api.get(reverse("api:session", args=[session.pk])),
        "api patient": api.get(reverse("api:patient", args=[patient.pk])),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert _no_store(response), (name, response.get("Cache-Control"))


def test_back_after_logout_does_not_show_the_dashboard(web, patient) -> None:  # type: ignore[no-untyped-def]
    dashboard = reverse("reports:dashboard", args=[patient.pk])
    seen = web.get(dashboard)
    # The browser was told not to keep the page, so Back must ask the server again...
    assert seen.status_code == 200 and _no_store(seen)
    web.post(reverse("logout"))
    # ...which now sends the login page, and nothing about the patient.
    again = web.get(dashboard, follow=True)
    assert again.redirect_chain and again.redirect_chain[0][0].startswith(reverse("login"))
    assert patient.display_name not in again.content.decode()
