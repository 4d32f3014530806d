"""Writes for sessions and recordings.

A new recording's bytes reach storage only when the transaction that created its row commits (a
rolled-back upload leaves no file), and `signals.recording_stored` tells the layers above that it
exists (the analysis app queues it); this app never imports them."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditEvent
from patients.models import Patient
from ser.engine.audio import AudioError, AudioInfo, probe, verify_decodes
from ser.engine.messages import render

from .models import Recording, TherapySession, recording_upload_to
from .signals import recording_stored

log = logging.getLogger(__name__)

# Extensions for stored names come from the detected container, never from the upload's name.
_FORMAT_EXT = {
    "WAV": "wav",
    "WAVEX": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "AIFF": "aiff",
    "RF64": "wav",
    "W64": "w64",
    "CAF": "caf",
    "MOV": "m4a",
    "MATROSKA": "webm",
}


class UploadTooLarge(ValidationError):
    """The upload exceeds SER_MAX_UPLOAD_BYTES (HTTP 413)."""


class DuplicateRecording(ValidationError):
    """The same audio (same SHA-256) is already a recording of this session (HTTP 409)."""


@transaction.atomic
def session_create(
    *, patient: Patient, started_at: datetime, number: int | None = None, notes: str = ""
) -> TherapySession:
    if number is None:
        # Lock the patient row so two concurrent creates cannot take the same number.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        last = patient.sessions.aggregate(m=Max("number"))["m"] or 0
        number = last + 1
    session = TherapySession(patient=patient, started_at=started_at, number=number, notes=notes)
    _validate(session)
    session.save()
    audit.record(AuditEvent.Action.CREATE, session)
    return session


def _validate(session: TherapySession) -> None:
    """full_clean, with the clashes a therapist makes most said in words first."""
    patient = session.patient
    errors: dict[str, str] = {}  # all of them at once, so a form shows every field to correct
    if patient.date_of_birth and timezone.localdate(session.started_at) < patient.date_of_birth:
        errors["started_at"] = _("The session date is before the patient's date of birth.")
    if patient.sessions.filter(number=session.number).exclude(pk=session.pk).exists():
        errors["number"] = _("This patient already has a session number %(number)s.") % {
            "number": session.number
        }
    if errors:
        raise ValidationError(errors)
    session.full_clean()


@transaction.atomic
def session_update(
    *,
    session: TherapySession,
    started_at: datetime | None = None,
    number: int | None = None,
    notes: str | None = None,
) -> TherapySession:
    """Correct a session's date, number or notes (its recordings and analyses stay)."""
    changed = []
    for name, value in (("started_at", started_at), ("number", number), ("notes", notes)):
        if value is not None:
            setattr(session, name, value)
            changed.append(name)
    _validate(session)
    session.save()
    audit.record(AuditEvent.Action.UPDATE, session, detail="changed: " + ", ".join(changed))
    return session


def spool_upload(
    upload: IO[bytes] | Any, limit: int, *, prefix: str = "upload-"
) -> tuple[IO[bytes], str, int]:
    """Copy the upload to a private temp file, hashing as we go; stop at the size limit
    (UploadTooLarge). Returns the file (the caller closes it), its SHA-256 and its size."""
    h = hashlib.sha256()
    size = 0
    tmp = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".audio")  # noqa: SIM115
    chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            tmp.close()
            raise UploadTooLarge(
                _("The file is larger than the %(limit)s MB limit.")
                % {"limit": f"{limit / 1024 / 1024:.0f}"},
                code="too_large",
            )
        h.update(chunk)
        tmp.write(chunk)
    tmp.flush()
    tmp.seek(0)
    return tmp, h.hexdigest(), size


