"""The reports in Simplified Chinese: the dashboard's flags, the PDF's words and emotion names, and
plots cached apart per language (a Chinese page never gets an English drawing)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from reports import charts

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _english_afterwards():  # type: ignore[no-untyped-def]
    # A request in Chinese leaves its language active in this thread: the tests after ours are English.
    yield
    translation.deactivate()


@pytest.mark.django_db
def test_the_dashboard_says_its_flags_in_chinese(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("reports:dashboard", args=[patient.pk]), **ZH).content.decode()
    assert "难过与恐惧的合计占比" in page and "Over the last" not in page  # the rising-distress flag
    assert "会谈：3、4、5、6。" in page and "Flags for review" not in page


@pytest.mark.django_db
def test_the_pdf_report_is_in_chinese_with_the_emotions_chinese_names(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    pdf = web.get(reverse("reports:export", args=[patient.pk, "pdf"]), **ZH).content
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "情绪趋势报告" in text and "中立" in text and "难过" in text  # title, emotion names
    assert "Emotion trend report" not in text
    assert reader.root_object["/Lang"] == "zh-Hans"


def test_a_plots_cache_key_names_its_language() -> None:
    keys = {}
    for code in ("en", "zh-hans"):
        with translation.override(code):
            keys[code] = charts._patient_key("drift", "stamp", ["sad"], "", "wide", "~")
    assert keys["en"] != keys["zh-hans"] and "zh-hans" in keys["zh-hans"]
