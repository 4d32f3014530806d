"""The API token endpoint (/api/auth/token/)."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from .auth import Lockout, token_expired, token_ttl
from .security import client_ip, log, safe_name


class ObtainTokenApi(ObtainAuthToken):
    """POST username and password → {"token", "expires_at"}.

    DRF's view, with three changes: a user locked out by django-axes gets the same 429 as the
    login page's (axes flags the lockout on DRF's Request, which its middleware never sees); an
    expired token is replaced rather than handed out again by get_or_create; and a success resets
    the failure count (axes does that on user_logged_in, which a token login does not send).
    DRF's AuthTokenSerializer passes `request` to authenticate(), which the axes backend needs."""

    authentication_classes = ()  # a stale token header must not stop anyone getting a new one

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer(
            "Token",
            {
                "token": serializers.CharField(help_text="Send as `Authorization: Token <token>`."),
                "expires_at": serializers.DateTimeField(),
            },
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                lockout = Lockout.of(request, getattr(request, "axes_credentials", None))
                return Response(lockout.payload(), status=429, headers={"Retry-After": str(lockout.wait_s)})
            raise exceptions.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        # What AXES_RESET_ON_SUCCESS does for the login page (this pair's failures forgotten), without
        # axes' user_logged_in handler, which would create a session for a cookie-less API client.
        AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=user.get_username())
        with transaction.atomic():
            stale = Token.objects.select_for_update().filter(user=user).first()
            if stale is not None and token_expired(stale):
                stale.delete()
            token, created = Token.objects.get_or_create(user=user)
        log.info(
            "api token %s user=%s ip=%s",
            "issued" if created else "returned (still valid)",
            safe_name(user.get_username()),
            client_ip(request),
        )
        return Response({"token": token.key, "expires_at": (token.created + token_ttl()).isoformat()})
