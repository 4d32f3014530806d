"""The CSV trend report: one row per analysed session, the documented columns, numbers equal to the
database's at a fixed precision, UTF-8 that spreadsheets read, formulas never run."""

from __future__ import annotations

import csv
import io

import pytest

from reports.exports.table import HEADER, report_csv
from reports.report import trend_report
from ser.engine.labels import EMOTIONS
from ser.models import EmotionAnalysis

pytestmark = pytest.mark.django_db


def _rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text)))


def test_every_analysed_session_is_a_row_with_the_databases_numbers(patient, history) -> None:  # type: ignore[no-untyped-def]
    report = trend_report(patient=patient)
    content = report_csv(report)
    assert content.decode("utf-8-sig").splitlines()[0].split(",") == HEADER
    rows = _rows(content)
    assert [int(r["session_number"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    for row, session in zip(rows, history, strict=True):
        analysis = EmotionAnalysis.objects.get(recording__session=session)
        assert row["session_id"] == str(session.pk)
        for emotion, value in zip(EMOTIONS, analysis.scores, strict=True):
            assert row[f"score_{emotion}"] == f"{value:.4f}"
        assert row["dominant_emotion"] == analysis.dominant_emotion
        assert row["confidence"] == f"{max(analysis.scores):.4f}"
        assert row["speech_seconds"] == f"{analysis.analysed_s:.1f}"
        assert row["model_revision"] == analysis.model_revision
        assert row["test_checkpoint"] == ("1" if analysis.is_test_model else "0")
    for row, euclid, cosine in zip(rows, report.trend.euclidean, report.trend.cosine, strict=True):
        assert (row["euclidean_drift"], row["cosine_drift"]) == (f"{euclid:.4f}", f"{cosine:.6f}")
    assert [r["is_baseline"] for r in rows] == ["1", "1", "1", "0", "0", "0"]
    assert rows[-1]["beyond_band"] == "1" and rows[0]["beyond_band"] == "0"
    assert all("not a diagnosis" in r["notice"] for r in rows)


def test_a_date_range_keeps_only_its_sessions(patient, history) -> None:  # type: ignore[no-untyped-def]
    day = history[3].started_at.date()
    rows = _rows(report_csv(trend_report(patient=patient, date_from=day, date_to=day)))
    assert [r["session_number"] for r in rows] == ["4"]


def test_text_a_spreadsheet_would_run_is_quoted(patient, history) -> None:  # type: ignore[no-untyped-def]
    EmotionAnalysis.objects.filter(recording__session=history[0]).update(model_id="=HYPERLINK(evil)")
    rows = _rows(report_csv(trend_report(patient=patient)))
    assert rows[0]["model_id"] == "'=HYPERLINK(evil)"


def test_no_analysed_sessions_is_a_header_only(patient) -> None:  # type: ignore[no-untyped-def]
    assert _rows(report_csv(trend_report(patient=patient))) == []
