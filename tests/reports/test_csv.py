"""The CSV trend report: one row per analysed session, the documented columns, numbers equal to the
database's at a fixed precision, UTF-8 that spreadsheets read, formulas never run."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from reports.exports.table import HEADER, report_csv
from reports.report import trend_report
from ser.engine.labels import EMOTIONS
from ser.engine.voice import MEASURE_KEYS, MEASURES
from ser.models import EmotionAnalysis
from tests.reports.voice_data import LIBRARY, VALUES, add_voice

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


def test_the_voice_columns_follow_the_drift_columns_one_per_measure(patient, history) -> None:  # type: ignore[no-untyped-def]
    voice = [f"voice_{k}" for k in MEASURE_KEYS]
    start = HEADER.index("beyond_band") + 1
    assert HEADER[start : start + len(voice) + 1] == [*voice, "voice_beyond_band"]
    assert HEADER.index("voice_beyond_band") < HEADER.index("model_id") < HEADER.index("voice_library")
    assert HEADER[-4:] == ["test_checkpoint", "notice", "dominant_emotion_display", "restriction_display"]


def test_the_voice_measures_are_the_databases_at_each_measures_precision(patient, history) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    report = trend_report(patient=patient)
    rows = _rows(report_csv(report))
    for row in rows:
        values = VALUES[int(row["session_number"])]
        for m, value in zip(MEASURES, values or [None] * len(MEASURES), strict=True):
            assert row[f"voice_{m.key}"] == ("" if value is None else f"{value:.{m.decimals}f}"), m.key
    by_number = {int(r["session_number"]): r for r in rows}
    assert by_number[1]["voice_f0_median_hz"] == "182.4" and by_number[1]["voice_f0_sd_st"] == "2.61"
    assert by_number[6]["voice_pause_ratio"] == "34.6" and by_number[6]["voice_hnr_db"] == ""
    # Session 4 was analysed before voice measures existed: every voice cell empty, no library.
    assert all(by_number[4][f"voice_{k}"] == "" for k in MEASURE_KEYS) and by_number[4]["voice_library"] == ""
    assert by_number[1]["voice_library"] == LIBRARY
    # Slower speech with longer pauses: beyond the band, said per key; baseline sessions never are.
    beyond = by_number[6]["voice_beyond_band"].split()
    assert {"speech_rate:below", "pause_ratio:above", "f0_sd_st:below"} <= set(beyond)
    assert beyond == [
        f"{k}:{report.rows[-1].voice_beyond[k]}" for k in MEASURE_KEYS if k in report.rows[-1].voice_beyond
    ]
    assert all(by_number[n]["voice_beyond_band"] == "" for n in (1, 2, 3, 4))


def test_the_readme_lists_every_column() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("- **CSV**") : readme.index("- **FHIR R4 Bundle**")]
    # The table's first column, e.g. "`model_id`, `model_revision`" or "`score_angry` … `score_unknown`".
    names = [re.findall(r"`([a-z0-9_]+)`", line[4:].split(" | ")[0]) for line in section.splitlines()]
    documented = [n for row in names for n in row]
    scores = [f"score_{e}" for e in EMOTIONS]
    assert [n for n in HEADER if n not in scores[1:-1]] == documented
