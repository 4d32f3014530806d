"""Run an analysis for a recording and save it idempotently; queue analyses after commit."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ser.engine.audio import AudioError, write_wav_16k
from ser.engine.model import EmotionModel, ModelUnavailableError
from ser.engine.outputs import embedding_array, frames_npz_bytes, result_document
from ser.engine.pipeline import Analysis, NoSpeechError, analyse_file
from ser.engine.vad import VadConfig
from sessions.models import Recording

from .models import EmotionAnalysis

__all__ = ["ModelUnavailableError", "analysis_enqueue", "analysis_run", "get_model"]

log = logging.getLogger(__name__)

_model: EmotionModel | None = None
_model_lock = threading.Lock()


class StoredAudioIntegrityError(RuntimeError):
    """The stored audio no longer matches the SHA-256 recorded at upload."""


def get_model() -> EmotionModel:
    """The process's one model, loaded on first use. Failures are not cached: fixing SER_MODEL
    and retrying works without restarting the web process."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = EmotionModel.load(
                    settings.SER_MODEL,
                    device=settings.SER_DEVICE,
                    threads=settings.SER_THREADS,
                    hub=settings.SER_MODEL_HUB,
                    precision=settings.SER_PRECISION,
                    batch_seconds=settings.SER_BATCH_SECONDS,
                )
    return _model


def vad_config() -> VadConfig:
    return VadConfig(
        min_segment_s=settings.SER_MIN_SEGMENT_S,
        max_segment_s=settings.SER_MAX_SEGMENT_S,
        merge_gap_s=settings.SER_MERGE_GAP_S,
    )


def analysis_enqueue(*, recording: Recording) -> None:
    """Queue the analysis once the surrounding transaction commits (ids only in the message)."""
    recording_id = str(recording.pk)
    transaction.on_commit(lambda: _send(recording_id))


def _send(recording_id: str) -> bool:
    """Send the task. With the broker down the recording stays PENDING (already stored, nothing
    lost) and `requeue_stale` sends it again later; the upload itself still succeeds."""
    from .tasks import analyse_recording

    try:
        analyse_recording.delay(recording_id)
    except Exception as exc:  # kombu raises OperationalError and friends when Redis is unreachable
        log.error(
            "could not queue recording %s (%s); it stays pending and will be re-queued",
            recording_id,
            type(exc).__name__,
        )
        return False
    return True


def requeue_stale(*, older_than_s: float) -> int:
    """Re-send PENDING recordings last touched more than `older_than_s` ago (lost messages, broker
    outages). Safe to over-send: analysis_run is idempotent."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stale = list(
        Recording.objects.filter(status=Recording.Status.PENDING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    sent = 0
    for pk in stale:
        if _send(str(pk)):
            Recording.objects.filter(pk=pk, status=Recording.Status.PENDING).update(updated_at=timezone.now())
            sent += 1
    return sent


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

    _mark(recording_id, status=Recording.Status.RUNNING, error="", progress=0, started_at=timezone.now())

    def progress(done: int, total: int) -> None:
        _mark(recording_id, progress=min(99, int(100 * done / max(1, total))))

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
            granularity=recording.granularity,
            channel=recording.channel,
            vad=vad_config(),
            max_duration_s=settings.SER_MAX_DURATION_S,
            progress=progress,
            keep_audio=True,
        )
    except (AudioError, NoSpeechError, StoredAudioIntegrityError, ModelUnavailableError) as exc:
        recording_fail(recording_id=recording_id, reason=str(exc))
        log.warning("analysis of recording %s failed: %s", recording_id, type(exc).__name__)
        return None
    return analysis_save(recording=recording, result=result)


def _artifact_dir(recording: Recording, variant: str) -> str:
    # One fixed place per recording and model variant: a rerun overwrites, never accumulates.
    safe_variant = "".join(c if c.isalnum() or c in "-_." else "_" for c in variant)
    return f"analyses/{recording.pk.hex}/{safe_variant}"


def _store(name: str, content: bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def _write_artifacts(recording: Recording, result: Analysis) -> dict[str, str]:
    base = _artifact_dir(recording, result.model.variant)
    doc = result_document(result, input_sha256=recording.sha256, source_name=recording.original_name)
    files = {"result_file": _store(f"{base}/result.json", json.dumps(doc, indent=2).encode())}
    buf = io.BytesIO()
    if result.granularity == "utterance":
        np.save(buf, embedding_array(result))
        files["embedding_file"] = _store(f"{base}/embedding.npy", buf.getvalue())
    frames = frames_npz_bytes(result)
    files["frames_file"] = _store(f"{base}/frames.npz", frames) if frames is not None else ""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        start_s=np.array([s.start_s for s in result.segments], np.float32),
        end_s=np.array([s.end_s for s in result.segments], np.float32),
        embeddings=np.stack([s.embedding for s in result.segments]).astype(np.float32),
    )
    files["segment_embeddings_file"] = _store(f"{base}/segments.npz", buf.getvalue())
    if result.audio16k is not None:
        buf = io.BytesIO()
        write_wav_16k(buf, result.audio16k)
        files["audio_file"] = _store(f"{base}/processed_audio.wav", buf.getvalue())
    return files


def analysis_save(*, recording: Recording, result: Analysis) -> EmotionAnalysis:
    """Artifacts to storage, then one transaction: the analysis row (created or replaced for this
    model variant) and the recording DONE."""
    files = _write_artifacts(recording, result)
    info = result.model
    emb = np.ascontiguousarray(result.embedding, dtype="<f4")
    with transaction.atomic():
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
                segments=[
                    [round(s.start_s, 3), round(s.end_s, 3), *[round(float(p), 6) for p in s.probabilities]]
                    for s in result.segments
                ],
                timings={
                    k: round(v, 3) for k, v in {**result.timings, "total_s": result.processing_s}.items()
                },
                result_file=files.get("result_file", ""),
                embedding_file=files.get("embedding_file", ""),
                audio_file=files.get("audio_file", ""),
                frames_file=files.get("frames_file", ""),
                segment_embeddings_file=files.get("segment_embeddings_file", ""),
            ),
        )
        analysis.full_clean(validate_unique=False)
        Recording.objects.filter(pk=recording.pk).update(
            status=Recording.Status.DONE,
            error="",
            progress=100,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return analysis
