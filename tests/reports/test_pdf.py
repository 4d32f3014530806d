"""The PDF trend report, read back as text (poppler's pdftotext, pypdf) and checked against the rows
in the database: who, which range, the baseline, the flags, every session's numbers, the models,
the notices on every page, the page sizes, vector plots, and a first page that renders."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from reports.exports.pdf import report_pdf
from reports.exports.pdf_style import VOICE_COLUMNS
from reports.report import trend_report
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_WARNING
from ser.engine.voice import BY_KEY
from ser.models import EmotionAnalysis
from tests.factories import analysed_session
from tests.reports.voice_data import LIBRARY, VALUES, add_voice, voice_json

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
ROW = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s+(\d+)\s+([a-z]+)\s+(.*)$")


@pytest.fixture
def long_history(patient):  # type: ignore[no-untyped-def]
    # 64 weekly sessions (several pages), every tenth with little speech, made by the test checkpoint,
    # with voice measures around session 1's (wider numbers than usual: the widest cells must fit).
    rng = np.random.default_rng(7)
    sessions = [
        analysed_session(
            patient,
            n,
            scores=rng.dirichlet(np.ones(9)),
            embedding=rng.normal(size=64),
            speech_s=45.0 if n % 10 == 0 else float(rng.uniform(80, 900)),
            with_file=False,
        )
        for n in range(1, 65)
    ]
    typical = np.array(VALUES[1], dtype=float)
    for s in sessions:
        values = typical * rng.uniform(0.6, 1.9, size=typical.size)
        EmotionAnalysis.objects.filter(recording__session=s).update(
            voice=voice_json(
                tuple(None if s.number % 9 == 0 and i > 10 else float(v) for i, v in enumerate(values))
            )
        )
    return sessions


def _words(text: str) -> str:
    return " ".join(text.split())


def _pdftotext(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    # pdftotext separates pages with a form feed.
    return _pdftotext(pdf, tmp_path, "-layout").split("\f")[:-1]


def _table(pdf: bytes, tmp_path: Path) -> dict[int, list[str]]:
    """The sessions table as printed: session number → [date, dominant, the rest of the cells]."""
    rows = {}
    for line in _pdftotext(pdf, tmp_path, "-layout").splitlines():
        m = ROW.match(line)
        if m:
            rows[int(m[2])] = [m[1], m[3], *m[4].split()]
    return rows


def _expected(patient, baseline_n: int = 3) -> dict[int, dict[str, object]]:  # type: ignore[no-untyped-def]
    """Each session's values straight from its EmotionAnalysis row; drift computed here from the
    stored embeddings (the mean of the first `baseline_n` sessions is the baseline)."""
    analyses = list(
        EmotionAnalysis.objects.filter(recording__session__patient=patient)
        .select_related("recording__session")
        .order_by("recording__session__started_at")
    )
    embs = np.array([np.frombuffer(bytes(a.embedding), "<f4") for a in analyses], dtype=np.float64)
    base = embs[:baseline_n].mean(axis=0)
    out = {}
    for a, e in zip(analyses, embs, strict=True):
        session = a.recording.session
        out[session.number] = {
            "date": f"{timezone.localtime(session.started_at):%Y-%m-%d}",
            "dominant": EMOTIONS[int(np.argmax(a.scores))],
            "confidence": a.confidence,
            "scores": list(a.scores),
            "euclidean": float(np.linalg.norm(e - base)),
            "cosine": float(1 - e @ base / (np.linalg.norm(e) * np.linalg.norm(base))),
            "speech_s": a.analysed_s,
        }
    return out


def _printed(cell: str, value: float, decimals: int) -> None:
    # The format exactly; the value to its last printed digit (float32 embeddings may round apart).
    assert re.fullmatch(rf"\d+\.\d{{{decimals}}}" if decimals else r"\d+", cell), cell
    assert abs(float(cell) - value) <= 0.5 * 10**-decimals + 1e-6, (cell, value)


def _check_rows(table: dict[int, list[str]], expected: dict[int, dict[str, object]]) -> None:
    assert sorted(table) == sorted(expected)
    for number, want in expected.items():
        cells = table[number]
        assert cells[0] == want["date"] and cells[1] == want["dominant"], (number, cells)
        _printed(cells[2], want["confidence"], 3)  # type: ignore[arg-type]
        for cell, score in zip(cells[3:12], want["scores"], strict=True):  # type: ignore[call-overload]
            _printed(cell, score, 3)
        _printed(cells[12], want["euclidean"], 3)  # type: ignore[arg-type]
        _printed(cells[13], want["cosine"], 4)  # type: ignore[arg-type]
        _printed(cells[14], want["speech_s"], 0)  # type: ignore[arg-type]


def test_it_prints_who_which_range_the_baseline_flags_and_models(
    patient, history, therapist, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    patient.date_of_birth = date(1984, 3, 9)
    patient.save()
    report = trend_report(patient=patient, now=NOW)
    pdf = report_pdf(report)
    text = _words(_pdftotext(pdf, tmp_path))
    for expected in (
        "Alex Example",
        "MRN-001",
        "1984-03-09",
        therapist.username,
        "all sessions",
        f"{timezone.localtime(NOW):%Y-%m-%d %H:%M}",
        _words(report.baseline_words),
        "test-checkpoint-64d",
        "var/models/test",
        "sha256:0000",
        "fp32",
        DISCLAIMER,
    ):
        assert expected in text, expected
    assert "mean of the first 3 analysed sessions" in text
    assert {f.kind for f in report.flags} == {"rising-distress", "drift", "low-speech"}
    for flag in report.flags:
        assert _words(f"{flag.title}. {flag.detail}") in text
        assert "Sessions concerned: " + ", ".join(map(str, flag.sessions)) in text
    assert "Page 1 of " in text


def test_every_sessions_numbers_are_the_databases(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = _table(report_pdf(trend_report(patient=patient)), tmp_path)
    expected = _expected(patient)
    _check_rows(table, expected)
    assert {n: table[n][1] for n in expected} == {
        a.recording.session.number: a.dominant_emotion
        for a in EmotionAnalysis.objects.select_related("recording__session")
    }
    assert table[1][-2:] == ["both", "baseline"] and table[6][-2:] == ["both", "beyond"]
    assert table[4][-2:] == ["20", "both"]  # speech seconds, whose speech (both speakers); no mark


def test_a_long_report_warns_and_numbers_every_page(patient, long_history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = report_pdf(trend_report(patient=patient))
    pages = _page_texts(pdf, tmp_path)
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    for i, page in enumerate(pages, start=1):
        words = _words(page)
        assert _words(TEST_MODEL_WARNING) in words, i
        assert DISCLAIMER in words and f"Page {i} of {len(pages)}" in words
        assert "Alex Example · Record id MRN-001" in words
    # The table runs over several pages, each with its header row.
    table_pages = [p for p in pages if any(ROW.match(line) for line in p.splitlines())]
    assert len(table_pages) >= 2 and all("Dominant" in p and "Speech s" in p for p in table_pages)
    _check_rows(_table(pdf, tmp_path), _expected(patient))


def test_no_warning_without_a_test_model(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    EmotionAnalysis.objects.update(is_test_model=False, model_id="emotion2vec/emotion2vec_plus_large")
    report = trend_report(patient=patient)
    assert not report.is_test_model
    pages = _page_texts(report_pdf(report), tmp_path)
    text = _words(" ".join(pages))
    assert "random-initialised" not in text and "meaningless" not in text
    assert all(DISCLAIMER in page for page in pages)
    assert "emotion2vec/emotion2vec_plus_large" in text


@pytest.mark.parametrize(("page_size", "points"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_page_sizes_and_the_table_fits_the_page(patient, long_history, tmp_path, page_size, points) -> None:  # type: ignore[no-untyped-def]
    pdf = report_pdf(trend_report(patient=patient), page_size=page_size)
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == points
    # Every word (poppler's bounding boxes) lies inside the 15 mm side margins.
    boxes = _pdftotext(pdf, tmp_path, "-bbox")
    right = [float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)]
    left = [float(x) for x in re.findall(r'xMin="([\d.]+)"', boxes)]
    assert right and max(right) <= points[0] - 42.5 + 0.5 and min(left) >= 42.5 - 0.5


def test_an_unknown_page_size_is_refused(patient, history) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="page size"):
        report_pdf(trend_report(patient=patient), page_size="a5")


def test_the_plots_are_vector_graphics(patient, history) -> None:  # type: ignore[no-untyped-def]
    reader = PdfReader(io.BytesIO(report_pdf(trend_report(patient=patient))))
    curves = 0
    for page in reader.pages:
        assert not page.images  # no image XObjects, no inline images
        contents = page.get_contents()
        assert contents is not None
        curves += len(re.findall(rb"[\d.] c\b", contents.get_data()))
    # matplotlib writes its text and markers as Bézier paths: thousands of curve operators.
    assert curves > 1000
    # The drift plot's band keeps its transparency (matplotlib's `opacity`, which svglib skips).
    alphas = {
        float(state.get("/ca", 1))
        for page in reader.pages
        for state in cast(DictionaryObject, page["/Resources"].get_object()).get("/ExtGState", {}).values()
    }
    assert 0.12 in alphas


def test_a_date_range_keeps_only_its_sessions(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = trend_report(patient=patient, date_from=date(2026, 1, 12), date_to=date(2026, 1, 26))
    pdf = report_pdf(report)
    table = _table(pdf, tmp_path)
    assert sorted(table) == [2, 3, 4]
    expected = _expected(patient)  # drift keeps the patient's baseline (sessions 1–3)
    _check_rows(table, {n: expected[n] for n in (2, 3, 4)})
    assert "sessions from 2026-01-12 to 2026-01-26" in _words(_pdftotext(pdf, tmp_path))


def test_a_long_name_is_shortened_in_the_header(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    patient.display_name = "Alexandra " + "Bartholomew-" * 7 + "Example"
    patient.save()
    first = _page_texts(report_pdf(trend_report(patient=patient), page_size="a4"), tmp_path)[0]
    header = first.splitlines()[0]
    assert "Emotion trend report" in header and "…" in header and "MRN-001" in header
    squeezed = "".join(first.split())  # the body has it in full, wrapped at its hyphens
    assert "".join(patient.display_name.split()) in squeezed


def test_an_empty_report_is_a_valid_pdf_that_says_so(patient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = report_pdf(trend_report(patient=patient), page_size="letter")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = _words(_pdftotext(pdf, tmp_path))
    assert "No analysed sessions in this range" in text
    assert "Page 1 of 1" in text and DISCLAIMER in text and "Alex Example" in text


def test_the_metadata_name_no_patient(patient, history) -> None:  # type: ignore[no-untyped-def]
    meta = PdfReader(io.BytesIO(report_pdf(trend_report(patient=patient)))).metadata
    assert meta is not None and meta.title == "Emotion trend report"
    values = " ".join(str(v) for v in meta.values())
    assert "Alex" not in values and "MRN-001" not in values


def test_the_first_page_renders_to_png(patient, long_history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(trend_report(patient=patient)))
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True
    )
    png = next(tmp_path.glob("page*.png")).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (497, 702)  # A4 (595.3 × 841.9 pt) at 60 dpi, rounded up


VOICE_ROW = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s+(\d+)\s+([\d.—][\d.—HL ]*?)\s*(baseline)?$")


def _voice_table(pdf: bytes, tmp_path: Path) -> dict[int, list[str]]:
    """The voice table as printed: session number → its cells ("2.61", "1.41 L", "—")."""
    rows = {}
    for line in _pdftotext(pdf, tmp_path, "-layout").splitlines():
        m = VOICE_ROW.match(line)
        if m:
            cells: list[str] = []
            for token in m[3].split():
                if token in ("H", "L"):
                    cells[-1] += " " + token
                else:
                    cells.append(token)
            rows[int(m[2])] = cells
    return rows


def test_the_voice_section_prints_each_sessions_measures_marks_and_bands(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    report = trend_report(patient=patient)
    pdf = report_pdf(report)
    table = _voice_table(pdf, tmp_path)
    assert sorted(table) == [1, 2, 3, 4, 5, 6]
    for row in report.rows:
        values = VALUES[row.number]
        want = []
        for key in VOICE_COLUMNS:
            value = None if values is None else values[list(BY_KEY).index(key)]
            mark = {"above": " H", "below": " L"}.get(row.voice_beyond.get(key, ""), "")
            want.append("—" if value is None else f"{value:.{BY_KEY[key].decimals}f}{mark}")
        assert table[row.number] == want, row.number
    assert table[6][3] == "2.61 L" and table[6][5] == "34.6 H" and table[1][0] == "182.4"
    text = _words(_pdftotext(pdf, tmp_path))
    band = report.voice_bands["speech_rate"]
    for expected in (
        "Voice measures",
        "Usual range from the baseline (mean ± 2 SD, at least ± 5% of the mean)",
        f"Speech rate {band.low:.2f}–{band.high:.2f} syll/s",
        f"Computed with Praat's algorithms through parselmouth: {LIBRARY}",
        "not calibrated",
        "(python manage.py voice_recompute fills them in)",  # session 4 has none
        "for review, not a diagnosis",
    ):
        assert expected in text, expected
    voice_flags = [f for f in report.flags if f.kind.startswith("voice-")]
    assert {f.kind for f in voice_flags} >= {"voice-speech_rate", "voice-pause_ratio"}
    for flag in voice_flags:
        assert _words(f"{flag.title}. {flag.detail}") in text


def test_without_voice_measures_it_says_how_to_compute_them(patient, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = _words(_pdftotext(report_pdf(trend_report(patient=patient)), tmp_path))
    assert "Voice measures No voice measures for these sessions" in text
    assert "python manage.py voice_recompute" in text
    assert "Usual range from the baseline" not in text and "Computed with Praat" not in text
    assert not _voice_table(report_pdf(trend_report(patient=patient)), tmp_path)


def test_a_long_voice_table_repeats_its_header_and_fits(patient, long_history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = report_pdf(trend_report(patient=patient))
    table = _voice_table(pdf, tmp_path)
    assert sorted(table) == list(range(1, 65)) and all(
        len(cells) == len(VOICE_COLUMNS) for cells in table.values()
    )
    voice_pages = [
        p for p in _page_texts(pdf, tmp_path) if any(VOICE_ROW.match(line) for line in p.splitlines())
    ]
    assert len(voice_pages) >= 2 and all("F0 median" in p and "Mean pause" in p for p in voice_pages)
    assert table[9][-1] == "—" and table[8][-1] != "—"  # every ninth without voice quality
    first = EmotionAnalysis.objects.get(recording__session=long_history[0]).voice_values
    assert table[1][0] == f"{first['f0_median_hz']:.1f}"
