""" "Patient only (voice)" in the app: the therapist's voice profile a recording is analysed with,
what an analysis stores of who spoke (`EmotionAnalysis.speakers`), who spoke as the
session page shows it (`speakers_view`), and naming the two voices of an analysis made without a
profile (or correcting the naming) from what it stored, without running the emotion model again."""

from __future__ import annotations

import json
import logging
import posixpath
import tempfile
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit import services as audit
from audit.models import AuditEvent
from ser.engine import voice as voice_measures
from ser.engine.audio import AudioError
from ser.engine.labels import EMOTIONS
from ser.engine.messages import gettext_noop, render, said
from ser.engine.pipeline import SpeakerSetup, aggregate, voice_of_processed
from ser.engine.speakers import (
    PATIENT,
    SPEAKERS,
    THERAPIST,
    UNCERTAIN,
    VOICES,
    Attribution,
    SpeakerEncoder,
    document,
    name_speakers,
    unsure_of,
)
from sessions.models import Recording
from sessions.storage import local_copy

from . import runtime
from .models import EmotionAnalysis, VoiceProfile

log = logging.getLogger(__name__)

VOICE_ROW = [None, None, None, None]  # a segment's voice measures where it is not the patient's


def profile_of(recording: Recording) -> VoiceProfile | None:
    """The voice profile of the therapist who owns the recording's patient, if they enrolled."""
    return VoiceProfile.objects.filter(user_id=recording.session.patient.owner_id).first()


def speaker_setup(recording: Recording) -> tuple[SpeakerSetup, VoiceProfile | None, list[dict[str, Any]]]:
    """What the pipeline needs for a "voice" recording: the process's speaker encoder (loaded on
    the first voice recording a worker process analyses, as the emotion model is on its first
    task: see ser/tasks.py) and the owner's profile, when it was made with this same speaker model
    (embeddings of another model are not comparable); notes (stored messages, {"msgid", "params"})
    say why a profile was not used.
    Raises SpeakerModelUnavailableError."""
    encoder: SpeakerEncoder = runtime.get_speaker_encoder()
    profile = profile_of(recording)
    notes: list[dict[str, Any]] = []
    if profile is not None and profile.model_revision != encoder.info.revision:
        notes.append(
            said(
                gettext_noop(
                    "The therapist's voice profile was made with another speaker model (%(model)s, "
                    "%(revision)s); it was not used. Enrol again to use it."
                ),
                model=profile.model_name,
                revision=profile.model_revision,
            )
        )
        profile = None
    embedding = profile.embedding_array() if profile is not None else None
    pitch = profile.pitch_hz if profile is not None else None
    return SpeakerSetup(encoder, embedding, pitch), profile, notes


def _profile_words(profile: VoiceProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "user": profile.user_id,
        "updated_at": profile.updated_at.isoformat(),
        "speech_s": profile.speech_s,
    }


def stored_speakers(att: Attribution, profile: VoiceProfile | None) -> dict[str, Any]:
    """`EmotionAnalysis.speakers` of a fresh attribution (see the field's comment for the shape)."""
    doc = document(att)
    doc["segments"] = [
        [speaker, voice, sim, margin]
        for speaker, voice, sim, margin in zip(
            att.speakers, att.voices, att.similarity, att.margin, strict=True
        )
    ]
    doc["centres"] = att.centres
    doc["profile"] = _profile_words(profile)
    return doc


