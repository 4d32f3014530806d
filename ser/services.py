"""Run an analysis for a recording and save it idempotently; queue analyses after commit."""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ser.engine.audio import AudioError
from ser.engine.model import EmotionModel, ModelUnavailableError

__all__ = ["ModelUnavailableError", "analysis_enqueue", "analysis_run", "get_model"]
from ser.engine.pipeline import Analysis, NoSpeechError, analyse_file
from sessions.models import Recording

from .models import EmotionAnalysis

log = logging.getLogger(__name__)

_model: EmotionModel | None = None
_model_lock = threading.Lock()
# How many times this process has loaded the model (a worker should load it once).
model_load_count = 0


class StoredAudioIntegrityError(RuntimeError):
    """The stored audio no longer matches the SHA-256 recorded at upload."""


def get_model() -> EmotionModel:
    """The process's one model, loaded on first use. Failures are not cached: fixing SER_MODEL
    and retrying works without restarting the web process."""
    global _model, model_load_count
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = EmotionModel.load(
                    settings.SER_MODEL,
                    device=settings.SER_DEVICE,
                    threads=settings.SER_THREADS,
                    hub=settings.SER_MODEL_HUB,
                )
                model_load_count += 1
    return _model


def analysis_enqueue(*, recording: Recording) -> None:
    """Queue the analysis once the surrounding transaction commits (ids only in the message)."""
    from .tasks import analyse_recording

    recording_id = str(recording.pk)
    transaction.on_commit(lambda: analyse_recording.delay(recording_id))


def _sha256_of(recording: Recording) -> str:
    h = hashlib.sha256()
    with recording.file.open("rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _mark(recording_id: str, **fields: object) -> None:
    Recording.objects.filter(pk=recording_id).update(updated_at=timezone.now(), **fields)


def recording_fail(*, recording_id: str, reason: str) -> None:
    _mark(recording_id, status=Recording.Status.FAILED, error=reason[:2000], finished_at=timezone.now())


def analysis_run(*, recording_id: str) -> EmotionAnalysis | None:
    """Analyse one recording. Safe to run twice: the second run replaces nothing and adds nothing.

    Failures that retrying cannot fix (bad audio, no speech, integrity, missing model) end with the
    recording FAILED and the reason in words; other exceptions propagate so the task can retry.
    """
    recording = Recording.objects.select_related("session").filter(pk=recording_id).first()
    if recording is None:
        log.warning("analysis_run: recording %s no longer exists", recording_id)
        return None
    existing = recording.analyses.first()
    if recording.status == Recording.Status.DONE and existing is not None:
        return existing

    _mark(recording_id, status=Recording.Status.RUNNING, error="", started_at=timezone.now())
    try:
        if _sha256_of(recording) != recording.sha256:
            raise StoredAudioIntegrityError(
                "The stored audio does not match the SHA-256 recorded at upload; it was not analysed. "
                "Upload the recording again."
            )
        model = get_model()
        result = analyse_file(
            recording.file.path,
            model,
            channel=recording.channel,
            max_segment_s=settings.SER_MAX_SEGMENT_S,
            max_duration_s=settings.SER_MAX_DURATION_S,
        )
    except (AudioError, NoSpeechError, StoredAudioIntegrityError, ModelUnavailableError) as exc:
        recording_fail(recording_id=recording_id, reason=str(exc))
        log.warning("analysis of recording %s failed: %s", recording_id, type(exc).__name__)
        return None
    return analysis_save(recording=recording, result=result)


@transaction.atomic
def analysis_save(*, recording: Recording, result: Analysis) -> EmotionAnalysis:
    """One transaction: the analysis row (created or replaced for this variant) and DONE."""
    info = result.model
    emb = np.ascontiguousarray(result.embedding, dtype="<f4")
    analysis, _ = EmotionAnalysis.objects.update_or_create(
        recording=recording,
        model_variant=info.variant,
        defaults=dict(
            model_id=info.model_id,
            model_revision=info.revision,
            is_test_model=info.is_test_model,
            precision=info.precision,
            device=info.device,
            input_sha256=recording.sha256,
            granularity=result.granularity,
            channel=result.channel,
            dominant_emotion=result.dominant,
            confidence=result.confidence,
            scores=[float(p) for p in result.probabilities],
            embedding=emb.tobytes(),
            embedding_dim=int(emb.shape[0]),
            duration_s=result.duration_s,
            analysed_s=result.analysed_s,
            segment_count=len(result.segments),
            processing_s=result.processing_s,
        ),
    )
    analysis.full_clean(validate_unique=False)
    Recording.objects.filter(pk=recording.pk).update(
        status=Recording.Status.DONE, error="", finished_at=timezone.now(), updated_at=timezone.now()
    )
    return analysis
