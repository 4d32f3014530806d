"""API tokens expire after API_TOKEN_TTL_SECONDS (30 days) and are revoked at logout, at a password
change and at deactivation; an expired token is refused with a 401 that says what to do, and the
token endpoint hands out a fresh one instead of the dead one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/conftest.py's personas


def _with_token(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def _obtain(user) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = APIClient().post(reverse("api:token"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def test_the_token_lifetime_is_30_days() -> None:
    assert settings.API_TOKEN_TTL_SECONDS == 30 * 24 * 60 * 60


def test_it_issues_a_token_that_says_when_it_expires(therapist) -> None:  # type: ignore[no-untyped-def]
    body = _obtain(therapist)
    token = Token.objects.get(user=therapist)
    assert body["token"] == token.key
    assert datetime.fromisoformat(body["expires_at"]) == token.created + timedelta(days=30)
    assert _with_token(body["token"]).get(reverse("api:patients")).status_code == 200


def test_it_refuses_and_deletes_a_token_older_than_the_ttl(therapist) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        key = _obtain(therapist)["token"]
        clock.shift(timedelta(days=30) - timedelta(seconds=1))
        assert _with_token(key).get(reverse("api:patients")).status_code == 200
        clock.shift(timedelta(seconds=1))
        response = _with_token(key).get(reverse("api:patients"))
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "expired" in detail and reverse("api:token") in detail
    assert not Token.objects.filter(key=key).exists()


def test_the_token_endpoint_replaces_an_expired_token(therapist) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        old = _obtain(therapist)["token"]
        assert _obtain(therapist)["token"] == old  # still valid: the same token again
        clock.shift(timedelta(days=31))
        api = _with_token(old)  # a stale header must not block getting a new token
        response = api.post(reverse("api:token"), {"username": therapist.username, "password": PASSWORD})
        assert response.status_code == 200
        new = response.json()["token"]
        assert new != old
        assert _with_token(new).get(reverse("api:patients")).status_code == 200


def test_logout_revokes_the_users_tokens(client, therapist) -> None:  # type: ignore[no-untyped-def]
    key = _obtain(therapist)["token"]
    client.force_login(therapist)
    client.post(reverse("logout"))
    assert not Token.objects.filter(user=therapist).exists()
    response = _with_token(key).get(reverse("api:patients"))
    assert response.status_code == 401


def test_a_password_change_revokes_the_users_tokens_only(therapist, other_therapist) -> None:  # type: ignore[no-untyped-def]
    key = _obtain(therapist)["token"]
    other_key = _obtain(other_therapist)["token"]
    therapist.set_password("a brand new long passphrase")
    therapist.save()
    assert _with_token(key).get(reverse("api:patients")).status_code == 401
    assert _with_token(other_key).get(reverse("api:patients")).status_code == 200


def test_a_password_change_through_the_admin_form_revokes_tokens(therapist) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.forms import SetPasswordForm

    key = _obtain(therapist)["token"]
    form = SetPasswordForm(
        therapist, {"new_password1": "another long passphrase", "new_password2": "another long passphrase"}
    )
    assert form.is_valid(), form.errors
    form.save()
    assert not Token.objects.filter(key=key).exists()


@pytest.mark.parametrize("change", ["unusable password", "deactivated"])
def test_locking_an_account_revokes_its_tokens(therapist, change) -> None:  # type: ignore[no-untyped-def]
    key = _obtain(therapist)["token"]
    if change == "deactivated":
        therapist.is_active = False
    else:
        therapist.set_unusable_password()
    therapist.save()
    assert not Token.objects.filter(key=key).exists()


def test_other_saves_of_the_user_keep_the_token(therapist) -> None:  # type: ignore[no-untyped-def]
    key = _obtain(therapist)["token"]
    therapist.refresh_from_db()
    therapist.first_name = "Robin"
    therapist.save()
    therapist.last_login = timezone.now()
    therapist.save(update_fields=["last_login"])
    assert _with_token(key).get(reverse("api:patients")).status_code == 200