def spread_voice_rows(voice: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """The voice measures' per-segment rows, which cover the patient's segments only, spread back
    over all the analysis's segments (empty rows for the others), so they stay parallel to them."""
    rows = voice.get("segments") or []
    keep = [s == PATIENT for s in labels]
    if not rows or len(rows) != sum(keep) or len(rows) == len(labels):
        return voice
    it = iter(rows)
    return {**voice, "segments": [next(it) if k else list(VOICE_ROW) for k in keep]}


# --- the session page -------------------------------------------------------------------------


class SpeakersNotNameable(ValidationError):
    """The analysis has no voices to name, or the naming leaves no patient speech."""


def _replace(name: str, content: bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def speakers_name(*, analysis: EmotionAnalysis, therapist_voice: str, actor: Any) -> EmotionAnalysis:
    """Say which voice of a "patient only (voice)" analysis is the therapist's ("A" or "B"; ""
    when neither is), or correct an earlier naming ("that was not me"): the labels, the scores,
    embedding, dominant class, confidence and speech seconds over the patient's segments, and the
    voice measures of the patient's speech are computed again from what the analysis stored (its
    segment scores, segments.npz and processed audio), without the emotion model; embedding.npy,
    voice.npz and result.json are rewritten, the row saved in one transaction and audited.
    Raises SpeakersNotNameable (nothing changed) for an analysis without voices or a naming that
    leaves the patient no speech."""
    speakers = dict(analysis.speakers or {})
    stored = speakers.get("segments") or []
    if analysis.channel != Recording.Channel.VOICE or len(stored) != len(analysis.segments) or not stored:
        raise SpeakersNotNameable(
            gettext("This analysis was not made 'patient only (voice)': there are no voices to name.")
        )
    if therapist_voice not in ("", *VOICES):
        raise SpeakersNotNameable({"therapist_voice": gettext("Choose A, B, or neither (empty).")})
    bounds = [(float(row[0]), float(row[1])) for row in analysis.segments]
    voices = [str(row[1]) for row in stored]
    margins = [float(row[3]) for row in stored]
    labels = name_speakers(voices, unsure_of(margins, bounds), therapist_voice)
    keep = np.array([s == PATIENT for s in labels])
    if not keep.any():
        raise SpeakersNotNameable(
            gettext(
                "With voice %(voice)s as yours, no speech is left that is the patient's "
                "(the rest is too short or too unclear to tell); nothing was changed."
            )
            % {"voice": therapist_voice}
        )
    if not analysis.segment_embeddings_file:
        raise SpeakersNotNameable(
            gettext("The segment embeddings of this analysis were not kept; analyse it again.")
        )
    with analysis.segment_embeddings_file.open("rb") as f, np.load(f) as npz:
        embeddings = npz["embeddings"].astype(np.float32)
    probs = np.array([row[2:] for row in analysis.segments], dtype=np.float64)
    durations = np.array([b - a for a, b in bounds])
    scores, embedding, analysed_s = aggregate(probs, embeddings, durations, keep)

    voice = analysis.voice
    voice_file = analysis.voice_file.name if analysis.voice_file else ""
    voice_doc: dict[str, Any] | None = None
    result = None
    if analysis.voice:  # measured before (SER_VOICE on): measure the patient's speech now
        result, reason = _patient_voice(analysis, bounds, keep)
        if result is not None:
            voice = spread_voice_rows(result.to_json(), labels)
            voice_doc = voice_measures.document(result)
        else:
            voice, voice_doc = voice_measures.unavailable(reason), {"error": render(reason)}

    seconds = {
        s: round(sum(b - a for (a, b), x in zip(bounds, labels, strict=True) if x == s), 2) for s in SPEAKERS
    }
    speakers.update(
        named=True,
        therapist_voice=therapist_voice or None,
        seconds={**(speakers.get("seconds") or {}), **seconds},
        segments=[[x, *row[1:]] for x, row in zip(labels, stored, strict=True)],
        named_at=timezone.now().isoformat(timespec="seconds"),
    )

    # Files first (as voice_recompute does): the row below points at the same names.
    base = posixpath.dirname(str(analysis.result_file.name or analysis.segment_embeddings_file.name))
    emb = np.ascontiguousarray(embedding, dtype="<f4")
    if analysis.embedding_file and analysis.granularity != "frame":
        _replace(str(analysis.embedding_file.name), _npy(emb))
    if result is not None:
        voice_file = _replace(f"{base}/voice.npz", voice_measures.npz_bytes(result))
    elif analysis.voice:
        voice_file = ""  # the old contours were of all speech
    top = int(np.argmax(scores))
    if analysis.result_file:
        with analysis.result_file.open("rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        doc.update(
            emotion=EMOTIONS[top],
            confidence=round(float(scores[top]), 6),
            scores={e: round(float(p), 6) for e, p in zip(EMOTIONS, scores, strict=True)},
            speech_s=round(analysed_s, 3),
        )
        for seg, label in zip(doc.get("segments") or [], labels, strict=False):
            seg["speaker"] = label
        doc["speakers"] = {k: v for k, v in speakers.items() if k not in ("segments", "centres", "profile")}
        if voice_doc is not None:
            doc["voice"] = voice_doc
        _replace(
            str(analysis.result_file.name), json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
        )

    with transaction.atomic():
        analysis.scores = [float(p) for p in scores]
        analysis.dominant_emotion = EMOTIONS[top]
        analysis.confidence = float(scores[top])
        analysis.embedding = emb.tobytes()
        analysis.analysed_s = analysed_s
        analysis.voice = voice
        analysis.voice_file.name = voice_file
        analysis.speakers = speakers
        analysis.full_clean(validate_unique=False)
        analysis.save()
        audit.record(
            AuditEvent.Action.UPDATE,
            analysis,
            user=actor,
            detail=f"speakers named: therapist {therapist_voice or 'neither voice'}; "
            f"{seconds[PATIENT]:.0f} s patient, {seconds[THERAPIST]:.0f} s therapist, "
            f"{seconds[UNCERTAIN]:.0f} s uncertain",
        )
    return analysis


def _patient_voice(
    analysis: EmotionAnalysis, bounds: list[tuple[float, float]], keep: np.ndarray
) -> tuple[Any, dict[str, Any]]:
    """The voice measures of the patient's segments from the stored processed audio (the other
    segments make the gaps they fall in turns, not pauses), or None and why not (a stored
    message, {"msgid", "params"})."""
    if not analysis.audio_file:
        return None, said(
            gettext_noop("The processed audio was not kept, so the patient's voice could not be measured.")
        )
    patient = [b for b, k in zip(bounds, keep, strict=True) if k]
    others = [b for b, k in zip(bounds, keep, strict=True) if not k]
    with tempfile.TemporaryDirectory(prefix="ser-speakers-") as tmp:
        try:
            with local_copy(analysis.audio_file, folder=tmp) as stored:
                return (
                    voice_of_processed(
                        stored.path,
                        patient,
                        runtime.vad_config(),
                        settings.SER_VOICE_MAX_PAUSE_S,
                        others=others,
                    ),
                    {},
                )
        except FileNotFoundError:
            return None, said(gettext_noop("The processed audio file is missing from storage."))
        except (AudioError, ValueError) as exc:
            error = exc.stored() if isinstance(exc, AudioError) else str(exc)
            return None, said(gettext_noop("The processed audio could not be read (%(error)s)."), error=error)
        except Exception as exc:  # noqa: BLE001 - as in the pipeline: the measures never cost the scores
            log.warning("voice measures of analysis %s failed: %s", analysis.pk, type(exc).__name__)
            return None, said(
                gettext_noop("The voice measures could not be computed (%(error)s: %(detail)s)."),
                error=type(exc).__name__,
                detail=str(exc),
            )
