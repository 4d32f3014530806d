"""analysis_run in-process on the real test checkpoint: saves once, fails in words, never invents."""

from __future__ import annotations

import numpy as np
import pytest

from ser import services
from ser.engine.model import choose_precision
from ser.models import AnalysisJob, EmotionAnalysis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_model")]


@pytest.fixture
def recording(upload):  # type: ignore[no-untyped-def]
    return upload()


def _job(recording):  # type: ignore[no-untyped-def]
    return AnalysisJob.objects.get(recording=recording)


def test_it_saves_one_analysis_with_provenance_and_marks_the_recording_done(recording) -> None:  # type: ignore[no-untyped-def]
    analysis = services.analysis_run(recording_id=str(recording.pk))
    job = _job(recording)
    assert job.status == AnalysisJob.Status.DONE and job.error == "" and job.progress == 100
    assert job.attempts == 1 and job.started_at <= job.finished_at
    assert analysis is not None
    assert len(analysis.scores) == 9 and sum(analysis.scores) == pytest.approx(1.0, abs=1e-6)
    assert analysis.dominant_emotion == max(analysis.score_map.items(), key=lambda kv: kv[1])[0]
    assert analysis.confidence == pytest.approx(max(analysis.scores))
    assert analysis.embedding_array().shape == (analysis.embedding_dim,) == (64,)
    assert analysis.input_sha256 == recording.sha256
    assert analysis.model_revision.startswith("sha256:")
    assert analysis.precision == choose_precision("auto", "cpu")
    assert analysis.is_test_model is True
    # Only the speech was analysed, in VAD segments whose timeline is stored.
    assert 0 < analysis.analysed_s < analysis.duration_s
    assert analysis.segment_count == len(analysis.segments) >= 2
    for start, end, *scores in analysis.segments:
        assert 0 <= start < end <= analysis.duration_s + 0.01 and len(scores) == 9
    # The seed WebUI's three files, in private storage.
    import json

    doc = json.loads(analysis.result_file.read())
    assert doc["emotion"] == analysis.dominant_emotion and doc["granularity"] == "utterance"
    assert set(doc["scores"]) == set(analysis.score_map) and doc["input"]["sha256"] == recording.sha256
    assert doc["test_checkpoint"] is True and doc["precision"] == analysis.precision
    assert np.load(analysis.embedding_file.open("rb")).shape == (64,)
    import soundfile as sf

    audio, rate = sf.read(analysis.audio_file.open("rb"))
    assert (
        rate == 16000
        and audio.ndim == 1
        and len(audio) / rate == pytest.approx(analysis.duration_s, abs=0.05)
    )


def test_running_twice_leaves_one_analysis(recording) -> None:  # type: ignore[no-untyped-def]
    first = services.analysis_run(recording_id=str(recording.pk))
    AnalysisJob.objects.filter(pk=recording.pk).update(status=AnalysisJob.Status.PENDING)  # a redelivery
    second = services.analysis_run(recording_id=str(recording.pk))
    assert EmotionAnalysis.objects.filter(recording=recording).count() == 1
    assert first is not None and second is not None and first.pk == second.pk
    np.testing.assert_array_equal(first.embedding_array(), second.embedding_array())


def test_it_fails_with_an_integrity_error_when_the_stored_bytes_changed(recording) -> None:  # type: ignore[no-untyped-def]
    with open(recording.file.path, "r+b") as f:
        f.seek(2000)
        f.write(b"\x7f\x7f\x7f\x7f")
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    job = _job(recording)
    assert job.status == AnalysisJob.Status.FAILED
    assert "SHA-256" in job.error
    assert not EmotionAnalysis.objects.exists()


def test_a_missing_model_fails_the_recording_with_the_setting_to_fix(recording, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SER_MODEL = "/nowhere/emotion2vec_plus_large"
    assert services.analysis_run(recording_id=str(recording.pk)) is None
    job = _job(recording)
    assert job.status == AnalysisJob.Status.FAILED
    assert "SER_MODEL" in job.error
    assert job.error_message["msgid"] and job.error_words == job.error  # the engine's message kept
    assert not EmotionAnalysis.objects.exists()


def test_a_recording_deleted_during_its_analysis_leaves_no_row_and_no_file(
    recording, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from ser import runtime
    from ser.engine.pipeline import analyse_file
    from sessions.models import Recording
    from sessions.services import recording_delete

    in_worker = Recording.objects.get(pk=recording.pk)  # the worker's own copy of the row
    result = analyse_file(in_worker.file.path, runtime.get_model(), vad=runtime.vad_config())
    with django_capture_on_commit_callbacks(execute=True):  # the therapist deletes it meanwhile
        recording_delete(recording=recording)
    assert services.analysis_save(recording=in_worker, result=result) is None
    assert not EmotionAnalysis.objects.exists()
    left = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert left == []
