"""analysis_run in-process on the real test checkpoint: saves once, fails in words, never invents."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ser import services
from ser.models import EmotionAnalysis
from sessions.models import Recording
from sessions.services import recording_create
from tests.audio import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(session, therapist, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ser.tasks.analyse_recording.delay", lambda *a, **k: None)
    return recording_create(
        session=session,
        upload=SimpleUploadedFile("r.wav", wav_bytes(4.0, seed=2)),
        consent_confirmed=True,
        uploaded_by=therapist,
    )


@pytest.fixture(autouse=True)
def _fresh_model(monkeypatch):  # type: ignore[no-untyped-def]
    # Each test decides which model the process holds.
    monkeypatch.setattr(services, "_model", None)


def test_it_saves_one_analysis_with_provenance_and_marks_the_recording_done(recording) -> None:  # type: ignore[no-untyped-def]
    analysis = services.analysis_run(recording_id=str(recording.pk))
    recording.refresh_from_db()
    assert recording.status == Recording.Status.DONE and recording.error == ""
    assert analysis is not None
    assert len(analysis.scores) == 9 and sum(analysis.scores) == pytest.approx(1.0, abs=1e-6)
    assert analysis.dominant_emotion == max(analysis.score_map, key=analysis.score_map.get)
    assert analysis.confidence == pytest.approx(max(analysis.scores))
    assert analysis.embedding_array().shape == (analysis.embedding_dim,) == (64,)
    assert analysis.input_sha256 == recording.sha256
    assert analysis.model_revision.startswith("sha256:") and analysis.precision == "fp32"
    assert analysis.is_test_model is True
    assert analysis.analysed_s == pytest.approx(4.0, abs=0.01)


def test_running_twice_leaves_one_analysis(recording) -> None:  # type: ignore[no-untyped-def]
    first = services.analysis_run(recording_id=str(recording.pk))
    Recording.objects.filter(pk=recording.pk).update(status=Recording.Status.PENDING)  # a redelivery
    second = services.analysis_run(recording_id=str(recording.pk))
    assert EmotionAnalysis.objects.filter(recording=recording).count() == 1
    assert first is not None and second is not None and first.pk == second.pk
    np.testing.assert_array_equal(first.embedding_array(), second.embedding_array())


def test_it_fails_with_an_integrity_error_when_the_stored_bytes_changed(recording) -> None:  # type: ignore[no-untyped-def]
    with open(recording.file.path, "r+b") as f:
        f.seek(2000)
        f.write(b"\x7f\x7f\x7f\x7f")
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    recording.refresh_from_db()
    assert recording.status == Recording.Status.FAILED
    assert "SHA-256" in recording.error
    assert not EmotionAnalysis.objects.exists()


def test_a_missing_model_fails_the_recording_with_the_setting_to_fix(recording, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_MODEL = "/nowhere/emotion2vec_plus_large"
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    recording.refresh_from_db()
    assert recording.status == Recording.Status.FAILED
    assert "SER_MODEL" in recording.error
    assert not EmotionAnalysis.objects.exists()
