"""Output shapes of the analysis app: an analysis, and a recording with its job and analyses."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, TEST_MODEL_WARNING
from sessions.serializers import RecordingOutputSerializer as RecordingBaseSerializer

from .models import DOWNLOADS, AnalysisJob, EmotionAnalysis


class SegmentSerializer(serializers.Serializer):
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    scores = serializers.DictField(child=serializers.FloatField(), help_text="Class → share, 0–1.")


class AnalysisOutputSerializer(serializers.ModelSerializer):
    scores = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = EmotionAnalysis
        fields = [
            "id",
            "dominant_emotion",
            "confidence",
            "scores",
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
            "downloads",
        ]

    def get_scores(self, obj: EmotionAnalysis) -> dict[str, float]:
        return obj.score_map

    @extend_schema_field(SegmentSerializer(many=True))
    def get_timeline(self, obj: EmotionAnalysis) -> list[dict[str, object]]:
        return [
            {"start_s": row[0], "end_s": row[1], "scores": dict(zip(EMOTIONS, row[2:], strict=True))}
            for row in obj.segments
        ]

    @extend_schema_field(
        serializers.DictField(
            child=serializers.URLField(),
            help_text="File name (" + ", ".join(DOWNLOADS) + ") → its URL; only the files this analysis has.",
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
        return TEST_MODEL_WARNING if obj.is_test_model else DISCLAIMER


class RecordingOutputSerializer(RecordingBaseSerializer):
    """The recording, its analysis state (status, stage, progress, error) and analyses."""

    status = serializers.SerializerMethodField()
    stage = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    segments_done = serializers.SerializerMethodField()
    segments_total = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    started_at = serializers.SerializerMethodField()
    finished_at = serializers.SerializerMethodField()
    analyses = AnalysisOutputSerializer(many=True, read_only=True)

    class Meta(RecordingBaseSerializer.Meta):
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
            help_text="Where the analysis stands: queued, decoding (opening the audio), detecting_speech, "
            "analysing (scoring the speech segments), saving, finished. A failed job keeps the stage it "
            "failed in.",
        )
    )
    def get_stage(self, obj: object) -> str:
        return self._job(obj).stage

    @extend_schema_field(
        serializers.IntegerField(
            min_value=0,
            max_value=100,
            help_text="Percent of the current stage: of the audio searched while detecting_speech, of "
            "the speech segments while analysing; 100 when done.",
        )
    )
    def get_progress(self, obj: object) -> int:
        return self._job(obj).progress

    @extend_schema_field(serializers.IntegerField(min_value=0, help_text="Speech segments analysed so far."))
    def get_segments_done(self, obj: object) -> int:
        return self._job(obj).segments_done

    @extend_schema_field(
        serializers.IntegerField(
            min_value=0, help_text="Speech segments found (0 until speech detection ends)."
        )
    )
    def get_segments_total(self, obj: object) -> int:
        return self._job(obj).segments_total

    def get_error(self, obj: object) -> str:
        return self._job(obj).error

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_started_at(self, obj: object) -> str | None:
        value = self._job(obj).started_at
        return serializers.DateTimeField().to_representation(value) if value else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_finished_at(self, obj: object) -> str | None:
        value = self._job(obj).finished_at
        return serializers.DateTimeField().to_representation(value) if value else None
