"""REST API of the requesting user's own voice profile ("patient only (voice)"): read, enrol or
replace, delete. There is no id in the path, so there is no way to name anyone else's."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import owned

from . import voiceprofiles
from .models import EmotionAnalysis, VoiceProfile


class VoiceProfileOutputSerializer(serializers.ModelSerializer):
    sample_kept = serializers.SerializerMethodField(help_text=_("Whether the sample's audio is kept."))

    class Meta:
        model = VoiceProfile
        fields = [
            "speech_s", "source", "source_detail", "model_name", "model_revision", "sample_kept",
            "consented_at", "created_at", "updated_at",
        ]  # fmt: skip

    def get_sample_kept(self, obj: VoiceProfile) -> bool:
        return bool(obj.sample_file)


class VoiceProfileInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        required=False, allow_empty_file=True, help_text=_("20-60 s of your own voice (any upload format).")
    )
    analysis = serializers.UUIDField(
        required=False, help_text=_("Instead of a file: one of your analyses made as 'patient only (voice)'…")
    )
    voice = serializers.ChoiceField(
        choices=["A", "B"], required=False, help_text=_("…and which of its voices is yours.")
    )
    consent = serializers.BooleanField(help_text=_("Must be true: you agree to a profile of your own voice."))
    keep_sample = serializers.BooleanField(
        default=False, help_text=_("Keep the sample's audio (default: not kept).")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("file" in attrs) == ("analysis" in attrs):
            raise serializers.ValidationError(gettext("Send either a file or an analysis (with its voice)."))
        if "analysis" in attrs and "voice" not in attrs:
            raise serializers.ValidationError(
                {"voice": [gettext("Say which voice of the analysis is yours: A or B.")]}
            )
        return attrs


class _Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


class _TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class VoiceProfileApi(APIView):
    """The requesting user's voice profile (the voice print itself is never returned)."""

    parser_classes = [MultiPartParser, FormParser]

    def _own(self, request: Request) -> VoiceProfile:
        profile = VoiceProfile.objects.filter(pk=request.user.pk).first()
        if profile is None:
            raise exceptions.NotFound(gettext("You have no voice profile."))
        return profile

    @extend_schema(responses=VoiceProfileOutputSerializer)
    def get(self, request: Request) -> Response:
        """Your voice profile: how much speech it rests on, where it came from, the speaker model."""
        return Response(VoiceProfileOutputSerializer(self._own(request)).data)

    @extend_schema(
        request={"multipart/form-data": VoiceProfileInputSerializer},
        responses={200: VoiceProfileOutputSerializer, 201: VoiceProfileOutputSerializer},
    )
    def put(self, request: Request) -> Response:
        """Enrol (201) or re-enrol (200, replacing the profile) from a sample of your own voice, or
        from one voice of your analysed session. A sample that cannot make a profile changes nothing."""
        data = VoiceProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        existed = VoiceProfile.objects.filter(pk=request.user.pk).exists()
        try:
            if "analysis" in values:
                analysis = owned(
                    EmotionAnalysis.objects, values["analysis"], detail="voice profile from analysis"
                )
                profile = voiceprofiles.voice_profile_from_analysis(
                    user=request.user, analysis=analysis, voice=values["voice"], consent=values["consent"]
                )
            else:
                profile = voiceprofiles.voice_profile_enrol(
                    user=request.user,
                    file=values["file"],
                    consent=values["consent"],
                    keep_sample=values["keep_sample"],
                )
        except voiceprofiles.VoiceProfileUnavailable as exc:
            raise _Unavailable(" ".join(exc.messages)) from None
        except voiceprofiles.SampleTooLarge as exc:
            raise _TooLarge(" ".join(exc.messages)) from None
        except ValidationError as exc:
            raise exceptions.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        return Response(
            VoiceProfileOutputSerializer(profile).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        """Delete your voice profile (and a kept sample)."""
        self._own(request)
        voiceprofiles.voice_profile_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
