"""Shared fixtures: the test checkpoint, personas, clients, a private media root per test."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from ser.engine.checkpoint import write_test_checkpoint

_counter = itertools.count()


@pytest.fixture(scope="session")
def test_model_dir() -> Path:
    """The small random-initialised checkpoint (real FunASR format) that SER_MODEL points at."""
    path = Path(django_settings.SER_MODEL)
    if not path.is_absolute():
        path = Path(django_settings.BASE_DIR) / path
    return write_test_checkpoint(path, size="tiny")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path, test_model_dir):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SER_MODEL = str(test_model_dir)


def _make_user(username: str, **extra: object):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=f"{username}{next(_counter)}", password="correct horse battery", **extra
    )


@pytest.fixture
def therapist(db):  # type: ignore[no-untyped-def]
    # The owning therapist: creates the patients, sessions and recordings under test.
    return _make_user("owner")


@pytest.fixture
def other_therapist(db):  # type: ignore[no-untyped-def]
    # Another therapist of the same clinic: must see none of the owner's records.
    return _make_user("other")


@pytest.fixture
def api(therapist) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(therapist)
    return client


@pytest.fixture
def other_api(other_therapist) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(other_therapist)
    return client


@pytest.fixture
def web(client, therapist):  # type: ignore[no-untyped-def]
    client.force_login(therapist)
    return client


@pytest.fixture
def patient(therapist):  # type: ignore[no-untyped-def]
    from patients.services import patient_create

    return patient_create(owner=therapist, display_name="Alex Example", external_id="MRN-001")


@pytest.fixture
def session(patient):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from sessions.services import session_create

    return session_create(patient=patient, started_at=timezone.now())
