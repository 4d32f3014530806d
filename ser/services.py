"""Writes of the analysis app: a recording's analysis job (created with the recording, queued after
commit, re-sent by the sweeper) and the analysis itself, run and saved idempotently."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext

from audit import services as audit
from audit.context import acting_as
from audit.models import AuditEvent
from ser.engine import voice as voice_measures
from ser.engine.audio import AudioError
from ser.engine.messages import Explained, gettext_noop, render, said
from ser.engine.model import ModelUnavailableError
from ser.engine.outputs import artifacts
from ser.engine.pipeline import Analysis, NoSpeechError, SpeakerSetup, analyse_file, voice_of_processed
from ser.engine.speakers import SpeakerModelUnavailableError
from sessions.models import Recording
from sessions.storage import local_copy

from . import attribution, runtime, workers
from .models import DOWNLOADS, AnalysisJob, EmotionAnalysis, VoiceProfile

__all__ = [
    "ModelUnavailableError",
    "analysis_run",
    "analysis_save",
    "job_create",
    "job_fail",
    "job_retry",
    "requeue_stale",
    "voice_recompute",
]

log = logging.getLogger(__name__)


class StoredAudioIntegrityError(Explained, RuntimeError):
    """The stored audio no longer matches the SHA-256 recorded at upload."""


def job_create(*, recording: Recording) -> AnalysisJob:
    """The recording's job, in the caller's transaction; its task is sent once that commits."""
    job = AnalysisJob(recording=recording, queued_at=timezone.now())
    job.full_clean(validate_unique=False)
    job.save(force_insert=True)
    recording_id = str(recording.pk)
    transaction.on_commit(lambda: _send(recording_id))
    return job


# Sent by name, so this module need not import the tasks module (which imports this one).
ANALYSE_TASK = "ser.tasks.analyse_recording"


def publish(recording_id: str) -> None:
    """Put the analysis task on the broker: the recording id only, never PHI. No time limits in
    the message (explicit None): the worker applies its own SER_TASK_*_TIME_LIMIT settings. To the
    GPU queue while a GPU worker is alive, else to the default (CPU) queue."""
    current_app.send_task(
        ANALYSE_TASK,
        args=(recording_id,),
        time_limit=None,
        soft_time_limit=None,
        queue=workers.gpu_queue(),  # None: the default queue
    )


def _send(recording_id: str) -> bool:
    """Send the task. With the broker down the job stays PENDING (the recording is stored,
    nothing lost) and `requeue_stale` sends it again later; the upload still succeeds."""
    try:
        publish(recording_id)
    except Exception as exc:  # kombu raises OperationalError and friends when Redis is unreachable
        log.error(
            "could not queue recording %s (%s); it stays pending and will be re-queued",
            recording_id,
            type(exc).__name__,
        )
        return False
    return True


def running_deadline(job: AnalysisJob) -> datetime | None:
    """When a RUNNING job must be over: its recording's duration × SER_RUNNING_DEADLINE_RTF (at
    least SER_RUNNING_DEADLINE_MIN_S), never past the hard time limit, plus a minute of grace."""
    if job.started_at is None:
        return None
    expected = max(
        job.recording.duration_s * settings.SER_RUNNING_DEADLINE_RTF, settings.SER_RUNNING_DEADLINE_MIN_S
    )
    return job.started_at + timedelta(seconds=min(expected, settings.CELERY_TASK_TIME_LIMIT) + 60)


def requeue_stale(*, older_than_s: float) -> int:
    """Re-send PENDING jobs last touched more than `older_than_s` ago (lost messages, broker
    outages) and RUNNING jobs past their deadline (a worker process died under them: OOM kill,
    hard time limit, kill -9). Safe to over-send: analysis_run is idempotent and caps attempts."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    stale = list(
        AnalysisJob.objects.filter(status=AnalysisJob.Status.PENDING, updated_at__lt=cutoff).values_list(
            "recording_id", flat=True
        )[:500]
    )
    running = AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING).select_related("recording")
    for job in running[:500]:
        deadline = running_deadline(job)
        if deadline is not None and deadline < now:
            log.warning(
                "recording %s has been running since %s, past its deadline; re-queued", job.pk, job.started_at
            )
            AnalysisJob.objects.filter(pk=job.pk, status=AnalysisJob.Status.RUNNING).update(
                status=AnalysisJob.Status.PENDING, stage=AnalysisJob.Stage.QUEUED, updated_at=now
            )
            stale.append(job.pk)
    sent = 0
    for pk in stale:
        if _send(str(pk)):
            AnalysisJob.objects.filter(pk=pk, status=AnalysisJob.Status.PENDING).update(
                updated_at=timezone.now()
            )
            sent += 1
    return sent


