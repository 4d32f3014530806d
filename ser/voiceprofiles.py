"""Writes of a therapist's voice profile ("patient only (voice)"): enrol from a recorded or uploaded
sample of their own voice, or from one voice of an analysed session; delete it. One profile per
user (re-enrolment replaces it); what is stored is the speaker embedding, not the audio, unless
they chose to keep their sample. A sample that cannot make a profile changes nothing stored."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from audit import services as audit
from audit.models import AuditEvent
from ser.engine.audio import AudioError, load_16k_mono, probe, verify_decodes
from ser.engine.messages import gettext_noop, render
from ser.engine.speakers import (
    EMBEDDING_DIM,
    MIN_ENROL_SPEECH_S,
    VOICES,
    Enrolment,
    EnrolmentError,
    SpeakerModelInfo,
    SpeakerModelUnavailableError,
    enrol,
)
from ser.engine.vad import speech_segments
from sessions.services import UploadTooLarge, spool_upload

from . import runtime
from .models import EmotionAnalysis, VoiceProfile

__all__ = [
    "MIN_ENROL_SPEECH_S",
    "SAMPLE_MAX_S",
    "SampleTooLarge",
    "VoiceProfileUnavailable",
    "enrol_file",
    "voice_profile_delete",
    "voice_profile_enrol",
    "voice_profile_from_analysis",
]

log = logging.getLogger(__name__)

SAMPLE_MAX_S = 5 * 60.0  # 20-60 s is what is asked for; enrolment uses at most 120 s of speech
SAMPLE_MAX_BYTES = 100 * 1024 * 1024  # 5 min of 48 kHz stereo 24-bit WAV is 86 MB
SAMPLE_FOLDER = "voice-profiles"
# The kept sample's extension comes from the detected container, never from the upload's name.
_EXT = {
    "WAV": "wav",
    "WAVEX": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "MOV": "m4a",
    "MATROSKA": "webm",
}
CONSENT_MESSAGE = gettext_lazy(
    "Confirm that you agree to a voice profile being made from your own voice: a numerical voice "
    "print used to tell your speech apart from your patients' in “patient only (voice)” analyses."
)


class VoiceProfileUnavailable(ValidationError):
    """The speaker model is not installed on this server (not the user's fault; HTTP 503)."""


class SampleTooLarge(ValidationError):
    """The sample exceeds SAMPLE_MAX_BYTES (HTTP 413)."""


@dataclass(frozen=True)
class _Sample:
    """A spooled upload: its private temp file, size and detected container."""

    tmp: IO[bytes]
    size: int
    sha256: str
    ext: str


def _encoder() -> Any:
    try:
        return runtime.get_speaker_encoder()
    except SpeakerModelUnavailableError as exc:
        raise VoiceProfileUnavailable(render(exc.stored(), gettext), code="unavailable") from exc


def enrol_file(
    path: str | Path, *, encoder: Any | None = None, max_duration_s: float = SAMPLE_MAX_S
) -> Enrolment:
    """A profile from a sample on disk: decoded (bounded), the speech detector's segments enrolled.
    Raises AudioError (not audio, too long) or EnrolmentError (too little speech); both say why."""
    wav = load_16k_mono(path, max_duration_s=max_duration_s)
    bounds = speech_segments(wav, runtime.vad_config())
    return enrol([wav[a:b] for a, b in bounds], encoder or runtime.get_speaker_encoder())


def _spool(upload: Any) -> tuple[IO[bytes], int, str]:
    """The upload copied to a private temp file (hashed), stopped at the size limit."""
    limit = min(SAMPLE_MAX_BYTES, settings.SER_MAX_UPLOAD_BYTES)
    try:
        tmp, digest, size = spool_upload(upload, limit, prefix="voice-sample-")
    except UploadTooLarge:
        raise SampleTooLarge(
            {
                "file": gettext("The sample is larger than %(mb)s MB; 20-60 s of speech is enough.")
                % {"mb": f"{limit / 1024 / 1024:.0f}"}
            },
            code="too_large",
        ) from None
    return tmp, size, digest


def _read_sample(upload: Any, encoder: Any) -> tuple[Enrolment, _Sample]:
    """Validate the upload by its content and enrol it; ValidationError (on "file") when it is not
    a usable sample. The caller closes the sample's temp file."""
    tmp, size, digest = _spool(upload)
    try:
        if size == 0:
            raise ValidationError(
                {"file": gettext("The file is empty. Record or choose a sample of your voice.")}
            )
        try:
            info = probe(tmp.name)
            if info.duration_s > SAMPLE_MAX_S:
                raise AudioError(
                    gettext_noop(
                        "The sample is %(minutes)s minutes long; at most %(max)s minutes are accepted "
                        "(20-60 s of speech is enough)."
                    ),
                    minutes=f"{info.duration_s / 60:.1f}",
                    max=f"{SAMPLE_MAX_S / 60:.0f}",
                )
            verify_decodes(tmp.name, info)
            enrolment = enrol_file(tmp.name, encoder=encoder)
        except (AudioError, EnrolmentError) as exc:
            # In the request's language (the message is kept apart from its numbers until now).
            raise ValidationError({"file": render(exc.stored(), gettext)}, code="invalid_sample") from exc
        ext = _EXT.get(info.format.split("/")[0], "audio")
        return enrolment, _Sample(tmp=tmp, size=size, sha256=digest, ext=ext)
    except BaseException:
        tmp.close()
        raise


def _forget_file(name: str) -> None:
    """A kept sample leaves storage once the transaction that dropped it commits."""
    if name:
        transaction.on_commit(lambda: _delete_stored(name))


def _delete_stored(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception as exc:  # any storage backend's error: the row is already right
        log.error("could not delete kept voice sample %s (%s)", name, type(exc).__name__)


def _store_sample(user_pk: Any, name: str, tmp: IO[bytes]) -> None:
    """After commit: the spooled sample into storage under the row's server-made name."""
    try:
        tmp.seek(0)
        stored = default_storage.save(name, File(tmp))
    finally:
        tmp.close()
    if stored != name:  # the storage picked another free name: keep the row true
        VoiceProfile.objects.filter(pk=user_pk).update(sample_file=stored)


def _save(
    *,
    user: Any,
    embedding: np.ndarray,
    speech_s: float,
    model: SpeakerModelInfo,
    source: str,
    source_detail: str = "",
    sample_name: str = "",
    pitch_hz: float | None = None,
) -> tuple[VoiceProfile, bool]:
    """Create or replace the user's profile, in the caller's transaction; audited. The replaced
    profile's kept sample leaves storage after commit."""
    vector = np.asarray(embedding, dtype="<f4").reshape(-1)
    # The user's row is locked first, so two enrolments at once (two tabs) replace one another
    # in turn instead of both inserting.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    profile = VoiceProfile.objects.select_for_update().filter(user=user).first()
    created = profile is None
    if profile is None:
        profile = VoiceProfile(user=user)
    old_sample = profile.sample_file.name or ""
    profile.embedding = vector.tobytes()
    profile.speech_s = round(float(speech_s), 2)
    profile.pitch_hz = pitch_hz
    profile.model_name = f"{model.name} {model.version}"[:64]
    profile.model_revision = model.revision[:64]
    profile.source = source
    profile.source_detail = source_detail[:255]
    profile.sample_file.name = sample_name
    profile.consented_at = timezone.now()
    profile.full_clean(exclude=["user"])
    profile.save()
    if old_sample and old_sample != sample_name:
        _forget_file(old_sample)
    audit.record(
        AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        profile,
        detail=f"voice profile from {source}" + (" (sample kept)" if sample_name else ""),
        user=user,
    )
    return profile, created


def voice_profile_enrol(*, user: Any, file: Any, consent: bool, keep_sample: bool = False) -> VoiceProfile:
    """Enrol `user` from a sample of their own voice (any format the upload accepts, at most
    SAMPLE_MAX_S long, at least MIN_ENROL_SPEECH_S of speech). Replaces an earlier profile. The
    audio is kept only with `keep_sample`, under a server-made name; otherwise nothing of it is
    stored. Raises ValidationError (nothing changed) for missing consent or a sample that cannot
    make a profile, VoiceProfileUnavailable when the speaker model is not installed."""
    if not consent:
        raise ValidationError({"consent": CONSENT_MESSAGE}, code="consent")
    encoder = _encoder()
    # The slow part (decoding, speech detection, the encoder) runs before the transaction opens.
    enrolment, sample = _read_sample(file, encoder)
    try:
        name = f"{SAMPLE_FOLDER}/{uuid.uuid4().hex}.{sample.ext}" if keep_sample else ""
        with transaction.atomic():
            profile, _ = _save(
                user=user,
                embedding=enrolment.embedding,
                speech_s=enrolment.speech_s,
                pitch_hz=enrolment.pitch_hz,
                model=enrolment.model,
                source=VoiceProfile.Source.SAMPLE,
                source_detail=f"sample sha256:{sample.sha256[:16]}",
                sample_name=name,
            )
            if keep_sample:
                # Registered last: the bytes reach storage only if the row commits.
                transaction.on_commit(lambda: _store_sample(user.pk, name, sample.tmp))
    except BaseException:
        sample.tmp.close()
        raise
    if not keep_sample:
        sample.tmp.close()
    return profile


def voice_profile_from_analysis(
    *, user: Any, analysis: EmotionAnalysis, voice: str, consent: bool
) -> VoiceProfile:
    """Enrol `user` from one voice ("A" or "B") of an analysed "patient only (voice)" session: the
    voice's centre stored with the analysis, made by the speaker model this server runs now.
    Only the analysis's owner may; replaces an earlier profile (and its kept sample)."""
    if not consent:
        raise ValidationError({"consent": CONSENT_MESSAGE}, code="consent")
    if not EmotionAnalysis.objects.for_user(user).filter(pk=analysis.pk).exists():
        raise Http404(gettext("No such analysis."))
    if voice not in VOICES:
        raise ValidationError({"voice": gettext("Choose voice A or B.")})
    speakers = analysis.speakers or {}
    centre = (speakers.get("centres") or {}).get(voice)
    if not centre:
        raise ValidationError(
            {
                "analysis": gettext(
                    "This analysis has no speaker voices to enrol from; it was not analysed as "
                    "“patient only (voice)”."
                )
            }
        )
    vector = np.asarray(centre, dtype=np.float64).reshape(-1)
    if vector.size != EMBEDDING_DIM or not np.isfinite(vector).all() or np.linalg.norm(vector) == 0:
        raise ValidationError(
            {"analysis": gettext("This analysis's speaker voices are not stored in a usable form.")}
        )
    encoder = _encoder()
    revision = (speakers.get("model") or {}).get("revision", "")
    if revision != encoder.info.revision:
        raise ValidationError(
            {
                "analysis": gettext(
                    "This analysis was made with another speaker model (%(revision)s) than this server "
                    "runs now (%(current)s); voice prints of different models cannot be compared. "
                    "Analyse the session again, or record a sample instead."
                )
                % {"revision": revision or gettext("unknown"), "current": encoder.info.revision}
            },
            code="model_mismatch",
        )
    seconds = float((speakers.get("seconds") or {}).get(f"voice_{voice}") or 0.0)
    if seconds < MIN_ENROL_SPEECH_S:
        raise ValidationError(
            {
                "voice": gettext(
                    "Voice %(voice)s speaks for only %(seconds)s s in this session; a voice profile "
                    "needs at least %(min)s s. Nothing was saved."
                )
                % {"voice": voice, "seconds": f"{seconds:.0f}", "min": f"{MIN_ENROL_SPEECH_S:.0f}"}
            },
            code="too_little_speech",
        )
    with transaction.atomic():
        profile, _ = _save(
            user=user,
            embedding=(vector / np.linalg.norm(vector)).astype("<f4"),
            speech_s=seconds,
            pitch_hz=(speakers.get("pitch_hz") or {}).get(voice),
            model=encoder.info,
            source=VoiceProfile.Source.SESSION,
            source_detail=f"analysis {analysis.pk}, voice {voice}",
        )
    return profile


@transaction.atomic
def voice_profile_delete(*, user: Any) -> bool:
    """Remove the user's profile and, after commit, its kept sample. False when there was none."""
    profile = VoiceProfile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        return False
    sample = profile.sample_file.name or ""
    audit.record(AuditEvent.Action.DELETE, profile, detail="voice profile", user=user)
    profile.delete()
    _forget_file(sample)
    return True
