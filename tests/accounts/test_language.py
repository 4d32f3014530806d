"""The header's language switcher: the choice is kept in the therapist's profile, the next page
speaks it, and choosing English switches back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Profile

pytestmark = pytest.mark.django_db


def test_the_language_switcher_saves_the_choice_and_the_next_page_speaks_it(web, therapist) -> None:  # type: ignore[no-untyped-def]
    patients = reverse("patients:list")
    response = web.post(reverse("accounts:language"), {"language": "zh-hans", "next": patients}, follow=True)
    assert Profile.objects.get(user=therapist).language == "zh-hans"
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == patients
    assert '<html lang="zh-Hans">' in page and "<h1>患者</h1>" in page and "添加患者" in page
    # The profile, not the cookie, decides: without the cookie the page is still in Chinese.
    web.cookies.pop("clinic_language", None)
    assert "添加患者" in web.get(patients, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    response = web.post(reverse("accounts:language"), {"language": "en", "next": patients}, follow=True)
    assert Profile.objects.get(user=therapist).language == "en"
    page = response.content.decode()
    assert "<h1>Patients</h1>" in page and "Add patient" in page and "添加患者" not in page
