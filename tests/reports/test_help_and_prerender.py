"""The help page explains every term the dashboard links to; the worker draws a patient's plots
into the cache after each analysis, so the first look at the dashboard is a cache hit."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reports import charts
from ser.engine.labels import EMOTIONS
from ser.engine.notices import TEST_MODEL_WARNING
from tests.factories import analysed_session
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db


def test_the_help_page_renders_for_a_logged_in_user_and_only_for_one(web, client) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("reports:help"))
    assert page.status_code == 200
    text = page.content.decode()
    for words in (
        "other",
        "unknown",
        "Cosine distance",
        "not a diagnosis",
        "mono recording",
        TEST_MODEL_WARNING,
    ):
        assert words in text, words
    assert f'href="{reverse("reports:help")}"' in text  # linked from the header of every page
    web.logout()
    assert client.get(reverse("reports:help")).status_code == 302


def test_every_term_the_dashboard_links_to_has_its_section_on_the_help_page(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    dashboard = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    help_url = reverse("reports:help")
    anchors = set(re.findall(rf'href="{help_url}#([\w-]+)"', dashboard))
    expected = {
        "drift",
        "cosine",
        "band",
        "baseline",
        "session-map",
        "similar",
        "dominant",
        "test-checkpoint",
    }
    expected |= {f"flag-{kind}" for kind in ("rising-distress", "drift", "low-speech")}
    expected |= {f"emotion-{e}" for e in EMOTIONS}
    assert expected <= anchors
    ids = set(re.findall(r'id="([\w-]+)"', web.get(help_url).content.decode()))
    assert anchors <= ids, anchors - ids


def test_a_saved_analysis_queues_the_pre_rendering_after_commit(
    patient, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    sent: list[tuple[str, tuple[str, ...]]] = []
    monkeypatch.setattr(charts.current_app, "send_task", lambda name, args: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    assert sent == []  # nothing inside the transaction
    for callback in callbacks:
        callback()
    assert ("reports.tasks.plots_prerender", (str(patient.pk),)) in sent
    # The message carries the id only.
    assert all(args == (str(patient.pk),) for name, args in sent if name == charts.PRERENDER_TASK)


def test_pre_rendered_plots_are_served_without_drawing(web, patient, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    assert charts.plots_prerender(patient_id=str(patient.pk)) == 8  # four plots, wide and narrow
    assert charts.plots_prerender(patient_id=str(patient.pk)) == 0  # already there

    def no_drawing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("drawn again")

    monkeypatch.setattr(charts, "_draw", no_drawing)
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    sources = re.findall(r'<img class="plot[^"]*" id="plot-\w+" (?:data-base="[^"]*" )?src="([^"]+)"', page)
    assert len(sources) == 3  # no voice measures here: the voice panel says so instead of a plot
    for src in sources:
        url = src.replace("&amp;", "&")
        assert web.get(url).status_code == 200
        assert web.get(url + "&w=narrow").status_code == 200


def test_the_pre_rendering_task_of_a_deleted_patient_draws_nothing(db) -> None:  # type: ignore[no-untyped-def]
    from reports.tasks import plots_prerender

    plots_prerender("00000000-0000-0000-0000-000000000000")  # no error
