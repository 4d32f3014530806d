"""Whose speech each session rests on (mix, channel, voice, or mixed recordings) and drift compared
only between sessions restricted the way the baseline is: the trend, the dashboard, the drift
plot, CSV, PDF cells, FHIR and the API — from stored rows, no audio."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from reports import plots
from reports.exports.fhir import report_bundle
from reports.exports.pdf import session_cells
from reports.exports.pdf_style import WORDS
from reports.exports.table import report_csv
from reports.report import trend_report
from reports.trends import patient_trend
from ser.models import EmotionAnalysis
from sessions.models import Recording
from tests.factories import AnalysisFactory, JobFactory, RecordingFactory
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db


def _restrict(session, channel: str, channels: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Re-mark a session's analyses as made with `channel` on a recording of `channels` channels."""
    Recording.objects.filter(session=session).update(channels=channels, channel=channel)
    speakers = {"named": True} if channel == "voice" else {}
    EmotionAnalysis.objects.filter(recording__session=session).update(channel=channel, speakers=speakers)


def _add_recording(session, channel: str, channels: int = 1) -> None:  # type: ignore[no-untyped-def]
    recording = RecordingFactory(session=session, channels=channels, channel=channel, content=b"second")
    JobFactory(recording=recording)
    speakers = {"named": True} if channel == "voice" else {}
    emb = np.asarray(_emb(1.0), "<f4")
    AnalysisFactory(
        recording=recording, channel=channel, speakers=speakers, scores=NEUTRAL, embedding=emb.tobytes()
    )


def test_it_states_each_sessions_restriction_in_words(patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[1], "left", channels=1)  # one channel: both speakers whatever the choice
    _restrict(history[3], "right", channels=2)
    _restrict(history[4], "voice")
    _add_recording(history[5], "left", channels=2)  # session 6: mix + channel recordings
    trend = patient_trend(patient=patient)
    assert trend.restrictions == ["mix", "mix", "mix", "channel", "voice", "mixed"]
    words = [r["restriction_words"] for r in trend.rows()]
    assert words == ["Both speakers"] * 3 + [
        "Patient's channel",
        "Patient only (voice)",
        "Mixed (recordings differ)",
    ]
    assert list(trend.comparable) == [True, True, True, False, False, False]
    assert trend.baseline_restriction == "mix"
    assert trend.restriction_note == (
        "Sessions 4, 5, 6 were restricted differently from the baseline (the patient's channel, "
        "patient only by voice, recordings restricted in different ways vs both speakers): their drift "
        "is not compared."
    )


def test_the_drift_flag_and_band_ignore_a_session_restricted_differently(patient, history) -> None:  # type: ignore[no-untyped-def]
    before = patient_trend(patient=patient)
    assert "drift" in {f.kind for f in before.flags} and before.rows()[5]["beyond_band"]
    _restrict(history[5], "voice")
    trend = patient_trend(patient=patient)
    assert "drift" not in {f.kind for f in trend.flags}
    np.testing.assert_allclose(trend.euclidean, before.euclidean)  # still computed, still shown
    assert trend.band == before.band
    row = trend.rows()[5]
    assert (row["restriction"], row["drift_comparable"], row["beyond_band"]) == ("voice", False, False)
    assert trend.restriction_note == (
        "Session 6 was restricted differently from the baseline (patient only by voice vs both speakers): "
        "its drift is not compared."
    )
    # A date range keeps the restrictions and names only the sessions in it.
    ranged = trend.within(timezone.localdate(history[4].started_at), None)
    assert ranged.restrictions == ["mix", "voice"] and list(ranged.comparable) == [True, False]
    assert ranged.restriction_note.startswith("Session 6 was restricted differently")
    assert (
        ranged.within(None, timezone.localdate(history[4].started_at + timedelta(days=1))).restriction_note
        == ""
    )


