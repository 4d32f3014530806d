"""`manage.py find_orphan_files`: stored files no row claims are reported (path, size, age), rows
whose file is gone are reported as missing, and --delete removes only orphans past the grace
period. The tests plant and age files on disk."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command

from ser import services as ser_services
from ser.models import EmotionAnalysis
from sessions import services as session_services
from sessions.models import Recording

pytestmark = pytest.mark.django_db


def stored_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def plant(settings, name: str, content: bytes = b"abc", *, age_s: float = 0) -> Path:  # type: ignore[no-untyped-def]
    """A file in storage that no row refers to, last modified `age_s` seconds ago."""
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("find_orphan_files", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def analysed(upload, fresh_model, settings) -> Recording:  # type: ignore[no-untyped-def]
    """An analysed frame-granularity recording: its audio and five analysis files on disk."""
    recording = upload(granularity="frame")
    assert ser_services.analysis_run(recording_id=str(recording.pk)) is not None
    assert len(stored_files(settings)) == 6
    return recording


def test_it_reports_nothing_when_every_file_is_claimed(analysed) -> None:  # type: ignore[no-untyped-def]
    out = run()
    assert "6 stored file(s) checked; 0 orphan(s), 0 B; 0 missing." in out
    assert "orphan " not in out and "missing " not in out


def test_it_reports_a_stray_file_and_a_missing_one(analysed, settings) -> None:  # type: ignore[no-untyped-def]
    plant(settings, "recordings/ab/stray.wav", b"abc", age_s=2 * 3600)
    analysis = EmotionAnalysis.objects.get(recording=analysed)
    frames = str(analysis.frames_file.name)
    (Path(settings.MEDIA_ROOT) / frames).unlink()
    out = run()
    assert "orphan   recordings/ab/stray.wav  3 B  2.0 h" in out
    assert f"missing  {frames}  (EmotionAnalysis {analysis.pk} frames_file)" in out
    assert "1 orphan(s), 3 B; 1 missing." in out
    # The claimed files are neither orphans nor missing; without --delete nothing is removed.
    for field in (analysed.file, analysis.result_file, analysis.audio_file):
        assert str(field.name) not in out
    assert "recordings/ab/stray.wav" in stored_files(settings)


def test_delete_removes_only_orphans_older_than_the_grace_period(analysed, settings) -> None:  # type: ignore[no-untyped-def]
    claimed = stored_files(settings)
    plant(settings, "analyses/0123abcd/old-variant/result.json", age_s=2 * 3600)
    plant(settings, "recordings/cd/just-uploaded.wav", age_s=60)
    out = run("--delete")
    assert "deleted  analyses/0123abcd/old-variant/result.json" in out
    assert "Deleted 1 orphan(s); kept 1" in out
    assert stored_files(settings) == claimed | {"recordings/cd/just-uploaded.wav"}
    assert not (Path(settings.MEDIA_ROOT) / "analyses" / "0123abcd").exists()  # emptied folder gone
    # A shorter grace period lets the young one go too; the claimed files always stay.
    run("--delete", "--grace", "30")
    assert stored_files(settings) == claimed


def test_it_finds_the_files_a_failed_delete_left_behind(
    analysed, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    left = stored_files(settings)
    with monkeypatch.context() as m:
        m.setattr(FileSystemStorage, "delete", lambda self, name: (_ for _ in ()).throw(OSError("disk")))
        with django_capture_on_commit_callbacks(execute=True):
            session_services.recording_delete(recording=analysed)
    assert stored_files(settings) == left  # the rows went, the files could not
    out = run()
    assert "6 orphan(s)" in out
    for name in left:
        assert f"orphan   {name}" in out
    run("--delete", "--grace", "0")
    assert stored_files(settings) == set()