def _mark(recording_id: str, **fields: object) -> None:
    AnalysisJob.objects.filter(recording_id=recording_id).update(updated_at=timezone.now(), **fields)


def job_fail(*, recording_id: str, reason: Explained | Mapping[str, Any]) -> None:
    """End the job FAILED with why: an `Explained` error or a stored message (`{"msgid", "params"}`,
    the msgid marked with gettext_noop), kept as it is so pages show it in the reader's language,
    and in English in `error` (API clients of old, logs)."""
    if isinstance(reason, Explained):
        stored = reason.stored()
    else:
        stored = said(str(reason["msgid"]), **dict(reason.get("params") or {}))
    _mark(
        recording_id,
        status=AnalysisJob.Status.FAILED,
        error=render(stored)[:2000],
        error_message=stored,
        finished_at=timezone.now(),
    )


STORED_FILE_MISSING = said(
    gettext_noop("The stored audio file is missing; it was not analysed. Upload the recording again.")
)


def _interrupted(attempts: int) -> dict[str, Any]:
    return said(
        gettext_noop(
            "The analysis was interrupted %(attempts)s times (its worker process stopped each time, "
            "for example out of memory) and was not tried again. Try a shorter recording, or ask an "
            "administrator to check the worker's memory and time limits."
        ),
        attempts=attempts,
    )


class JobNotFailed(ValidationError):
    """Only a failed analysis can be retried (a queued or running one is on its way; a done one
    has its result)."""


@transaction.atomic
def job_retry(*, recording: Recording) -> AnalysisJob:
    """Queue a failed analysis again, from the start: status pending, attempts and error cleared,
    the task sent once this commits (as for a new upload). Raises JobNotFailed otherwise."""
    job = AnalysisJob.objects.select_for_update().filter(recording=recording).first()
    if job is None or job.status != AnalysisJob.Status.FAILED:
        state = job.get_status_display() if job else AnalysisJob.Status.PENDING.label
        raise JobNotFailed(
            gettext("Only a failed analysis can be retried; this one is %(state)s.")
            % {"state": str(state).lower()}
        )
    _requeue(job, recording)
    audit.record(AuditEvent.Action.UPDATE, job, detail="analysis retried")
    return job


def _requeue(job: AnalysisJob, recording: Recording) -> None:
    """The job back to the start (pending, nothing counted) and to the back of the queue, the
    task sent once this commits."""
    job.status, job.stage, job.error = AnalysisJob.Status.PENDING, AnalysisJob.Stage.QUEUED, ""
    job.error_message = {}
    job.attempts = job.progress = job.segments_done = job.segments_total = 0
    job.started_at = job.finished_at = None
    job.queued_at = timezone.now()
    job.full_clean(validate_unique=False)
    job.save()
    recording_id = str(recording.pk)
    transaction.on_commit(lambda: _send(recording_id))


class JobBusy(ValidationError):
    """The recording is queued or being analysed: change it once that has finished."""


