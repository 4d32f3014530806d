"""analysis_run reads the recording through the storage API: one read of the stored object into a
temporary local copy (hashed on the way for the integrity check) that the engine is given and that
is gone afterwards; a stored file that is missing fails the job in words."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage

from ser import services
from ser.models import AnalysisJob, EmotionAnalysis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_model")]


@pytest.fixture
def worker_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temp folder, empty, so what the analysis leaves there can be seen."""
    folder = tmp_path / "worker-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_engine_gets_a_temporary_copy_read_once_and_removed(  # type: ignore[no-untyped-def]
    upload, settings, worker_tmp, monkeypatch
) -> None:
    recording = upload()
    opened: list[str] = []
    real_open = FileSystemStorage.open

    def counting_open(self: FileSystemStorage, name: str, mode: str = "rb") -> Any:
        opened.append(name)
        return real_open(self, name, mode)

    monkeypatch.setattr(FileSystemStorage, "open", counting_open)
    seen: list[Path] = []
    real_analyse = services.analyse_file

    def analyse(path: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path))
        assert Path(path).is_file() and Path(path).read_bytes()[:4] == b"RIFF"
        return real_analyse(path, *args, **kwargs)

    monkeypatch.setattr(services, "analyse_file", analyse)

    assert services.analysis_run(recording_id=str(recording.pk)) is not None
    [path] = seen
    media = Path(settings.MEDIA_ROOT).resolve()
    assert not path.resolve().is_relative_to(media)  # a copy, not the stored file
    assert path.parent.name.startswith("ser-analysis-") and path.suffix == ".wav"
    assert opened.count(recording.file.name) == 1  # hashed and copied in one read
    assert not path.exists() and list(worker_tmp.iterdir()) == []


def test_a_missing_stored_file_fails_the_job_in_words_and_leaves_no_copy(upload, worker_tmp) -> None:  # type: ignore[no-untyped-def]
    recording = upload()
    recording.file.storage.delete(recording.file.name)
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    job = AnalysisJob.objects.get(recording=recording)
    assert job.status == AnalysisJob.Status.FAILED and "stored audio file is missing" in job.error
    assert not EmotionAnalysis.objects.exists()
    assert list(worker_tmp.iterdir()) == []
