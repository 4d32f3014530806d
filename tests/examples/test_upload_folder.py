"""examples/upload_folder.py, run as a user runs it: a subprocess against the live app (pytest-
django's live server, in this process, on the test database) and a real Celery worker process."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from django.conf import settings

from ser.models import EmotionAnalysis
from sessions.models import TherapySession
from tests.audio import wav_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SCRIPT = Path(settings.BASE_DIR) / "examples" / "upload_folder.py"
EMOTIONS = ["angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown"]
PASSWORD = "correct horse battery"  # tests/conftest.py gives every persona this one
FEB_14 = datetime(2026, 2, 14, 9, 30, tzinfo=UTC)


def _token(url: str, user) -> str:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{url}/api/v1/auth/token/", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def _run(url: str, token: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--url", url, *args],
        env={**os.environ, "CLINIC_API_TOKEN": token},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two short recordings (one dated in its name, one by its file time), a .wav that is not
    audio between them, and a note that is not a recording at all."""
    d = tmp_path / "recordings"
    d.mkdir()
    (d / "2026-03-01-visit.wav").write_bytes(wav_bytes(3.0, seed=1))
    (d / "broken.wav").write_bytes(
        random.Random(0).randbytes(4000)
    )  # fixed: some bytes probe as "no audio track"
    (d / "visit-b.wav").write_bytes(wav_bytes(2.5, seed=2))
    os.utime(d / "visit-b.wav", (FEB_14.timestamp(), FEB_14.timestamp()))
    (d / "notes.txt").write_text("not a recording")
    return d


def test_it_uploads_a_folder_waits_for_the_analyses_and_writes_the_csv(
    live_server, worker, therapist, patient, folder, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    proc, log = worker
    out = tmp_path / "results.csv"
    args = ["--patient", str(patient.pk), "--consent-confirmed", "--date-from-name", "--csv", str(out)]
    token = _token(live_server.url, therapist)
    run = _run(live_server.url, token, *args, *("--poll", "0.5", "--timeout", "240"), str(folder))
    console = run.stdout + run.stderr
    print(console)  # shown with -rP: the run as a user sees it
    assert run.returncode == 1, f"{console}\n{log.read_text(errors='replace')[-3000:]}"

    rows = {r["file"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert list(rows) == ["2026-03-01-visit.wav", "broken.wav", "visit-b.wav"], console
    for name in ("2026-03-01-visit.wav", "visit-b.wav"):
        row = rows[name]
        assert row["status"] == "done" and row["error"] == "", (row, log.read_text(errors="replace")[-3000:])
        analysis = EmotionAnalysis.objects.get(recording_id=row["recording_id"])
        scores = [float(row[f"score_{e}"]) for e in EMOTIONS]
        assert sum(scores) == pytest.approx(1.0, abs=1e-3)
        assert [row[f"score_{e}"] for e in EMOTIONS] == [f"{s:.4f}" for s in analysis.scores]
        assert row["confidence"] == f"{analysis.confidence:.4f}"
        assert row["dominant_emotion"] == analysis.dominant_emotion
        assert row["analysed_s"] == f"{analysis.analysed_s:.4f}"
        assert row["input_sha256"] == analysis.input_sha256 == analysis.recording.sha256
        assert row["model_revision"] == analysis.model_revision and row["is_test_model"] == "true"
        assert row["session_id"] == str(analysis.recording.session_id)

    # The dated file's session has its date; the other is dated by the file's time.
    dated = TherapySession.objects.get(pk=rows["2026-03-01-visit.wav"]["session_id"])
    assert dated.started_at.date() == date(2026, 3, 1) and dated.number == 1
    assert TherapySession.objects.get(pk=rows["visit-b.wav"]["session_id"]).started_at == FEB_14

    # The refused file: the server's words in its row and on the console, and no session kept.
    refused = rows["broken.wav"]
    assert refused["status"] == "refused" and "could not be read as audio" in refused["error"], refused
    assert refused["session_id"] == refused["recording_id"] == ""
    assert TherapySession.objects.filter(patient=patient).count() == 2
    assert "[2/3] broken.wav: refused: " in run.stdout and "could not be read as audio" in run.stdout
    assert "skipped notes.txt: not an audio file (.txt)" in run.stdout
    assert "2 done, 1 refused. Results:" in run.stdout


def test_it_stops_with_exit_status_2_on_a_refused_token(live_server, patient, folder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    token = "0" * 40
    out = tmp_path / "results.csv"
    args = ["--patient", str(patient.pk), "--consent-confirmed", "--csv", str(out)]
    run = _run(live_server.url, token, *args, str(folder))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "The server refused the token" in run.stderr and "/api/v1/auth/token/" in run.stderr
    assert token not in run.stdout + run.stderr
    assert not out.exists() and not TherapySession.objects.exists()


def test_it_waits_when_the_server_asks_it_to_slow_down(
    live_server, therapist, patient, folder, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # No worker: the upload is what is tested; the analysis is still queued when --timeout ends.
    (folder / "broken.wav").unlink()
    (folder / "visit-b.wav").unlink()
    token = _token(live_server.url, therapist)
    monkeypatch.setattr("clinic.throttling.ClinicUserThrottle.rate", "2/s", raising=False)
    out = tmp_path / "results.csv"
    args = ["--patient", str(patient.pk), "--consent-confirmed", "--csv", str(out)]
    run = _run(live_server.url, token, *args, *("--poll", "0.2", "--timeout", "3"), str(folder))
    assert "the server asks to slow down" in run.stdout, run.stdout + run.stderr
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["status"] == "pending" and "--timeout of 3 s ran out" in row["error"]
    assert run.returncode == 1
    assert TherapySession.objects.filter(patient=patient).count() == 1
