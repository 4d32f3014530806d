"""The batch CLI (no database) and the archive import command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions.models import Recording
from tests.audio import conversation

ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("inbox")
    audio, _ = conversation([("left", "It was a hard week at work."), ("right", "What made it hard?")])
    sf.write(folder / "2026-01-05 visit.wav", audio, 16000)
    sf.write(folder / "2026-01-12 visit.flac", audio[::-1].copy(), 16000)
    (folder / "notes.wav").write_text("this is not audio")
    sf.write(folder / "silence.wav", np.zeros((16000 * 3, 2), np.float32), 16000)
    return folder


def test_the_cli_writes_the_three_files_per_input_and_skips_bad_files(
    audio_dir, tmp_path, test_model_dir
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    env = {
        **os.environ,
        "SER_MODEL": str(test_model_dir),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "analyze_audio",
            str(audio_dir),
            "--out",
            str(out),
            "--granularity",
            "frame",
            "--channel",
            "left",
            "--embedding",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    folders = sorted(out.glob("outputs_*"))
    assert len(folders) == 2
    assert all(f.name.startswith("outputs_2") and f.name[8:23].replace("_", "").isdigit() for f in folders)
    for folder in folders:
        doc = json.loads((folder / "result.json").read_text())
        assert {"emotion", "confidence", "scores", "granularity", "timestamp"} <= doc.keys()
        assert len(doc["scores"]) == 9 and doc["granularity"] == "frame" and doc["test_checkpoint"] is True
        assert doc["model_revision"].startswith("sha256:") and len(doc["input"]["sha256"]) == 64
        emb = np.load(folder / "embedding.npy")
        assert emb.ndim == 2 and emb.shape[1] == 64 and emb.shape[0] == doc["frames"]["count"]
        audio, rate = sf.read(folder / "processed_audio.wav")
        assert rate == 16000 and audio.ndim == 1
    # The summary names each input; the two bad ones are skipped with their reason.
    assert "notes.wav" in proc.stdout and "could not be read as audio" in proc.stdout
    assert "silence.wav" in proc.stdout and "No speech was found" in proc.stdout
    assert "2 analysed, 2 skipped" in proc.stdout


@pytest.mark.django_db
def test_the_import_command_creates_sessions_and_queues_them(
    audio_dir, patient, therapist, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    queued: list[str] = []
    monkeypatch.setattr("ser.services.publish", lambda rid: queued.append(rid))
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "import_recordings",
            str(audio_dir),
            "--patient",
            str(patient.pk),
            "--therapist",
            therapist.username,
            "--consent-confirmed",
            "--date-from-name",
        )
    sessions = list(patient.sessions.order_by("number"))
    # Two valid audio files, two sessions, dated from their names; the text file is skipped.
    # (silence.wav is valid audio: it is imported and will end with "no speech found".)
    assert [s.started_at.date().isoformat() for s in sessions[:2]] == ["2026-01-05", "2026-01-12"]
    assert len(sessions) == 3
    assert Recording.objects.filter(session__patient=patient).count() == 3
    assert len(queued) == 3


@pytest.mark.django_db
def test_the_import_command_requires_consent(audio_dir, patient, therapist) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="consent"):
        call_command(
            "import_recordings",
            str(audio_dir),
            "--patient",
            str(patient.pk),
            "--therapist",
            therapist.username,
        )