@transaction.atomic
def recording_reanalyse(*, recording: Recording, channel: str, granularity: str) -> AnalysisJob:
    """Correct a recording's analysis choices — which channel holds the patient, utterance or frame
    granularity — and analyse it again. The analyses made with the old choices are deleted (their
    files after commit, by the app's post_delete receivers); the audio is kept as it was uploaded.
    Unchanged choices change nothing. Raises ValidationError for an impossible choice, JobBusy while
    an analysis is queued or running."""
    if channel not in Recording.Channel.values:
        raise ValidationError({"channel": gettext("Choose mix, left, right or patient only (voice).")})
    if granularity not in Recording.Granularity.values:
        raise ValidationError({"granularity": gettext("Choose utterance or frame.")})
    if channel == Recording.Channel.RIGHT and recording.channels < 2:
        raise ValidationError({"channel": gettext("The recording has one channel; choose mix or left.")})
    job, _ = AnalysisJob.objects.select_for_update().get_or_create(recording=recording)
    if (channel, granularity) == (recording.channel, recording.granularity):
        return job
    if job.active:
        raise JobBusy(gettext("The recording is being analysed; change it once the analysis has finished."))
    before = f"{recording.channel}/{recording.granularity}"
    recording.channel, recording.granularity = channel, granularity
    recording.save(update_fields=["channel", "granularity", "updated_at"])
    for analysis in recording.analyses.all():
        analysis.delete()
    _requeue(job, recording)
    audit.record(
        AuditEvent.Action.UPDATE, recording, detail=f"re-analysis: {before} -> {channel}/{granularity}"
    )
    return job


def analysis_run(*, recording_id: str) -> EmotionAnalysis | None:
    """Analyse one recording. Safe to run twice: the second run replaces nothing and adds nothing.

    Failures that retrying cannot fix (bad audio, no speech, integrity, missing model) end with the
    job FAILED and the reason in words; other exceptions propagate so the task can retry.
    """
    recording = Recording.objects.select_related("session__patient").filter(pk=recording_id).first()
    if recording is None:
        log.warning("analysis_run: recording %s no longer exists", recording_id)
        return None
    job, _ = AnalysisJob.objects.get_or_create(recording=recording)
    existing = recording.analyses.first()
    if job.status == AnalysisJob.Status.DONE and existing is not None:
        return existing
    if job.status == AnalysisJob.Status.FAILED:
        return None  # a redelivered message for a job that already ended in words
    if job.attempts >= settings.SER_MAX_ATTEMPTS:
        # Every earlier run ended without finishing or failing in words: its process died (out of
        # memory, killed, hard time limit). Running it again would only kill another process.
        job_fail(recording_id=recording_id, reason=_interrupted(job.attempts))
        log.error("recording %s failed after %d interrupted attempts", recording_id, job.attempts)
        return None

    _mark(
        recording_id,
        status=AnalysisJob.Status.RUNNING,
        stage=AnalysisJob.Stage.DECODING,
        error="",
        error_message={},
        progress=0,
        segments_done=0,
        segments_total=0,
        started_at=timezone.now(),
        attempts=job.attempts + 1,
    )
    last: dict[str, object] = {}

    def progress(stage: str, done: int, total: int) -> None:
        # Speech detection reports every ~10 s block: written only when its percentage moves.
        fields: dict[str, object] = {
            "stage": stage,
            "progress": min(99, int(100 * done / total)) if total else 0,
        }
        if stage == AnalysisJob.Stage.ANALYSING:
            fields.update(segments_done=done, segments_total=total)
        if fields != last:
            last.clear()
            last.update(fields)
            _mark(recording_id, **fields)

    # The processed audio is spooled into this folder while decoding; it goes into storage with the
    # other files and the folder is removed whatever happens (stored, failed, or an exception).
    # The recording is read from storage once, into a local copy there (the engine's decoders need
    # a file path; object storage has none), hashed in the same pass for the integrity check.
    with tempfile.TemporaryDirectory(prefix="ser-analysis-") as tmp:
        try:
            with local_copy(recording.file, folder=tmp) as stored:
                if stored.sha256 != recording.sha256:
                    raise StoredAudioIntegrityError(
                        gettext_noop(
                            "The stored audio does not match the SHA-256 recorded at upload; it was "
                            "not analysed. Upload the recording again."
                        )
                    )
                # "Patient only (voice)": the speaker encoder is loaded lazily, once per worker
                # process, on its first voice recording (as the emotion model on its first task).
                speakers: SpeakerSetup | None = None
                profile: VoiceProfile | None = None
                notes: list[dict[str, Any]] = []  # stored messages ({"msgid", "params"})
                if recording.channel == Recording.Channel.VOICE:
                    speakers, profile, notes = attribution.speaker_setup(recording)
                result = analyse_file(
                    stored.path,
                    runtime.get_model(),
                    granularity=recording.granularity,
                    channel=recording.channel,
                    vad=runtime.vad_config(),
                    max_duration_s=settings.SER_MAX_DURATION_S,
                    progress=progress,
                    audio_out=Path(tmp) / "processed_audio.wav",
                    voice=settings.SER_VOICE,
                    max_pause_s=settings.SER_VOICE_MAX_PAUSE_S,
                    speakers=speakers,
                )
                if result.speakers is not None and notes:
                    result = replace(
                        result,
                        speakers=replace(
                            result.speakers,
                            notes=[*(render(n) for n in notes), *result.speakers.notes],
                            note_messages=[*notes, *result.speakers.note_messages],
                        ),
                    )
        except FileNotFoundError:
            job_fail(recording_id=recording_id, reason=STORED_FILE_MISSING)
            log.warning("analysis of recording %s failed: stored file missing", recording_id)
            return None
        except (
            AudioError,
            NoSpeechError,
            StoredAudioIntegrityError,
            ModelUnavailableError,
            SpeakerModelUnavailableError,
        ) as exc:
            job_fail(recording_id=recording_id, reason=exc)
            log.warning("analysis of recording %s failed: %s", recording_id, type(exc).__name__)
            return None
        _mark(recording_id, stage=AnalysisJob.Stage.SAVING, progress=0)
        return analysis_save(recording=recording, result=result, profile=profile)


