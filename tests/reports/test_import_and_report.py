"""manage.py import_and_report: import a folder, wait for a real Celery worker's analyses, write
the CSV (the same columns as examples/upload_folder.py)."""

from __future__ import annotations

import csv
import importlib.util
import io
import random
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from ser.models import EmotionAnalysis
from sessions.models import TherapySession
from tests.audio import wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _script_columns() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "upload_folder", Path(settings.BASE_DIR) / "examples" / "upload_folder.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CSV_COLUMNS)


def test_it_imports_waits_for_a_real_worker_and_writes_the_csv(worker, therapist, patient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc, log = worker
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "2026-03-01-visit.wav").write_bytes(wav_bytes(3.0, seed=1))
    # A .wav that is not audio (fixed bytes: a few random ones happen to probe as a trackless file).
    (folder / "2026-03-08-visit.wav").write_bytes(random.Random(0).randbytes(4000))
    (folder / "2026-03-15-visit.wav").write_bytes(wav_bytes(2.5, seed=2))
    out, stdout = tmp_path / "results.csv", io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command(
            "import_and_report",
            str(folder),
            *("--patient", str(patient.pk), "--therapist", therapist.username),
            *("--consent-confirmed", "--date-from-name", "--csv", str(out)),
            *("--poll", "0.5", "--timeout", "240"),
            stdout=stdout,
        )
    # Not every file was analysed (one refused): exit status 1, and the CSV has a row for each.
    assert refused.value.returncode == 1 and "1 of 3 files not analysed" in str(refused.value)

    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == _script_columns()
        rows = {r["file"]: r for r in reader}
    assert list(rows) == ["2026-03-01-visit.wav", "2026-03-08-visit.wav", "2026-03-15-visit.wav"]
    for name, day in (("2026-03-01-visit.wav", 1), ("2026-03-15-visit.wav", 15)):
        row = rows[name]
        assert row["status"] == "done", (row, log.read_text(errors="replace")[-3000:])
        analysis = EmotionAnalysis.objects.get(recording_id=row["recording_id"])
        assert [row[f"score_{e}"] for e in analysis.score_map] == [f"{s:.4f}" for s in analysis.scores]
        assert sum(float(row[f"score_{e}"]) for e in analysis.score_map) == pytest.approx(1.0, abs=1e-3)
        assert row["confidence"] == f"{analysis.confidence:.4f}" and row["is_test_model"] == "true"
        assert row["input_sha256"] == analysis.input_sha256 and row["error"] == ""
        session = TherapySession.objects.get(pk=row["session_id"])
        assert session.started_at.date() == date(2026, 3, day) and row["session_number"] == str(
            session.number
        )
    bad = rows["2026-03-08-visit.wav"]
    assert bad["status"] == "refused" and "could not be read as audio" in bad["error"]
    assert bad["session_id"] == bad["recording_id"] == ""
    assert TherapySession.objects.filter(patient=patient).count() == 2
    print(stdout.getvalue())  # shown with -rP
    assert "2 done, 1 refused. Results:" in stdout.getvalue()
