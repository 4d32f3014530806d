"""Output shapes of the analysis app: an analysis, and a recording with its job and analyses."""

from __future__ import annotations

from typing import Any, cast

from django.db.models.manager import BaseManager
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ser.emotions import emotion_name
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_WARNING
from ser.engine.voice import BY_KEY, MEASURES
from sessions.serializers import RecordingOutputSerializer as RecordingBaseSerializer

from .estimates import QueueEstimate, queue_estimates
from .models import DOWNLOADS, AnalysisJob, EmotionAnalysis
from .selectors import messages_words, text_words


def _measure_help(key: str) -> Any:
    """ "Median pitch (F0), Hz: median fundamental frequency of voiced speech." (lazy: the schema's
    language is the request's)."""
    m = BY_KEY[key]
    return format_lazy(_("{label}, {unit}: {help}."), label=_(m.label), unit=m.unit, help=_(m.help))


# The voice measures' shape, built from ser.engine.voice.MEASURES: a new measure is typed here (and
# in the schema) without touching this module.
VoiceMeasuresSerializer = type(
    "VoiceMeasuresSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Each voice measure in its unit; null when it could not be computed (see reasons).",
        "__module__": __name__,
        **{m.key: serializers.FloatField(allow_null=True, help_text=_measure_help(m.key)) for m in MEASURES},
    },
)


class VoiceCountsSerializer(serializers.Serializer):
    syllables = serializers.IntegerField(required=False, help_text=_("Syllable nuclei found in the speech."))
    speaking_s = serializers.FloatField(
        required=False, help_text=_("Seconds of speaking time, pauses excluded.")
    )
    total_s = serializers.FloatField(
        required=False, help_text=_("Seconds from the first to the last speech, pauses included.")
    )
    voiced_s = serializers.FloatField(required=False, help_text=_("Seconds of voiced speech (with a pitch)."))
    clipped_pct = serializers.FloatField(
        required=False, help_text=_("Percent of the speech samples at full scale (clipped).")
    )


class VoiceProvenanceSerializer(serializers.Serializer):
    library = serializers.CharField(required=False, help_text='"praat-parselmouth".')
    version = serializers.CharField(required=False, help_text=_("The library's version."))
    praat = serializers.CharField(required=False, help_text=_("The Praat version inside it."))
    pitch_floor_hz = serializers.FloatField(required=False)
    pitch_ceiling_hz = serializers.FloatField(required=False)
    min_pause_s = serializers.FloatField(
        required=False, help_text=_("The shortest silence counted as a pause.")
    )


class AnalysisVoiceSerializer(serializers.Serializer):
    """Voice measures of the same speech the emotion model scored (pitch, loudness, rate, pauses,
    voice quality), computed with Praat: decision support for review, not a diagnosis. Intensity is
    Praat dB, not a calibrated sound pressure level."""

    measures = VoiceMeasuresSerializer(source="values")
    reasons = serializers.DictField(
        child=serializers.CharField(), help_text=_("Measure key → why its value is null, in words.")
    )
    notes = serializers.ListField(
        child=serializers.CharField(), help_text=_("About the recording as a whole (clipping, …).")
    )
    pauses = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text=_("[start_s, end_s] of every pause between speech, in seconds of the recording."),
    )
    counts = VoiceCountsSerializer()
    provenance = VoiceProvenanceSerializer(
        help_text=_("What computed the measures, and with which settings.")
    )


class SegmentSerializer(serializers.Serializer):
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    scores = serializers.DictField(child=serializers.FloatField(), help_text=_("Class → share, 0–1."))
    f0_median_hz = serializers.FloatField(
        allow_null=True,
        help_text=format_lazy(
            "{} {}",
            _measure_help("f0_median_hz"),
            _("Of this segment; null without voice measures or voiced speech in it."),
        ),
    )
    intensity_median_db = serializers.FloatField(
        allow_null=True,
        help_text=format_lazy(
            "{} {}", _measure_help("intensity_median_db"), _("Of this segment; null without voice measures.")
        ),
    )
    voiced_pct = serializers.FloatField(
        allow_null=True,
        help_text=_("Percent of the segment's speech with a pitch; null without voice measures."),
    )
    syllables = serializers.IntegerField(
        allow_null=True, help_text=_("Syllable nuclei in the segment; null without voice measures.")
    )
    speaker = serializers.ChoiceField(
        choices=["patient", "therapist", "uncertain"],
        allow_null=True,
        help_text=_(
            '"Patient only (voice)": who spoke the segment; null for other channels, and while '
            "the voices are not named (see speaker_voice)."
        ),
    )
    speaker_voice = serializers.ChoiceField(
        choices=["A", "B"],
        allow_null=True,
        help_text=_("The voice the segment is nearer to; null for other channels."),
    )
    similarity = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "Cosine similarity of the segment's voice to the therapist's voice profile; null "
            "without a profile or for other channels."
        ),
    )