def _artifact_dir(recording: Recording, variant: str) -> str:
    # One fixed place per recording and model variant: a rerun overwrites, never accumulates.
    return f"analyses/{recording.pk.hex}/{get_valid_filename(variant)}"


def _store(name: str, content: bytes | Path) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    if isinstance(content, Path):  # the processed audio: streamed from its file in chunks
        with content.open("rb") as f:
            return default_storage.save(name, File(f))
    return default_storage.save(name, ContentFile(content))


def _write_artifacts(recording: Recording, result: Analysis) -> dict[str, str]:
    """The analysis's files into storage; field name → stored name. At frame granularity the
    (T, D) embedding.npy is not stored: downloads build it from the compressed frames.npz."""
    names = tuple(n for n in DOWNLOADS if not (n == "embedding.npy" and result.granularity == "frame"))
    files = artifacts(result, input_sha256=recording.sha256, source_name=recording.original_name, names=names)
    base = _artifact_dir(recording, result.model.variant)
    return {DOWNLOADS[name]: _store(f"{base}/{name}", content) for name, content in files.items()}


def _voice_json(result: Analysis) -> dict[str, object]:
    if result.voice is not None:
        return result.voice.to_json()
    if result.voice_error:
        return voice_measures.unavailable(result.voice_error_message or result.voice_error)
    return {}


class VoiceRecomputeError(RuntimeError):
    """The analysis's voice measures could not be recomputed (the reason in words)."""