def recording_create(
    *,
    session: TherapySession,
    upload: Any,
    consent_confirmed: bool,
    uploaded_by: Any,
    channel: str = Recording.Channel.MIX,
    granularity: str = Recording.Granularity.UTTERANCE,
) -> Recording:
    """Validate the audio by its content, store it under a server-made name and queue its analysis.

    Raises ValidationError (nothing stored, nothing queued) for missing consent, an unknown
    channel, an empty, oversized or undecodable file, or audio this session already has.
    """
    if not consent_confirmed:
        raise ValidationError(
            {"consent_confirmed": _("Confirm that the patient consented to this recording being analysed.")}
        )
    if channel not in Recording.Channel.values:
        raise ValidationError(
            {"channel": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Recording.Channel.values)}}
        )
    if granularity not in Recording.Granularity.values:
        raise ValidationError({"granularity": _("Choose utterance or frame.")})
    tmp, digest, size = spool_upload(upload, settings.SER_MAX_UPLOAD_BYTES)
    try:
        if size == 0:
            raise ValidationError({"file": _("The file is empty.")}, code="empty")
        same = session.recordings.filter(sha256=digest).first()
        if same is not None:
            when = date_format(timezone.localtime(same.created_at), "SHORT_DATETIME_FORMAT")
            raise DuplicateRecording(
                {
                    "file": _(
                        "This recording is already in this session (the same audio was uploaded "
                        "%(when)s as “%(name)s”); it was not added again."
                    )
                    % {"when": when, "name": same.original_name or _("a recording")}
                },
                code="duplicate",
            )
        try:
            info: AudioInfo = probe(tmp.name, max_duration_s=settings.SER_MAX_DURATION_S)
            verify_decodes(tmp.name, info)
        except AudioError as exc:
            # The engine's words, in the language of whoever sent the file.
            raise ValidationError({"file": render(exc.stored(), _)}, code="invalid_audio") from exc
        if channel == Recording.Channel.RIGHT and info.channels < 2:
            raise ValidationError({"channel": _("The recording has one channel; choose mix or left.")})
        original = _original_name(upload)
        ext = _FORMAT_EXT.get(info.format) or _FORMAT_EXT.get(info.format.split("/")[0], "audio")
        recording = Recording(
            id=uuid.uuid4(),
            session=session,
            original_name=original,
            sha256=digest,
            size_bytes=size,
            duration_s=info.duration_s,
            sample_rate=info.sample_rate,
            channels=info.channels,
            audio_format=info.format,
            channel=channel,
            granularity=granularity,
            consent_confirmed=True,
            uploaded_by=uploaded_by,
        )
        recording.file.name = recording_upload_to(recording, f"{recording.id.hex}.{ext}")
        with transaction.atomic():
            recording.full_clean()
            recording.save()
            # Registered before the signal, so the bytes are in storage before anyone is told.
            transaction.on_commit(lambda: _store_upload(recording, tmp))
            audit.record(AuditEvent.Action.CREATE, recording, detail="upload")
            recording_stored.send(sender=Recording, recording=recording)
        return recording
    except BaseException:
        tmp.close()
        raise


def _store_upload(recording: Recording, tmp: IO[bytes]) -> None:
    """After commit: the spooled upload into storage under the row's server-made name. On a
    rollback this never runs and the spool file is deleted when its last reference goes."""
    try:
        tmp.seek(0)
        stored = default_storage.save(recording.file.name, File(tmp))
    finally:
        tmp.close()
    if stored != recording.file.name:  # the storage picked another free name: keep the row true
        Recording.objects.filter(pk=recording.pk).update(file=stored)
        recording.file.name = stored
        log.warning("recording %s stored as %s", recording.pk, stored)


def _original_name(upload: Any) -> str:
    """The uploaded name, kept only as metadata: no path parts, no control characters, capped."""
    raw = str(getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in raw if ch.isprintable())
    return get_valid_filename(printable)[:255] if printable.strip(" ._") else ""


# Deleting. The rows go by the models' CASCADEs (session → recordings → their analysis job and
# analyses); every stored file goes after the transaction commits, removed by the post_delete
# receivers of the app that owns it (`sessions/receivers.py` for the audio, `ser/receivers.py` for
# the analysis files), so a delete that rolls back leaves rows and files as they were. The log
# line names ids and counts only, never PHI.


def _deleted_by(actor: Any) -> str:
    return str(getattr(actor, "pk", None) or "-")


@transaction.atomic
def session_delete(*, session: TherapySession, actor: Any = None) -> dict[str, int]:
    """Delete a session with its recordings, their analyses and every stored file. If the session
    was one of the patient's chosen baseline sessions it leaves that choice too; the trends then
    fall back as they do for a chosen session without an analysis. Returns rows deleted per model."""
    pk, patient_id = session.pk, session.patient_id
    _deleted, counts = session.delete()
    log.info("session %s of patient %s deleted by user %s: %s", pk, patient_id, _deleted_by(actor), counts)
    return counts


@transaction.atomic
def recording_delete(*, recording: Recording, actor: Any = None) -> dict[str, int]:
    """Delete a recording, its analysis job and analyses, and every stored file (the audio and
    the five analysis files). Returns rows deleted per model."""
    pk, session_id = recording.pk, recording.session_id
    _deleted, counts = recording.delete()
    log.info("recording %s of session %s deleted by user %s: %s", pk, session_id, _deleted_by(actor), counts)
    return counts


@transaction.atomic
def recording_consent_withdraw(*, recording: Recording, actor: Any = None) -> dict[str, int]:
    """The patient withdrew consent for this recording: it is deleted with everything derived from
    it, rows and files, exactly as `recording_delete` does.

    Why a delete and not a flag: a Recording exists only with consent (the
    `recording_requires_consent` constraint), and without consent neither the voice nor anything
    derived from it may be kept. What remains is this log line, which records that the deletion
    happened because consent was withdrawn, by whom and when (ids only)."""
    log.info(
        "consent withdrawn for recording %s of session %s by user %s; deleting it with everything derived",
        recording.pk,
        recording.session_id,
        _deleted_by(actor),
    )
    return recording_delete(recording=recording, actor=actor)
