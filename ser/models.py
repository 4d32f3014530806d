"""The analysis app's rows: AnalysisJob (a recording's analysis state: queued, running, done,
failed, with progress and the reason in words) and EmotionAnalysis (one recording's scores,
embedding and the provenance of the model that made them)."""

from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from patients.models import OwnedQuerySet
from ser.emotions import EMOTION_NAMES
from ser.engine.labels import EMOTIONS
from ser.engine.messages import render
from ser.engine.pipeline import ANALYSING, DETECTING_SPEECH

# Downloadable files of an analysis: name → the field holding it (embedding.npy at frame
# granularity is built from the compressed frame track).
DOWNLOADS = {
    "result.json": "result_file",
    "embedding.npy": "embedding_file",
    "processed_audio.wav": "audio_file",
    "frames.npz": "frames_file",
    "segments.npz": "segment_embeddings_file",
    "voice.npz": "voice_file",
}


class AnalysisJobQuerySet(OwnedQuerySet["AnalysisJob"]):
    owner_path = "recording__session__patient__owner"


class AnalysisJob(models.Model):
    """One per recording: created with it (in the same transaction), updated by the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Analysing")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

    class Stage(models.TextChoices):
        """Where a job stands; a failed job keeps the stage it failed in."""

        QUEUED = "queued", gettext_lazy("Queued")
        DECODING = "decoding", gettext_lazy("Opening the audio")
        DETECTING_SPEECH = DETECTING_SPEECH, gettext_lazy("Detecting speech")
        ANALYSING = ANALYSING, gettext_lazy("Analysing segments")
        SAVING = "saving", gettext_lazy("Saving the results")
        FINISHED = "finished", gettext_lazy("Finished")

    recording = models.OneToOneField(
        "therapy_sessions.Recording", on_delete=models.CASCADE, primary_key=True, related_name="job"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(
        default=0,
        help_text=gettext_lazy(
            "Percent of the current stage done: of the audio searched for speech while detecting "
            "speech, of the speech segments while analysing."
        ),
    )
    segments_done = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Speech segments analysed so far.")
    )
    segments_total = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Speech segments found (known once speech detection is over).")
    )
    error = models.TextField(
        blank=True, help_text=gettext_lazy("Why the analysis failed, in words for the user.")
    )
    # The same reason kept so that it can be shown in the reader's language (not the worker's):
    # {"msgid": English template, "params": {...}} (ser.engine.messages); {} for rows older than it.
    error_message = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy("Why the analysis failed, as a message to translate (msgid and params)."),
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text=gettext_lazy("Analysis runs started."))
    created_at = models.DateTimeField(auto_now_add=True)
    # The job's place in the queue: set when it is created and when it is queued again (retry,
    # re-analysis), not when the sweeper merely re-sends its message, so a job keeps its place.
    queued_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AnalysisJobQuerySet.as_manager()

    class Meta:
        indexes = [
            # Queue positions count the pending jobs queued earlier (ser.selectors.queue_estimates).
            models.Index(fields=["queued_at"], name="job_pending_queue", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.progress}%)"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def progress_words(self) -> str:
        """The running job's progress, as the page shows it before its script takes over."""
        if self.stage == self.Stage.ANALYSING and self.segments_total:
            return gettext("Analysing — %(done)s of %(total)s segments") % {
                "done": self.segments_done,
                "total": self.segments_total,
            }
        if self.stage == self.Stage.DETECTING_SPEECH:
            return gettext("Detecting speech — %(percent)s") % {"percent": f"{self.progress} %"}
        return str(self.get_stage_display())

    @property
    def error_words(self) -> str:
        """Why the analysis failed, in the active language (the request's): the stored message
        translated, or the English `error` of a row failed before messages were stored."""
        if isinstance(self.error_message, dict) and self.error_message.get("msgid"):
            return render(self.error_message, gettext)
        return self.error


class EmotionAnalysisQuerySet(OwnedQuerySet["EmotionAnalysis"]):
    owner_path = "recording__session__patient__owner"