def test_a_baseline_that_mixes_restrictions_compares_no_session_and_says_so(patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[1], "left", channels=2)
    trend = patient_trend(patient=patient)
    assert trend.baseline_restriction == "mixed" and not trend.comparable.any()
    assert trend.band is None and "restricted differently" in trend.baseline_note
    assert "drift" not in {f.kind for f in trend.flags}
    assert trend.restriction_note == (
        "The baseline sessions were restricted differently (sessions 1, 3: both speakers; session 2: the "
        "patient's channel), so no session's drift is compared with it. Choose baseline sessions "
        "restricted the same way."
    )


def test_the_drift_plot_draws_sessions_restricted_differently_hollow(patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[5], "voice")
    trend = patient_trend(patient=patient)
    fig = plots.drift_figure(
        trend.dates,
        trend.euclidean,
        trend.cosine,
        band=trend.band,
        baseline=list(trend.baseline),
        comparable=list(trend.comparable),
    )
    legend = fig.axes[0].get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert "restricted differently from baseline" in labels and "beyond the band" in labels
    beyond = next(c for c in fig.axes[0].collections if c.get_label() == "beyond the band")
    assert len(np.asarray(beyond.get_offsets())) == 0  # session 6 is above the band, but not compared
    hollow = next(
        c for c in fig.axes[0].collections if c.get_label() == "restricted differently from baseline"
    )
    assert len(np.asarray(hollow.get_offsets())) == 1
    assert tuple(np.asarray(hollow.get_facecolor())[0]) == (1.0, 1.0, 1.0, 1.0)


def test_the_dashboard_says_whose_speech_and_which_drift_is_not_compared(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[5], "voice")
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    assert 'id="restriction-note"' in page
    assert (
        "Session 6 was restricted differently from the baseline (patient only by voice vs both speakers)"
        in page
    )
    assert '<strong id="baseline-restriction">Both speakers</strong>' in page
    assert page.count('<td class="restriction mix">Both speakers</td>') == 5
    assert page.count('<td class="restriction voice">Patient only (voice)</td>') == 1
    assert page.count("drift not compared</span>") == 1
    help_page = web.get(reverse("reports:help")).content.decode()
    assert 'id="restriction"' in help_page and "restricted the way the" in help_page


def test_the_exports_carry_the_restriction_and_comparability(patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[3], "right", channels=2)
    report = trend_report(patient=patient)
    rows = list(csv.DictReader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert [r["restriction"] for r in rows] == ["mix", "mix", "mix", "channel", "mix", "mix"]
    assert [r["drift_comparable"] for r in rows] == ["1", "1", "1", "0", "1", "1"]
    words = {k: str(v) for k, v in WORDS.items()}
    cells = session_cells(report, words)
    at = cells[0].index(words["col_restriction"])
    assert [c[at] for c in cells[1:4]] == ["both", "both", "both"] and cells[4][at] == "channel"
    assert cells[4][-1] == "not compared" and cells[1][-1] == "baseline"
    assert "Session 4 was restricted differently" in report.baseline_words
    bundle = report_bundle(report, pdf=b"%PDF-1.7\n%%EOF\n")
    resources: list[Any] = [e.resource for e in bundle.entry or []]
    observations = [r for r in resources if r.get_resource_type() == "Observation"]
    by_start = {o.effectiveDateTime: o for o in observations}
    four = by_start[history[3].started_at]
    (kind,) = [c for c in four.component if c.code.coding[0].code == "speech-restriction"]
    assert kind.valueCodeableConcept.coding[0].code == "restriction-channel"
    (drift,) = [c for c in four.component if c.code.coding[0].code == "euclidean-drift"]
    assert drift.referenceRange is None and drift.interpretation is None
    assert "its drift is not compared" in four.note[0].text


def test_the_trend_api_types_restriction_and_comparability(api, patient, history) -> None:  # type: ignore[no-untyped-def]
    _restrict(history[5], "voice")
    body = api.get(reverse("api:trend", args=[patient.pk])).json()
    assert [s["restriction"] for s in body["sessions"]] == ["mix"] * 5 + ["voice"]
    assert [s["drift_comparable"] for s in body["sessions"]] == [True] * 5 + [False]
    assert body["sessions"][5]["beyond_band"] is False
    assert body["baseline_restriction"] == "mix" and body["restriction_note"].startswith("Session 6 was")
