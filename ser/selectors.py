"""Reads of the analysis app: a session's recordings with their job (and, while queued or running,
its queue estimate from ser/estimates.py) and the analysis to show (its nine scores, its segments,
the moments to review, its voice measures), and an analysis's downloadable files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy

from patients.models import Patient
from ser.emotions import emotion_name
from ser.engine.labels import EMOTIONS
from ser.engine.messages import render
from ser.engine.speakers import PATIENT, THERAPIST, UNCERTAIN, VOICES
from ser.engine.voice import MEASURES
from sessions.models import Recording, TherapySession
from sessions.storage import open_stored

from .estimates import QueueEstimate, queue_estimates
from .models import DOWNLOADS, AnalysisJob, EmotionAnalysis

_TYPES = {
    ".json": "application/json",
    ".npy": "application/octet-stream",
    ".wav": "audio/wav",
    ".npz": "application/octet-stream",
}


# The classes whose share makes a segment one to listen to again (decision support: "for review").
DISTRESS = ("sad", "fearful", "angry")
MIN_MOMENT_S = 1.0  # shorter segments are too short to judge by ear


def message_words(message: Any) -> str:
    """A message the engine or a worker stored, in the active language (the request's): a stored
    message (`{"msgid", "params"}`) rendered, plain English words translated when the catalogue
    has them (else as they are)."""
    if isinstance(message, dict) and message.get("msgid"):
        return render(message, gettext)
    return gettext(message) if isinstance(message, str) and message else str(message or "")


def text_words(text: Any, stored: Any = None) -> str:
    """English words kept with their stored message (`stored`; rows made before messages were
    stored have none) in the active language: the message when it is the same words (an edited
    row's stale message is not), else the words themselves."""
    if isinstance(stored, dict) and stored.get("msgid") and (not text or render(stored) == text):
        return render(stored, gettext)
    return message_words(text)


def messages_words(texts: list[Any], stored: Any) -> list[str]:
    """Notes kept in English (`texts`) with their stored messages beside them (`stored`, parallel),
    each in the active language."""
    if not isinstance(stored, list) or len(stored) != len(texts):
        stored = [None] * len(texts)
    return [text_words(t, m) for t, m in zip(texts, stored, strict=True)]


# An analysis's channel and granularity, as the session page says them (the keys are the API's).
CHANNEL_WORDS = {
    "mix": pgettext_lazy("channel", "mix"),
    "left": pgettext_lazy("channel", "left"),
    "right": pgettext_lazy("channel", "right"),
    "voice": pgettext_lazy("channel", "voice"),
}
GRANULARITY_WORDS = {
    "utterance": pgettext_lazy("granularity", "utterance"),
    "frame": pgettext_lazy("granularity", "frame"),
}

# Who spoke a segment, as the session page says it.
SPEAKER_WORDS = {
    PATIENT: pgettext_lazy("speaker", "patient"),
    THERAPIST: pgettext_lazy("speaker", "therapist"),
    UNCERTAIN: pgettext_lazy("speaker", "uncertain"),
}


def clock(seconds: float) -> str:
    """12.3 → "0:12"; 3725 → "1:02:05"."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class ScoreRow:
    emotion: str
    share: float  # 0–1
    dominant: bool

    @property
    def percent(self) -> float:
        return 100 * self.share


def score_rows(scores: Any) -> list[ScoreRow]:
    """The nine scores in the model's order, the dominant one marked."""
    values = [float(v) for v in scores]
    top = int(np.argmax(values))
    return [ScoreRow(e, v, i == top) for i, (e, v) in enumerate(zip(EMOTIONS, values, strict=True))]


@dataclass(frozen=True)
class SegmentRow:
    """One speech segment of an analysis's timeline."""

    number: int  # 1-based, in time order
    start_s: float
    end_s: float
    scores: list[ScoreRow]
    # The segment's voice measures, when the analysis has them: median pitch (Hz), median loudness
    # (dB), voiced share (%), syllable nuclei; a value it could not measure is None.
    voice: tuple[float | None, float | None, float | None, int | None] | None = None
    # "Patient only (voice)": patient / therapist / uncertain ("" while the voices are not named),
    # the voice ("A"/"B") it is nearer to, and its similarity to the therapist's profile.
    speaker: str | None = None
    speaker_voice: str = ""
    similarity: float | None = None

    @property
    def speaker_words(self) -> str:
        """ "patient", "therapist", "uncertain", or "voice A" before the voices are named."""
        if self.speaker is None:
            return ""
        if self.speaker:
            return str(SPEAKER_WORDS.get(self.speaker, self.speaker))
        return gettext("voice %(voice)s") % {"voice": self.speaker_voice}

    @property
    def span(self) -> str:
        return f"{clock(self.start_s)}–{clock(self.end_s)}"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def dominant(self) -> ScoreRow:
        return next(r for r in self.scores if r.dominant)

    @property
    def distress(self) -> float:
        return sum(r.share for r in self.scores if r.emotion in DISTRESS)


def segment_rows(analysis: EmotionAnalysis) -> list[SegmentRow]:
    voice = (analysis.voice or {}).get("segments") or []
    if len(voice) != len(analysis.segments):
        voice = [None] * len(analysis.segments)
    who = (analysis.speakers or {}).get("segments") or []
    if len(who) != len(analysis.segments):
        who = [None] * len(analysis.segments)
    return [
        SegmentRow(
            i + 1,
            float(row[0]),
            float(row[1]),
            score_rows(row[2:]),
            None if v is None else (v[0], v[1], v[2], None if v[3] is None else int(v[3])),
            *(() if w is None else (str(w[0] or ""), str(w[1]), w[2])),
        )
        for i, (row, v, w) in enumerate(zip(analysis.segments, voice, who, strict=True))
    ]


@dataclass(frozen=True)
class Moment:
    """A segment worth listening to again, and why: its sad + fearful + angry share is among the
    session's highest, and/or its scores are among the furthest from the patient's baseline."""

    segment: SegmentRow
    high_distress: bool
    change: float | None  # share of the nine moved from the baseline profile (0–1), if ranked by it
    shifts: list[tuple[str, float]]  # the classes that moved most, in share points (signed)

    @property
    def distress_shares(self) -> list[ScoreRow]:
        return [r for r in self.segment.scores if r.emotion in DISTRESS]

    @property
    def distress_percent(self) -> float:
        return 100 * self.segment.distress

    @property
    def change_percent(self) -> float | None:
        return None if self.change is None else 100 * self.change

    @property
    def shift_words(self) -> str:
        """ "sad +22, neutral −18": the classes that moved most, in share points."""
        return pgettext("separator", ", ").join(
            f"{emotion_name(name)} {'+' if p >= 0 else '−'}{abs(p):.0f}" for name, p in self.shifts
        )


@dataclass(frozen=True)
class Moments:
    items: list[Moment]
    baseline_sessions: list[int]  # the baseline's session numbers; empty when not compared
    note: str = ""  # why no segment was compared with a baseline

    @property
    def baseline_words(self) -> str:
        nums = ", ".join(map(str, self.baseline_sessions))
        return ngettext("session %(numbers)s", "sessions %(numbers)s", len(self.baseline_sessions)) % {
            "numbers": nums
        }


def done_analyses(*, patient: Patient, variant: str) -> QuerySet[EmotionAnalysis]:
    """The patient's finished analyses in one model variant, in session order (date, number), with
    their session: what trends, drift and baselines are computed from. A "patient only (voice)"
    analysis whose voices are not named yet is left out: its scores are over the therapist's
    speech too. (Containment, not `speakers__named=False`: under NOT, a key lookup on the other
    analyses' empty {} is NULL and would leave them out as well.)"""
    return (
        EmotionAnalysis.objects.filter(
            recording__session__patient=patient,
            model_variant=variant,
            recording__job__status=AnalysisJob.Status.DONE,
        )
        .exclude(speakers__contains={"named": False})
        .select_related("recording__session")
        .order_by("recording__session__started_at", "recording__session__number", "created_at")
    )


def baseline_profile(*, patient: Patient, variant: str) -> tuple[np.ndarray | None, list[int]]:
    """The patient's baseline score profile in one model variant: the speech-weighted mean scores
    of the baseline sessions' analyses (the patient's baseline choice: the first N analysed
    sessions, one session or a set; a choice with no analysis in this variant falls back to the
    first session, as the dashboard's drift does), and those sessions' numbers."""
    analyses = list(
        done_analyses(patient=patient, variant=variant).only(
            "scores", "analysed_s", "recording__session__id", "recording__session__number"
        )
    )
    sessions = list(dict.fromkeys(a.recording.session.id for a in analyses))
    if not sessions:
        return None, []
    if patient.baseline_mode == Patient.Baseline.FIRST_N:
        chosen = set(sessions[: max(1, patient.baseline_n)])
    else:
        chosen = set(patient.baseline_sessions.values_list("id", flat=True)) & set(sessions)
        chosen = chosen or {sessions[0]}
    group = [a for a in analyses if a.recording.session.id in chosen]
    weights = np.array([max(a.analysed_s, 1e-6) for a in group])
    profile = np.average(np.array([a.scores for a in group], dtype=float), axis=0, weights=weights)
    numbers = sorted({a.recording.session.number for a in group})
    return profile, numbers


def moments_to_review(*, analysis: EmotionAnalysis, n: int | None = None) -> Moments:
    """The few segments (each ≥ 1 s) to listen to again: the `n` (MOMENTS_TO_REVIEW) with the
    highest sad + fearful + angry share, and the `n` furthest from the patient's baseline profile
    (half the sum of absolute score differences: the share of the nine that moved), merged and in
    time order. The baseline ranking is left out when the baseline is this session alone."""
    n = settings.MOMENTS_TO_REVIEW if n is None else n
    # "Patient only (voice)": the patient's segments only; none while the voices are not named.
    rows = [
        r for r in segment_rows(analysis) if r.duration_s >= MIN_MOMENT_S and r.speaker in (None, PATIENT)
    ]
    if n <= 0 or not rows:
        return Moments([], [])
    by_distress = {r.number for r in sorted(rows, key=lambda r: (-r.distress, r.start_s))[:n]}
    session = analysis.recording.session
    profile, numbers = baseline_profile(patient=session.patient, variant=analysis.model_variant)
    changes: dict[int, tuple[float, list[tuple[str, float]]]] = {}
    note = ""
    if profile is None:
        note = gettext(
            "No segment is compared with a baseline: the patient has no analysed session in this model."
        )
    elif numbers == [session.number]:
        note = gettext("No segment is compared with a baseline: this session is the patient's baseline.")
        numbers = []
    else:
        moved = {r.number: np.array([s.share for s in r.scores]) - profile for r in rows}
        ranked = sorted(rows, key=lambda r: (-float(np.abs(moved[r.number]).sum()), r.start_s))[:n]
        for r in ranked:
            diff = moved[r.number]
            top = np.argsort(-np.abs(diff))[:2]
            changes[r.number] = (
                float(np.abs(diff).sum() / 2),
                [(EMOTIONS[int(i)], float(100 * diff[i])) for i in top],
            )
    items = [
        Moment(
            segment=r,
            high_distress=r.number in by_distress,
            change=changes[r.number][0] if r.number in changes else None,
            shifts=changes[r.number][1] if r.number in changes else [],
        )
        for r in rows
        if r.number in by_distress or r.number in changes
    ]
    return Moments(items, numbers if changes else [], note)


@dataclass(frozen=True)
class VoiceRow:
    """One voice measure as the session page shows it: the value in the measure's unit and
    decimals, or (when it is empty) why."""

    key: str
    label: str
    group: str
    help: str
    value: float | None
    words: str  # "123.4 Hz", or the reason it is empty


@dataclass(frozen=True)
class VoiceView:
    """An analysis's voice measures for the session page (none: `rows` is empty)."""

    rows: list[VoiceRow]
    notes: list[str]
    provenance: str  # "Praat 6.1.38 via praat-parselmouth 0.4.7; pitch range 75–500 Hz; …"
    has_contours: bool


def _with_unit(value: float, decimals: int, unit: str) -> str:
    return f"{value:.{decimals}f} {unit}"


def provenance_words(provenance: dict[str, Any]) -> str:
    """ "Praat 6.1.38 via praat-parselmouth 0.4.7; pitch range 75–500 Hz; pauses 0.3–3 s (…)"
    (in the active language)."""
    if not provenance:
        return ""
    get = provenance.get
    parts = [
        gettext("Praat %(praat)s via %(library)s %(version)s")
        % {"praat": get("praat", "?"), "library": get("library", "?"), "version": get("version", "?")}
    ]
    if "pitch_floor_hz" in provenance and "pitch_ceiling_hz" in provenance:
        parts.append(
            gettext("pitch range %(floor)s–%(ceiling)s Hz")
            % {"floor": f"{provenance['pitch_floor_hz']:g}", "ceiling": f"{provenance['pitch_ceiling_hz']:g}"}
        )
    if "min_pause_s" in provenance:
        if provenance.get("max_pause_s"):
            parts.append(
                gettext("pauses %(min)s–%(max)s s (longer silences are breaks in the talk)")
                % {"min": f"{provenance['min_pause_s']:g}", "max": f"{provenance['max_pause_s']:g}"}
            )
        else:
            parts.append(gettext("pauses ≥ %(min)s s") % {"min": f"{provenance['min_pause_s']:g}"})
    if provenance.get("speaker_turns"):
        parts.append(
            gettext(
                "the patient's segments only; a silence with the other speaker in it is a turn, not a pause"
            )
        )
    return pgettext("separator", "; ").join(parts)


def voice_view(*, analysis: EmotionAnalysis) -> VoiceView:
    """The measures in ser.engine.voice.MEASURES order (a measure the analysis predates says so)."""
    voice = analysis.voice or {}
    if not voice:
        return VoiceView([], [], "", False)
    values = voice.get("values") or {}
    reasons = voice.get("reasons") or {}
    reason_messages = voice.get("reason_messages") or {}
    rows = []
    for m in MEASURES:
        value = values.get(m.key)
        if value is not None:
            words = _with_unit(float(value), m.decimals, m.unit)
        elif m.key in values:
            why = text_words(reasons.get(m.key), reason_messages.get(m.key))
            words = why or gettext("could not be computed on this recording")
        else:
            words = gettext("not measured in this analysis (it predates this measure)")
        rows.append(VoiceRow(m.key, gettext(m.label), m.group, gettext(m.help), value, words))
    return VoiceView(
        rows,
        messages_words(list(voice.get("notes") or []), voice.get("note_messages")),
        provenance_words(voice.get("provenance") or {}),
        bool(analysis.voice_file),
    )


@dataclass(frozen=True)
class RecordingView:
    """One recording as the session page shows it."""

    recording: Recording
    job: AnalysisJob
    analysis: EmotionAnalysis | None  # the most recent analysis, if any
    moments: Moments | None = None
    estimate: QueueEstimate | None = None  # while queued or running

    @property
    def downloads(self) -> list[str]:
        a = self.analysis
        return [n for n in DOWNLOADS if a is not None and n != "segments.npz" and a.has_artifact(n)]

    @property
    def scores(self) -> list[ScoreRow]:
        return score_rows(self.analysis.scores) if self.analysis is not None else []

    @property
    def threads(self) -> int | None:
        """The torch threads the model ran on, when the analysis recorded them."""
        value = (self.analysis.timings or {}).get("threads") if self.analysis is not None else None
        return round(value) if value else None

    @property
    def channel_words(self) -> str:
        key = self.analysis.channel if self.analysis is not None else ""
        return str(CHANNEL_WORDS.get(key, key))

    @property
    def granularity_words(self) -> str:
        key = self.analysis.granularity if self.analysis is not None else ""
        return str(GRANULARITY_WORDS.get(key, key))

    @property
    def segments(self) -> list[SegmentRow]:
        return segment_rows(self.analysis) if self.analysis is not None else []

    @property
    def voice(self) -> VoiceView | None:
        return voice_view(analysis=self.analysis) if self.analysis is not None else None

    @property
    def speakers(self) -> SpeakersView | None:
        a = self.analysis
        return speakers_view(analysis=a, segments=self.segments) if a is not None and a.speakers else None


def recordings_with_jobs(*, session: TherapySession) -> QuerySet[Recording]:
    return (
        session.recordings.order_by("created_at")
        .select_related("uploaded_by", "job")
        .prefetch_related("analyses")
    )


def session_recordings(*, session: TherapySession) -> list[RecordingView]:
    recordings = list(recordings_with_jobs(session=session))
    jobs = {r.pk: getattr(r, "job", None) or AnalysisJob(recording=r) for r in recordings}
    # The queued and running ones estimated together: the same few queries however many.
    estimates = queue_estimates(recording_ids=[pk for pk, job in jobs.items() if job.active])
    out = []
    for recording in recordings:
        job = jobs[recording.pk]
        analyses = list(recording.analyses.all())  # newest first (Meta.ordering)
        analysis = analyses[0] if analyses else None
        moments = moments_to_review(analysis=analysis) if analysis is not None else None
        estimate = estimates.get(recording.pk)
        if estimate is not None and estimate.status != job.status:
            estimate = None  # the job moved on between the two reads; the page's script catches up
        out.append(RecordingView(recording, job, analysis, moments, estimate))
    return out


@dataclass(frozen=True)
class Download:
    handle: IO[bytes]
    content_type: str
    filename: str
    as_attachment: bool


def analysis_download(*, analysis: EmotionAnalysis, name: str) -> Download | None:
    """The named file of an analysis, or None if it has no such file."""
    if name not in DOWNLOADS or not analysis.has_artifact(name):
        return None
    handle: IO[Any]
    if name == "embedding.npy" and analysis.granularity == "frame":
        # (T, D) frame embeddings, as the seed WebUI exports them, from the compressed track.
        with analysis.frames_file.open("rb") as f, zipfile.ZipFile(f) as z:
            frames = np.load(io.BytesIO(z.read("embeddings.npy"))).astype(np.float32)
        handle = io.BytesIO()
        np.save(handle, frames)
        handle.seek(0)
    else:
        handle = open_stored(getattr(analysis, DOWNLOADS[name]))
    return Download(
        handle=handle,
        content_type=_TYPES[name[name.rfind(".") :]],
        filename=f"session{analysis.recording.session.number}_{name}",
        as_attachment=name != "processed_audio.wav",
    )


@dataclass(frozen=True)
class VoiceChoice:
    """One of the two voices of an analysis whose voices are not named yet."""

    voice: str  # "A" or "B"
    seconds: float
    first: SegmentRow | None  # its first segment, to listen to


@dataclass(frozen=True)
class SpeakersView:
    """Who spoke, as the session page shows it ("patient only (voice)" analyses)."""

    named: bool
    method: str  # "profile" or "voices"
    therapist_voice: str  # "A", "B" or ""
    seconds: dict[str, float]  # patient, therapist, uncertain
    model: str  # "Resemblyzer voice encoder 0.1.4 (sha256:…)"
    took_s: float | None
    notes: list[str]
    voices: list[VoiceChoice]
    little_speech: bool  # named, and less patient speech than FLAG_MIN_SPEECH_S
    min_speech_s: float
    named_at: str

    @property
    def method_words(self) -> str:
        if self.method == "profile":
            return gettext("by similarity to the therapist's voice profile")
        return gettext("two voices told apart in the recording, named by the therapist")


def speakers_view(*, analysis: EmotionAnalysis, segments: list[SegmentRow]) -> SpeakersView | None:
    """Who spoke in `analysis`, for the session page; `segments` are its rows (ser.selectors)."""
    sp = analysis.speakers or {}
    if not sp:
        return None
    rows = segments
    seconds = sp.get("seconds") or {}
    model = sp.get("model") or {}
    named = bool(sp.get("named"))
    patient_s = float(seconds.get(PATIENT) or 0.0)
    voices = [
        VoiceChoice(
            v, float(seconds.get(f"voice_{v}") or 0.0), next((r for r in rows if r.speaker_voice == v), None)
        )
        for v in VOICES
    ]
    return SpeakersView(
        named=named,
        method=str(sp.get("method") or ""),
        therapist_voice=str(sp.get("therapist_voice") or ""),
        seconds={k: float(seconds.get(k) or 0.0) for k in (PATIENT, THERAPIST, UNCERTAIN)},
        model=f"{model.get('name', '?')} {model.get('version', '?')} ({model.get('revision', '?')})",
        took_s=(analysis.timings or {}).get("speakers_s"),
        notes=messages_words(list(sp.get("notes") or []), sp.get("note_messages")),
        voices=[v for v in voices if v.seconds > 0],
        little_speech=named and patient_s < settings.FLAG_MIN_SPEECH_S,
        min_speech_s=settings.FLAG_MIN_SPEECH_S,
        named_at=str(sp.get("named_at") or ""),
    )