SEGMENT_VOICE = ("f0_median_hz", "intensity_median_db", "voiced_pct", "syllables")
NO_SPEAKER = [None, None, None]


class SpeakerSecondsSerializer(serializers.Serializer):
    patient = serializers.FloatField()
    therapist = serializers.FloatField()
    uncertain = serializers.FloatField()
    voice_A = serializers.FloatField(help_text=_("Seconds nearer to voice A."))
    voice_B = serializers.FloatField(help_text=_("Seconds nearer to voice B."))


class SpeakerModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    revision = serializers.CharField(help_text=_('"sha256:" and the start of the weights\' SHA-256.'))


class AnalysisSpeakersSerializer(serializers.Serializer):
    """Who spoke ("patient only (voice)"). While `named` is false the scores, embedding and voice
    measures are over all speech, the therapist's included: not the patient's, and the analysis
    is left out of trends, until the therapist names the voices (POST .../speakers/)."""

    method = serializers.ChoiceField(
        choices=["profile", "voices"],
        help_text=_(
            "profile: by similarity to the therapist's voice profile; voices: two voices told apart, "
            "named by the therapist."
        ),
    )
    named = serializers.BooleanField()
    therapist_voice = serializers.ChoiceField(choices=["A", "B"], allow_null=True)
    one_voice = serializers.BooleanField(help_text=_("Only one voice was heard."))
    seconds = SpeakerSecondsSerializer()
    profile_similarity = serializers.DictField(
        child=serializers.FloatField(), allow_null=True, help_text=_("Voice → cosine to the profile.")
    )
    model = SpeakerModelSerializer()
    notes = serializers.ListField(child=serializers.CharField())
    named_at = serializers.CharField(
        allow_null=True, help_text=_("When the therapist named the voices (ISO 8601); null otherwise.")
    )


