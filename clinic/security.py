"""Security events around logins, sessions and API tokens: the "clinic.security" log (who, when,
from where; never a password, never patient data), the login-time stamp that the absolute session
limit reads, and token revocation at logout and at a password change. Receivers are connected in
`clinic.apps.ClinicConfig.ready`.

Why signals: every way in (the login page, the admin, the token endpoint, `force_login` in tests)
goes through `django.contrib.auth`, which sends them; so one receiver covers all of them, and no
view has to remember to stamp, log or revoke."""

from __future__ import annotations

import logging
import time
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from audit import services as audit
from audit.middleware import client_ip
from audit.models import AuditEvent

__all__ = ["LOGIN_AT_SESSION_KEY", "client_ip", "revoke_tokens", "safe_name"]

log = logging.getLogger("clinic.security")

# Where the login time (epoch seconds) lives in the session; read by the absolute-lifetime middleware.
LOGIN_AT_SESSION_KEY = "clinic_login_at"
_MAX_NAME = 150  # Django's username length; longer input is an attack, not a name


def safe_name(username: object) -> str:
    """A username as typed at a login prompt, fit for one log line: repr() escapes newlines and
    control characters, so a crafted name cannot forge extra log lines."""
    return repr(str(username or "")[:_MAX_NAME])


def revoke_tokens(user: Any) -> int:
    """Delete every API token of `user`; returns how many there were."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


@receiver(user_logged_in, dispatch_uid="clinic.security.logged_in")
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    if hasattr(request, "session"):
        # The session key was just rotated by login(); the stamp belongs to this new session only.
        request.session[LOGIN_AT_SESSION_KEY] = time.time()
    log.info(
        "login succeeded user=%s ip=%s path=%s",
        safe_name(user.get_username()),
        client_ip(request),
        request.path,
    )
    audit.record(AuditEvent.Action.LOGIN, user=user)


@receiver(user_login_failed, dispatch_uid="clinic.security.login_failed")
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # `credentials` arrives with the password already masked by Django; only the username is read.
    username = credentials.get(get_username_field())
    where = client_ip(request) if request is not None else None
    path = getattr(request, "path", "")
    log.warning("login failed user=%s ip=%s path=%s", safe_name(username), where, path)
    audit.record(AuditEvent.Action.LOGIN_FAILED, username=str(username or "")[:150])


@receiver(user_locked_out, dispatch_uid="clinic.security.locked_out")
def _on_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    log.warning(
        "login locked out user=%s ip=%s path=%s failure_limit=%s cooloff=%s",
        safe_name(username),
        ip_address,
        getattr(request, "path", ""),
        settings.AXES_FAILURE_LIMIT,
        settings.AXES_COOLOFF_TIME,
    )
    audit.record(AuditEvent.Action.LOCKOUT, username=str(username or "")[:150])


@receiver(user_logged_out, dispatch_uid="clinic.security.logged_out")
def _on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # the session had already ended; nothing of a user's to revoke
        return
    revoked = revoke_tokens(user)
    where = client_ip(request) if request is not None else None
    log.info("logout user=%s ip=%s api_tokens_revoked=%d", safe_name(user.get_username()), where, revoked)
    audit.record(AuditEvent.Action.LOGOUT, user=user)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="clinic.security.credentials")
def _on_user_save(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """Revoke API tokens when the stored password hash changes or the account is deactivated.

    Django has no password-changed signal; comparing the stored hash catches every path (the
    admin, `changepassword`, `set_password`, `set_unusable_password`, a raw hash write). It is the
    rule Django applies to sessions (their auth hash is derived from the password hash), so
    tokens and other sessions end together. That includes the rare hash upgrade at login after a
    Django release raises the hasher's work factor."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    password_changed = stored["password"] != instance.password
    deactivated = stored["is_active"] and not instance.is_active
    if password_changed or deactivated:
        revoked = revoke_tokens(instance)
        reason = "password changed" if password_changed else "account deactivated"
        log.info("%s user=%s api_tokens_revoked=%d", reason, safe_name(instance.get_username()), revoked)


def get_username_field() -> str:
    from django.contrib.auth import get_user_model

    return str(get_user_model().USERNAME_FIELD)
