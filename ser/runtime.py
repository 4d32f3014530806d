"""The engine wired to Django settings, in one place: the process's emotion model and the speech
segment shape. The worker, the web process and the batch CLI all build them here."""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from ser.engine.model import EmotionModel
from ser.engine.speakers import SpeakerEncoder
from ser.engine.vad import VadConfig

from .workers import torch_threads

log = logging.getLogger(__name__)
_model: EmotionModel | None = None
_model_lock = threading.Lock()
_speakers: SpeakerEncoder | None = None


def load_model(*, source: str | None = None, precision: str | None = None) -> EmotionModel:
    """A new model from the SER_* settings (`source`/`precision` override them), on this process's
    share of the host's cores; on a GPU, batched up to SER_GPU_MEMORY_BUDGET_MB."""
    threads, basis = torch_threads()
    model = EmotionModel.load(
        source or settings.SER_MODEL,
        device=settings.SER_DEVICE,
        threads=threads,
        hub=settings.SER_MODEL_HUB,
        precision=precision or settings.SER_PRECISION,
        batch_seconds=settings.SER_BATCH_SECONDS,
    )
    log.info("emotion model on %d torch thread%s (%s)", threads, "" if threads == 1 else "s", basis)
    if model.info.device.startswith("cuda"):
        model.fit_batches_to_memory(settings.SER_GPU_MEMORY_BUDGET_MB * 2**20)
    return model


def get_model() -> EmotionModel:
    """The process's one model, loaded on first use. Failures are not cached: fixing SER_MODEL
    and retrying works without restarting the process."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = load_model()
    return _model


def get_speaker_encoder() -> SpeakerEncoder:
    """The process's one speaker encoder ("patient only (voice)", voice profiles), loaded on first
    use (about 1 s, 17 MB). Raises SpeakerModelUnavailableError, saying what to install."""
    global _speakers
    if _speakers is None:
        with _model_lock:
            if _speakers is None:
                _speakers = SpeakerEncoder.load(
                    device="cuda" if settings.SER_DEVICE.startswith("cuda") else "cpu"
                )
    return _speakers


def reset_model() -> None:
    """Forget the loaded model (tests switch SER_MODEL between cases)."""
    global _model
    with _model_lock:
        _model = None


def vad_config() -> VadConfig:
    return VadConfig(
        min_segment_s=settings.SER_MIN_SEGMENT_S,
        max_segment_s=settings.SER_MAX_SEGMENT_S,
        merge_gap_s=settings.SER_MERGE_GAP_S,
    )
