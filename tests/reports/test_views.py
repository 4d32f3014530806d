"""The dashboard and its plots: what a clinician sees, which requests they cost, who may see them,
and that a re-analysis never leaves a stale plot behind."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from ser.models import EmotionAnalysis
from tests.factories import analysed_session
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_plots_flags_and_numbers(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("reports:dashboard", args=[patient.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for text in (
        "Emotion trajectory",
        "Drift from baseline",
        "Flags for review",
        "Sad + fearful share rising",
        "beyond this patient",
        "Little speech",
        "decision support, not a diagnosis",
        "test-checkpoint-64d",
        "Test checkpoint",
    ):
        assert text.lower() in html.lower(), text
    for kind in ("trajectory", "drift", "map"):
        svg = web.get(reverse("reports:plot", args=[patient.pk, kind]) + "?variant=test-checkpoint-64d&c=sad")
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.content


def test_the_dashboard_query_count_does_not_grow_with_sessions(
    web, patient, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    for i in range(1, 41):
        analysed_session(
            patient, i, scores=rng.dirichlet(np.ones(9)), embedding=rng.normal(size=64), with_file=False
        )
    # 14 reads (the last two: the export history, sessions whose recordings all failed) plus the
    # audit trail's one insert for this page view.
    with django_assert_max_num_queries(15):
        assert web.get(reverse("reports:dashboard", args=[patient.pk])).status_code == 200


def test_plots_and_baseline_are_404_for_another_therapist(client, other_therapist, patient, history) -> None:  # type: ignore[no-untyped-def]
    client.force_login(other_therapist)
    assert client.get(reverse("reports:plot", args=[patient.pk, "drift"])).status_code == 404
    response = client.post(
        reverse("reports:baseline", args=[patient.pk]), {"baseline_mode": "first_n", "baseline_n": 1}
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.baseline_n == 3


def _svg(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    return response.content


def test_a_reanalysis_is_drawn_at_once_not_served_stale_from_the_cache(web, patient) -> None:  # type: ignore[no-untyped-def]
    # The plot cache is keyed on the analysis's updated_at: update_or_create (a re-analysis of the
    # same recording and variant) must change the key, or the old picture lingers for a day.
    session = analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    analysis = EmotionAnalysis.objects.get(recording__session=session)
    bars = reverse("reports:analysis_plot", args=[analysis.pk, "bars"])
    trajectory = reverse("reports:plot", args=[patient.pk, "trajectory"]) + "?variant=test-checkpoint-64d"
    before = (_svg(web, bars), _svg(web, trajectory))
    sad = [0.01, 0.01, 0.01, 0.01, 0.05, 0.01, 0.88, 0.01, 0.01]
    EmotionAnalysis.objects.update_or_create(
        recording=analysis.recording,
        model_variant=analysis.model_variant,
        defaults={"scores": sad, "dominant_emotion": "sad", "confidence": 0.88},
    )
    after = (_svg(web, bars), _svg(web, trajectory))
    assert after[0] != before[0] and after[1] != before[1]


def test_plots_are_drawn_without_the_cache_when_redis_is_down(web, patient, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    analysis = EmotionAnalysis.objects.get(recording__session=session)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens here
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    assert b"<svg" in _svg(web, reverse("reports:analysis_plot", args=[analysis.pk, "timeline"]))
    assert b"<svg" in _svg(web, reverse("reports:plot", args=[patient.pk, "drift"]))
    assert "plot cache unavailable" in caplog.text


def test_the_session_page_plots_are_404_for_another_therapist_and_for_unknown_kinds(
    web, client, other_therapist, patient
) -> None:  # type: ignore[no-untyped-def]
    session = analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    analysis = EmotionAnalysis.objects.get(recording__session=session)
    assert web.get(reverse("reports:analysis_plot", args=[analysis.pk, "nope"])).status_code == 404
    assert web.get(reverse("reports:plot", args=[patient.pk, "nope"])).status_code == 404
    client.force_login(other_therapist)
    assert client.get(reverse("reports:analysis_plot", args=[analysis.pk, "bars"])).status_code == 404


def test_a_deleted_recordings_drawings_leave_the_cache(
    web, patient, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from reports.charts import _analysis_key
    from sessions.services import recording_delete

    session = analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    analysis = EmotionAnalysis.objects.get(recording__session=session)
    _svg(web, reverse("reports:analysis_plot", args=[analysis.pk, "bars"]))
    key = _analysis_key(analysis, "bars")
    assert cache.get(key) is not None
    with django_capture_on_commit_callbacks(execute=True):
        recording_delete(recording=analysis.recording)
    assert cache.get(key) is None


def test_the_dashboard_exports_a_report_and_shows_it_in_the_history(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    url = reverse("reports:export", args=[patient.pk, "pdf"])
    response = web.get(url, {"date_from": "", "date_to": "", "page_size": "letter"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response["Cache-Control"] == "private, no-store"
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    assert 'id="export-history"' in page and "PDF report (US Letter)" in page
    refused = web.get(url, {"date_from": "2026-05-01", "date_to": "2026-04-01"}, follow=True)
    assert "The end of the range is before its start." in refused.content.decode()


def test_the_dashboard_marks_a_session_whose_recordings_all_failed(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    from ser.models import AnalysisJob

    AnalysisJob.objects.filter(recording__session=history[1]).update(status=AnalysisJob.Status.FAILED)
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    sessions = page[page.index('<ul class="all-sessions">') :]
    marked = [line for line in sessions.split("<li>") if "all recordings failed" in line]
    assert len(marked) == 1 and "Session 2</a>" in marked[0]
    assert 'id="edit-patient"' in page and 'id="archive-patient"' in page
