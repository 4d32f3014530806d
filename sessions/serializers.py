"""Output shapes of sessions and recordings (the analysis app extends the recording's)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Recording, TherapySession


class SessionOutputSerializer(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient_id")

    class Meta:
        model = TherapySession
        fields = ["id", "patient", "number", "started_at", "notes", "created_at", "updated_at"]


class RecordingOutputSerializer(serializers.ModelSerializer):
    session = serializers.UUIDField(source="session_id")

    class Meta:
        model = Recording
        fields = [
            "id",
            "session",
            "original_name",
            "sha256",
            "size_bytes",
            "duration_s",
            "sample_rate",
            "channels",
            "audio_format",
            "channel",
            "granularity",
            "consent_confirmed",
            "created_at",
        ]