class AnalysisOutputSerializer(serializers.ModelSerializer):
    dominant_emotion_display = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()
    emotion_names = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    voice = serializers.SerializerMethodField()
    speakers = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = EmotionAnalysis
        fields = [
            "id",
            "dominant_emotion",
            "dominant_emotion_display",
            "confidence",
            "scores",
            "emotion_names",
            "embedding_dim",
            "model_id",
            "model_revision",
            "model_variant",
            "is_test_model",
            "precision",
            "device",
            "input_sha256",
            "granularity",
            "channel",
            "duration_s",
            "analysed_s",
            "segment_count",
            "processing_s",
            "timings",
            "created_at",
            "updated_at",
            "notice",
            "timeline",
            "voice",
            "speakers",
            "downloads",
        ]

    @extend_schema_field(
        serializers.CharField(help_text=_("The dominant emotion's name in the request's language."))
    )
    def get_dominant_emotion_display(self, obj: EmotionAnalysis) -> str:
        return emotion_name(obj.dominant_emotion)

    def get_scores(self, obj: EmotionAnalysis) -> dict[str, float]:
        return obj.score_map

    @extend_schema_field(
        serializers.DictField(
            child=serializers.CharField(),
            help_text=_(
                "Emotion key (as in scores and the timeline) → its name in the request's language, "
                "for showing to people."
            ),
        )
    )
    def get_emotion_names(self, obj: EmotionAnalysis) -> dict[str, str]:
        return {e: emotion_name(e) for e in EMOTIONS}

    @extend_schema_field(SegmentSerializer(many=True))
    def get_timeline(self, obj: EmotionAnalysis) -> list[dict[str, object]]:
        per_segment = (obj.voice or {}).get("segments") or []
        if len(per_segment) != len(obj.segments):
            per_segment = [[None] * len(SEGMENT_VOICE)] * len(obj.segments)
        who = (obj.speakers or {}).get("segments") or []
        if len(who) != len(obj.segments):
            who = [NO_SPEAKER] * len(obj.segments)
        return [
            {
                "start_s": row[0],
                "end_s": row[1],
                "scores": dict(zip(EMOTIONS, row[2:], strict=True)),
                **dict(zip(SEGMENT_VOICE, voice, strict=True)),
                "speaker": w[0] or None,
                "speaker_voice": w[1],
                "similarity": w[2],
            }
            for row, voice, w in zip(obj.segments, per_segment, who, strict=True)
        ]

    @extend_schema_field(AnalysisSpeakersSerializer(allow_null=True))
    def get_speakers(self, obj: EmotionAnalysis) -> dict[str, Any] | None:
        """Null unless the recording was analysed "patient only (voice)"."""
        sp = obj.speakers or {}
        if not sp:
            return None
        notes = messages_words(list(sp.get("notes") or []), sp.get("note_messages"))  # the request's language
        return dict(
            AnalysisSpeakersSerializer(
                {"named_at": None, "profile_similarity": None, **sp, "notes": notes}
            ).data
        )

    @extend_schema_field(AnalysisVoiceSerializer(allow_null=True))
    def get_voice(self, obj: EmotionAnalysis) -> dict[str, Any] | None:
        """Null for an analysis made before voice measures existed."""
        if not obj.voice:
            return None
        # Every part present even where a stored row lacks one (a measure the row predates is null).
        stored: dict[str, Any] = {
            "values": {},
            "reasons": {},
            "notes": [],
            "pauses": [],
            "counts": {},
            "provenance": {},
        }
        voice = {**stored, **obj.voice}
        # Reasons and notes in words, in the request's language (their stored messages translated).
        why = voice.get("reason_messages") or {}
        voice["reasons"] = {k: text_words(v, why.get(k)) for k, v in (voice["reasons"] or {}).items()}
        voice["notes"] = messages_words(list(voice["notes"] or []), voice.get("note_messages"))
        return dict(AnalysisVoiceSerializer(voice).data)

    @extend_schema_field(
        serializers.DictField(
            child=serializers.URLField(),
            help_text=format_lazy(
                _("File name ({names}) → its URL; only the files this analysis has."),
                names=", ".join(DOWNLOADS),
            ),
        )
    )
    def get_downloads(self, obj: EmotionAnalysis) -> dict[str, str]:
        request = self.context.get("request")
        out = {}
        for name in DOWNLOADS:
            if obj.has_artifact(name):
                url = reverse("api:analysis-file", args=[obj.pk, name])
                out[name] = request.build_absolute_uri(url) if request is not None else url
        return out

    def get_notice(self, obj: EmotionAnalysis) -> str:
        return gettext(TEST_MODEL_WARNING if obj.is_test_model else DISCLAIMER)


class _RecordingListSerializer(serializers.ListSerializer):
    """Estimates every queued or running recording of the list at once: the same few queries
    however many recordings it holds."""

    def to_representation(self, data: Any) -> list[Any]:
        items = list(data.all() if isinstance(data, BaseManager) else data)
        child = cast(RecordingOutputSerializer, self.child)
        child.estimate_all(items)
        return super().to_representation(items)


