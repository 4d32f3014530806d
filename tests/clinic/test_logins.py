"""Login throttling on the login page and the API token endpoint (django-axes): after 5 wrong
passwords for one username from one address, that pair is locked out for 15 minutes, right password
or not, with a message saying when to retry. Failures, successes and lockouts are logged with who,
when and from where, and never with a password or a patient's name."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/conftest.py's personas
WRONG = "Wrong-Secret-Guess-4711"
ADDRESS = "203.0.113.7"


def _web_login(client, username: str, password: str, ip: str = ADDRESS):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _token(api: APIClient, username: str, password: str, ip: str = ADDRESS):  # type: ignore[no-untyped-def]
    return api.post(reverse("api:token"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get(reverse("patients:list")).status_code == 200


def test_the_limits_are_five_failures_and_15_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)


def test_it_locks_the_web_login_after_repeated_failures_even_for_the_right_password(  # type: ignore[no-untyped-def]
    client, therapist
) -> None:
    statuses = [_web_login(client, therapist.username, WRONG).status_code for _ in range(20)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}
    response = _web_login(client, therapist.username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Login paused" in page and "Too many failed logins" in page
    retry_at = timezone.localtime(timezone.now() + timedelta(minutes=15))
    assert retry_at.strftime("%H:") in page and "in about 15 minutes" in page
    assert int(response["Retry-After"]) > 14 * 60
    assert not _logged_in(client)


def test_it_locks_the_token_endpoint_after_repeated_failures(therapist) -> None:  # type: ignore[no-untyped-def]
    api = APIClient()
    statuses = [_token(api, therapist.username, WRONG).status_code for _ in range(20)]
    assert statuses[:4] == [400] * 4
    assert set(statuses[4:]) == {429}
    response = _token(api, therapist.username, PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert "Too many failed logins" in body["detail"] and "Try again in 15 minutes" in body["detail"]
    assert 14 * 60 < body["retry_after_s"] <= 15 * 60 and response["Retry-After"] == str(
        body["retry_after_s"]
    )
    assert not Token.objects.filter(user=therapist).exists()


def test_failures_on_the_api_count_for_the_web_login_too(client, therapist) -> None:  # type: ignore[no-untyped-def]
    api = APIClient()
    for _ in range(5):
        _token(api, therapist.username, WRONG)
    assert _web_login(client, therapist.username, PASSWORD).status_code == 429


def test_it_lets_the_user_in_again_after_the_cooloff(client, therapist) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _web_login(client, therapist.username, WRONG)
        clock.shift(timedelta(minutes=10))
        assert _web_login(client, therapist.username, PASSWORD).status_code == 429
        # Tries during the lockout do not extend it: 15 minutes from the 5th failure, not from these.
        clock.shift(timedelta(minutes=5, seconds=1))
        response = _web_login(client, therapist.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("patients:list")


def test_a_success_resets_the_failure_count(client, therapist) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        assert _web_login(client, therapist.username, WRONG).status_code == 200
    assert _web_login(client, therapist.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert _web_login(client, therapist.username, WRONG).status_code == 200
    assert _web_login(client, therapist.username, PASSWORD).status_code == 302


def test_it_locks_out_the_username_from_that_address_only(client, therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    for _ in range(5):
        _web_login(client, therapist.username, WRONG)
    assert _web_login(Client(), therapist.username, PASSWORD, ip="198.51.100.20").status_code == 302
    assert _web_login(Client(), other_therapist.username, PASSWORD).status_code == 302


def test_it_logs_failures_lockouts_and_successes_without_secrets_or_patient_names(  # type: ignore[no-untyped-def]
    client, therapist, other_therapist, patient, caplog
) -> None:
    caplog.set_level(logging.INFO)  # every logger: axes' own lines must not leak either
    next_page = reverse("reports:dashboard", args=[patient.pk])
    with caplog.at_level(logging.INFO, logger="clinic.security"):
        client.post(
            reverse("login") + f"?next={next_page}",
            {"username": therapist.username, "password": PASSWORD, "next": next_page},
            REMOTE_ADDR=ADDRESS,
        )
        client.get(next_page)
        client.post(reverse("logout"), REMOTE_ADDR=ADDRESS)
        for _ in range(6):
            _web_login(client, other_therapist.username, WRONG)
        _token(APIClient(), other_therapist.username, WRONG, ip="198.51.100.20")

    security = [r for r in caplog.records if r.name == "clinic.security"]
    lines = [r.getMessage() for r in security]

    def said(event: str, username: str, ip: str) -> bool:
        return any(event in line and repr(username) in line and ip in line for line in lines)

    assert said("login succeeded", therapist.username, ADDRESS)
    assert said("logout", therapist.username, ADDRESS)
    assert said("login failed", other_therapist.username, ADDRESS)
    assert said("locked out", other_therapist.username, ADDRESS)
    assert said("login failed", other_therapist.username, "198.51.100.20")  # the token endpoint
    assert all(r.created for r in security)  # when: every record carries its time
    everything = caplog.text + "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    for secret in (PASSWORD, WRONG, patient.display_name, patient.external_id):
        assert secret not in everything


def test_a_crafted_username_cannot_forge_log_lines(client, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="clinic.security"):
        _web_login(client, "mallory\nlogin succeeded user='admin'", WRONG)
    lines = [r.getMessage() for r in caplog.records if r.name == "clinic.security"]
    assert lines and all("\n" not in line for line in lines)
