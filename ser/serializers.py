"""Output shape of an analysis, shared by the API views."""

from __future__ import annotations

from rest_framework import serializers

from .models import EmotionAnalysis


class AnalysisOutputSerializer(serializers.ModelSerializer):
    scores = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField()

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
            "created_at",
            "notice",
        ]

    def get_scores(self, obj: EmotionAnalysis) -> dict[str, float]:
        return obj.score_map

    def get_notice(self, obj: EmotionAnalysis) -> str:
        if obj.is_test_model:
            return (
                "Produced by a random-initialised test checkpoint: these numbers are meaningless "
                "and must not be used clinically."
            )
        return "Decision support, not a diagnosis."
