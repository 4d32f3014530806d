"""Times are stored in UTC and shown (and read from forms) in the user's own time zone, else the
clinic's (CLINIC_TIME_ZONE), which every page names; the "Your time zone" page sets it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import cast

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from accounts.models import Profile
from accounts.services import profile_time_zone_set
from sessions.models import TherapySession
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_it_shows_a_utc_time_in_the_users_zone_and_names_it(web, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    profile_time_zone_set(user=therapist, time_zone="Europe/Berlin")
    session = cast(
        TherapySession,
        SessionFactory(patient=patient, number=1, started_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)),
    )
    listing = web.get(reverse("patients:list")).content.decode()
    assert "2026-03-02 00:30" in listing and "Times in Europe/Berlin" in listing
    edit = web.get(reverse("sessions:edit", args=[session.pk])).content.decode()
    assert 'value="2026-03-02T00:30"' in edit and "In Europe/Berlin time." in edit
    confirm = web.get(reverse("sessions:delete", args=[session.pk])).content.decode()
    assert "2026-03-02 00:30 Europe/Berlin" in confirm


def test_it_reads_an_entered_time_in_the_users_zone_and_stores_utc(web, therapist, patient) -> None:  # type: ignore[no-untyped-def]
    profile_time_zone_set(user=therapist, time_zone="America/New_York")
    response = web.post(reverse("sessions:create", args=[patient.pk]), {"started_at": "2026-03-02T10:00"})
    assert response.status_code == 302
    session = patient.sessions.get()
    assert session.started_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_it_uses_the_clinics_zone_for_a_user_without_one(web, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TIME_ZONE = "Asia/Tokyo"
    page = web.get(reverse("patients:list")).content.decode()
    assert "Times in Asia/Tokyo" in page


def test_it_sets_and_clears_the_zone_on_the_time_zone_page(web, therapist, settings) -> None:  # type: ignore[no-untyped-def]
    url = reverse("accounts:time_zone")
    page = web.get(url).content.decode()
    assert "The clinic&#x27;s time zone (UTC)" in page and '<option value="Europe/London">' in page
    response = web.post(url, {"time_zone": "Europe/London"}, follow=True)
    assert Profile.objects.get(user=therapist).time_zone == "Europe/London"
    text = response.content.decode()
    assert "Times are now shown in Europe/London." in text and "Times in Europe/London" in text

    refused = web.post(url, {"time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 200 and "Mars/Olympus_Mons" in refused.content.decode()
    assert Profile.objects.get(user=therapist).time_zone == "Europe/London"

    web.post(url, {"time_zone": ""})
    assert Profile.objects.get(user=therapist).time_zone == ""
    assert "Times in UTC" in web.get(url).content.decode()


def test_the_service_refuses_a_name_that_is_not_a_zone(therapist) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        profile_time_zone_set(user=therapist, time_zone="Europe/Atlantis")
    assert "not a time zone name" in str(err.value)


def _settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'clinic.settings'); "
        "django.setup(); from django.conf import settings as s; print(s.TIME_ZONE, s.USE_TZ)"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("TIME_ZONE", "CLINIC_TIME_ZONE")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={**environment, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_clinic_time_zone_sets_djangos_time_zone_and_a_wrong_name_stops_start_up() -> None:
    ok = _settings_with(CLINIC_TIME_ZONE="Europe/Lisbon")
    assert ok.stdout.strip().splitlines()[-1] == "Europe/Lisbon True", ok.stderr
    bad = _settings_with(CLINIC_TIME_ZONE="Europe/Nowhere")
    assert bad.returncode != 0 and "CLINIC_TIME_ZONE='Europe/Nowhere' is not a time zone name" in bad.stderr