class RecordingOutputSerializer(RecordingBaseSerializer):
    """The recording, its analysis state (status, stage, progress, error, and while it is queued or
    running its place in the queue and the estimated time to done) and analyses."""

    status = serializers.SerializerMethodField()
    stage = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    segments_done = serializers.SerializerMethodField()
    segments_total = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    started_at = serializers.SerializerMethodField()
    finished_at = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField()
    eta_s = serializers.SerializerMethodField()
    estimate = serializers.SerializerMethodField()
    estimate_basis = serializers.SerializerMethodField()
    analyses = AnalysisOutputSerializer(many=True, read_only=True)

    class Meta(RecordingBaseSerializer.Meta):
        list_serializer_class = _RecordingListSerializer
        fields = [
            *RecordingBaseSerializer.Meta.fields,
            "status",
            "stage",
            "progress",
            "segments_done",
            "segments_total",
            "error",
            "started_at",
            "finished_at",
            "queue_position",
            "eta_s",
            "estimate",
            "estimate_basis",
            "analyses",
        ]

    @staticmethod
    def _job(obj: object) -> AnalysisJob:
        # A recording stored without the analysis app listening has no job yet: it is pending.
        return getattr(obj, "job", None) or AnalysisJob(
            status=AnalysisJob.Status.PENDING, stage=AnalysisJob.Stage.QUEUED
        )

    @extend_schema_field(serializers.ChoiceField(choices=AnalysisJob.Status.choices))
    def get_status(self, obj: object) -> str:
        return self._job(obj).status

    @extend_schema_field(
        serializers.ChoiceField(
            choices=AnalysisJob.Stage.choices,
            help_text=_(
                "Where the analysis stands: queued, decoding (opening the audio), detecting_speech, "
                "analysing (scoring the speech segments), saving, finished. A failed job keeps the stage it "
                "failed in."
            ),
        )
    )
    def get_stage(self, obj: object) -> str:
        return self._job(obj).stage

    @extend_schema_field(
        serializers.IntegerField(
            min_value=0,
            max_value=100,
            help_text=_(
                "Percent of the current stage: of the audio searched while detecting_speech, of "
                "the speech segments while analysing; 100 when done."
            ),
        )
    )
    def get_progress(self, obj: object) -> int:
        return self._job(obj).progress

    @extend_schema_field(
        serializers.IntegerField(min_value=0, help_text=_("Speech segments analysed so far."))
    )
    def get_segments_done(self, obj: object) -> int:
        return self._job(obj).segments_done

    @extend_schema_field(
        serializers.IntegerField(
            min_value=0, help_text=_("Speech segments found (0 until speech detection ends).")
        )
    )
    def get_segments_total(self, obj: object) -> int:
        return self._job(obj).segments_total

    @extend_schema_field(
        serializers.CharField(
            help_text=_(
                "Why the analysis failed, in words in the request's language; empty unless it failed."
            )
        )
    )
    def get_error(self, obj: object) -> str:
        return self._job(obj).error_words

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_started_at(self, obj: object) -> str | None:
        value = self._job(obj).started_at
        return serializers.DateTimeField().to_representation(value) if value else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_finished_at(self, obj: object) -> str | None:
        value = self._job(obj).finished_at
        return serializers.DateTimeField().to_representation(value) if value else None

    def estimate_all(self, recordings: list[Any]) -> None:
        """Estimate these recordings' queued or running jobs in one go (see _estimate)."""
        ids = [r.pk for r in recordings if self._job(r).active and not self._job(r)._state.adding]
        found = queue_estimates(recording_ids=ids)
        self._estimates.update({pk: found.get(pk) for pk in ids})

    def _estimate(self, obj: Any) -> QueueEstimate | None:
        job = self._job(obj)
        if not job.active or job._state.adding:
            return None
        if obj.pk not in self._estimates:
            self.estimate_all([obj])
        estimate = self._estimates[obj.pk]
        # The job may have moved on between reading it and estimating it: no mismatched words.
        return estimate if estimate is not None and estimate.status == job.status else None

    @property
    def _estimates(self) -> dict[Any, QueueEstimate | None]:
        return self.__dict__.setdefault("_estimate_cache", {})  # type: ignore[no-any-return]

    @extend_schema_field(
        serializers.IntegerField(
            min_value=1,
            allow_null=True,
            help_text=_(
                "While queued: 1 = next to start, counting every therapist's queued recordings; "
                "null otherwise."
            ),
        )
    )
    def get_queue_position(self, obj: object) -> int | None:
        estimate = self._estimate(obj)
        return estimate.position if estimate is not None else None

    @extend_schema_field(
        serializers.IntegerField(
            min_value=0,
            allow_null=True,
            help_text=_(
                "Estimated seconds until the analysis is done (queued or running), rounded; null "
                "when done or failed, or while no worker has started."
            ),
        )
    )
    def get_eta_s(self, obj: object) -> int | None:
        estimate = self._estimate(obj)
        return estimate.eta_s if estimate is not None else None

    @extend_schema_field(
        serializers.CharField(
            help_text=_(
                'The estimate in words: "2nd in the queue · about 3 min", "about 40 s left", '
                '"Next in the queue · waiting for a worker to start"; empty when done or failed.'
            )
        )
    )
    def get_estimate(self, obj: object) -> str:
        estimate = self._estimate(obj)
        return estimate.words if estimate is not None else ""

    @extend_schema_field(
        serializers.CharField(
            help_text=_(
                'What the estimate rests on: "measured RTF 0.066 over the last 12 analyses (…)", '
                "or the assumed SER_ESTIMATE_RTF while none is measured; empty when there is no estimate."
            )
        )
    )
    def get_estimate_basis(self, obj: object) -> str:
        estimate = self._estimate(obj)
        return estimate.basis if estimate is not None else ""