class EmotionAnalysis(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey(
        "therapy_sessions.Recording", on_delete=models.CASCADE, related_name="analyses"
    )
    # Provenance: which model, which exact weights, which numeric path, which input.
    model_id = models.CharField(
        max_length=255, help_text=gettext_lazy("SER_MODEL: hub id or model directory.")
    )
    model_revision = models.CharField(max_length=64, help_text=gettext_lazy("sha256 of model.pt (prefix)."))
    model_variant = models.CharField(
        max_length=64, help_text=gettext_lazy("Embeddings compare only within a variant.")
    )
    is_test_model = models.BooleanField(
        default=False,
        help_text=gettext_lazy("Made by a random-initialised test checkpoint: not a clinical result."),
    )
    precision = models.CharField(max_length=16)
    device = models.CharField(max_length=16, default="cpu")
    input_sha256 = models.CharField(max_length=64)
    granularity = models.CharField(max_length=16, default="utterance")
    channel = models.CharField(max_length=8, default="mix")
    # Results.
    dominant_emotion = models.CharField(max_length=16, choices=[(e, EMOTION_NAMES[e]) for e in EMOTIONS])
    confidence = models.FloatField()
    scores = ArrayField(models.FloatField(), size=len(EMOTIONS), help_text=gettext_lazy("In EMOTIONS order."))
    embedding = models.BinaryField(help_text=gettext_lazy("float32, little-endian, embedding_dim values."))
    embedding_dim = models.PositiveIntegerField()
    duration_s = models.FloatField()
    analysed_s = models.FloatField(help_text=gettext_lazy("Seconds of speech the model scored."))
    segment_count = models.PositiveIntegerField()
    processing_s = models.FloatField()
    segments = models.JSONField(
        default=list,
        help_text=gettext_lazy("Timeline: [start_s, end_s, nine scores in EMOTIONS order] per segment."),
    )
    timings = models.JSONField(
        default=dict, help_text=gettext_lazy("Seconds spent per stage (decode, vad, model, voice).")
    )
    # Voice measures on the same segments (ser.engine.voice): {"values": {measure: value or null},
    # "reasons": {measure: why it is empty}, "notes": [...], "segments": [[f0 Hz, intensity dB,
    # voiced %, syllables] per segment], "pauses": [[start_s, end_s]], "counts": {...},
    # "provenance": {"library", "version", "praat", ...}}; {} when none were computed (analysed
    # before they existed, or SER_VOICE off): `manage.py voice_recompute` fills them in.
    voice = models.JSONField(
        default=dict, blank=True, help_text=gettext_lazy("Voice measures and their provenance.")
    )
    # "Patient only (voice)" (ser.engine.speakers): {"method", "named", "therapist_voice",
    # "one_voice", "seconds", "profile_similarity", "thresholds", "model", "windows", "notes",
    # "segments": [[speaker or "", voice "A"/"B", similarity or null, margin] per segment, parallel
    # to `segments`], "centres": {"A": [256], "B": [256]}, "profile": {...}}; {} for other channels.
    # While "named" is false the scores are over all speech: trends leave the analysis out.
    speakers = models.JSONField(
        default=dict, blank=True, help_text=gettext_lazy("Who spoke each segment (voice channel).")
    )
    # Artifacts in private storage (never served by URL; downloads go through permission checks).
    result_file = models.FileField(max_length=255, blank=True)
    embedding_file = models.FileField(max_length=255, blank=True)
    audio_file = models.FileField(max_length=255, blank=True)
    frames_file = models.FileField(max_length=255, blank=True)
    segment_embeddings_file = models.FileField(max_length=255, blank=True)
    voice_file = models.FileField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Changes on every (re-)analysis; cached plots are keyed on it.
    updated_at = models.DateTimeField(auto_now=True)

    objects = EmotionAnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        # The queue estimate measures the RTF over the most recent analyses.
        indexes = [models.Index(fields=["-updated_at"], name="analysis_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "model_variant"], name="one_analysis_per_recording_and_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dominant_emotion} ({self.confidence:.2f}) by {self.model_variant}"

    @property
    def score_map(self) -> dict[str, float]:
        return dict(zip(EMOTIONS, self.scores, strict=True))

    def has_artifact(self, name: str) -> bool:
        if name == "embedding.npy" and self.granularity == "frame":
            return bool(self.frames_file)
        return bool(getattr(self, DOWNLOADS[name]))

    @property
    def voice_values(self) -> dict[str, float | None]:
        """The voice measures by key (empty when none were computed)."""
        return dict((self.voice or {}).get("values") or {})

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype="<f4").copy()


class VoiceProfile(models.Model):
    """A therapist's enrolled voice: a speaker embedding (ser.engine.speakers) and how much speech
    it rests on, used to leave their speech out of "patient only (voice)" analyses. Never the
    audio, unless they chose to keep their sample. Re-enrolment replaces it."""

    class Source(models.TextChoices):
        SAMPLE = "sample", gettext_lazy("A recorded or uploaded sample")
        SESSION = "session", gettext_lazy("Speech marked as theirs in an analysed session")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="voice_profile"
    )
    embedding = models.BinaryField(
        help_text=gettext_lazy("float32, little-endian, 256 values (unit length).")
    )
    speech_s = models.FloatField(help_text=gettext_lazy("Seconds of speech the profile rests on."))
    pitch_hz = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("Median pitch of the voice (a speaker cue).")
    )
    model_name = models.CharField(max_length=64)
    model_revision = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=Source.choices)
    source_detail = models.CharField(
        max_length=255, blank=True, help_text=gettext_lazy("The analysis it came from.")
    )
    sample_file = models.FileField(
        max_length=255, blank=True, help_text=gettext_lazy("Kept only when they chose to.")
    )
    consented_at = models.DateTimeField(
        help_text=gettext_lazy("When they agreed to the profile of their own voice.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Voice profile of {self.user} ({self.speech_s:.0f} s)"

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype="<f4").copy()