def voice_recompute(*, analysis: EmotionAnalysis) -> EmotionAnalysis:
    """Compute an existing analysis's voice measures again from its stored processed audio and the
    segments its model scored (for analyses made before the measures existed, or after a change
    of the measures): the `voice` field, voice.npz and the voice section of result.json replaced,
    the change audited. The emotion scores are not touched. Raises VoiceRecomputeError."""
    if not analysis.audio_file:
        raise VoiceRecomputeError("its processed audio was not kept, so there is nothing to measure")
    segments = [(float(seg[0]), float(seg[1])) for seg in analysis.segments]
    if not segments:
        raise VoiceRecomputeError("it has no speech segments")
    with tempfile.TemporaryDirectory(prefix="ser-voice-") as tmp:
        try:
            with local_copy(analysis.audio_file, folder=tmp) as stored:
                result = voice_of_processed(
                    stored.path, segments, runtime.vad_config(), settings.SER_VOICE_MAX_PAUSE_S
                )
        except FileNotFoundError:
            raise VoiceRecomputeError("its processed audio file is missing from storage") from None
        except (AudioError, ValueError) as exc:
            raise VoiceRecomputeError(f"its processed audio could not be read ({exc})") from exc
    base = _artifact_dir(analysis.recording, analysis.model_variant)
    stored_voice = _store(f"{base}/voice.npz", voice_measures.npz_bytes(result))
    if analysis.result_file:
        with analysis.result_file.open("rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        doc["voice"] = voice_measures.document(result)
        _store(str(analysis.result_file.name), json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
    with transaction.atomic():
        analysis.voice = result.to_json()
        analysis.voice_file.name = stored_voice
        analysis.timings = {**analysis.timings, "voice_s": round(result.seconds, 3)}
        analysis.save(update_fields=["voice", "voice_file", "timings", "updated_at"])
        # The caller's actor (the management command runs as the administrator named on it).
        audit.record(AuditEvent.Action.UPDATE, analysis, detail="voice measures recomputed")
    return analysis


def analysis_save(
    *, recording: Recording, result: Analysis, profile: VoiceProfile | None = None
) -> EmotionAnalysis | None:
    """Artifacts to storage, then one transaction: the analysis row (created or replaced for this
    model variant) and the job DONE. None if the recording was deleted meanwhile (its files are
    taken back out of storage). `profile`: the voice profile a "voice" analysis was made with."""
    import numpy as np

    files = _write_artifacts(recording, result)
    info = result.model
    emb = np.ascontiguousarray(result.embedding, dtype="<f4")
    try:
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
                        [
                            round(s.start_s, 3),
                            round(s.end_s, 3),
                            *[round(float(p), 6) for p in s.probabilities],
                        ]
                        for s in result.segments
                    ],
                    timings={
                        k: round(v, 3) for k, v in {**result.timings, "total_s": result.processing_s}.items()
                    },
                    voice=_voice_json(result)
                    if result.speakers is None
                    else attribution.spread_voice_rows(_voice_json(result), result.speakers.speakers),
                    speakers={}
                    if result.speakers is None
                    else attribution.stored_speakers(result.speakers, profile),
                    **{field: files.get(field, "") for field in DOWNLOADS.values()},
                ),
            )
            analysis.full_clean(validate_unique=False)
            # The worker acts for the therapist who uploaded the recording.
            with acting_as(recording.uploaded_by, path="worker"):
                audit.record(AuditEvent.Action.CREATE, analysis, detail=f"analysis by {info.variant}")
            _mark(
                str(recording.pk),
                status=AnalysisJob.Status.DONE,
                stage=AnalysisJob.Stage.FINISHED,
                error="",
                error_message={},
                progress=100,
                finished_at=timezone.now(),
            )
    except (IntegrityError, ValidationError):
        if Recording.objects.filter(pk=recording.pk).exists():
            raise
        # The recording was deleted while it was being analysed: take back what was just stored.
        for name in files.values():
            try:
                default_storage.delete(name)
            except OSError:
                log.warning(
                    "could not remove %s of deleted recording %s; find_orphan_files will", name, recording.pk
                )
        log.info("recording %s was deleted during its analysis; nothing was saved", recording.pk)
        return None
    return analysis
