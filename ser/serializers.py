"""Output shape of an analysis, shared by the API views."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from ser.engine.labels import EMOTIONS

from .models import DOWNLOADS, EmotionAnalysis


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
            "notice",
            "timeline",
            "downloads",
        ]

    def get_scores(self, obj: EmotionAnalysis) -> dict[str, float]:
        return obj.score_map

    def get_timeline(self, obj: EmotionAnalysis) -> list[dict[str, object]]:
        return [
            {"start_s": row[0], "end_s": row[1], "scores": dict(zip(EMOTIONS, row[2:], strict=True))}
            for row in obj.segments
        ]

    def get_downloads(self, obj: EmotionAnalysis) -> dict[str, str]:
        request = self.context.get("request")
        out = {}
        for name in DOWNLOADS:
            if obj.has_artifact(name):
                url = reverse("ser:download", args=[obj.pk, name])
                out[name] = request.build_absolute_uri(url) if request is not None else url
        return out

    def get_notice(self, obj: EmotionAnalysis) -> str:
        if obj.is_test_model:
            return (
                "Produced by a random-initialised test checkpoint: these numbers are meaningless "
                "and must not be used clinically."
            )
        return "Decision support, not a diagnosis."
