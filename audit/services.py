"""Recording audit events, and `owned`: the one lookup every page and API goes through to reach a
patient's record — scoped to the user (another therapist's record is a 404, never a 403), with the
read, or the denial, written to the trail."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Manager, Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from .context import current
from .models import AuditEvent

log = logging.getLogger("clinic.security")

M = TypeVar("M", bound=Model)

# model label → (object_type, how to reach the patient id from the row)
_KINDS: dict[str, tuple[str, str]] = {
    "patients.patient": ("patient", "pk"),
    "therapy_sessions.therapysession": ("session", "patient_id"),
    "therapy_sessions.recording": ("recording", "session.patient_id"),
    "ser.emotionanalysis": ("analysis", "recording.session.patient_id"),
    "ser.analysisjob": ("recording", "recording.session.patient_id"),
    "reports.reportexport": ("export", "patient_id"),
}


# The 404's words, per kind (a whole sentence each, so each language can say it its own way).
_NOT_FOUND = {
    "patient": _("No such patient."),
    "session": _("No such session."),
    "recording": _("No such recording."),
    "analysis": _("No such analysis."),
    "export": _("No such export."),
    "": _("No such record."),
}


def _describe(obj: Model) -> tuple[str, str, Any]:
    kind, path = _KINDS.get(obj._meta.label_lower, (obj._meta.model_name or "", ""))
    patient: Any = obj
    for part in path.split(".") if path else []:
        patient = getattr(patient, part, None)
    return kind, str(obj.pk), patient if path else None


def _actor_user() -> Any:
    ctx = current.get()
    user = ctx.user() if ctx is not None else None
    return user if getattr(user, "is_authenticated", False) else None


def record(
    action: str, obj: Model | None = None, *, detail: str = "", username: str = "", user: Any = None
) -> AuditEvent:
    """Write one audit event for `user`, else the current actor (request, command or worker)."""
    ctx = current.get()
    kind, object_id, patient_id = _describe(obj) if obj is not None else ("", "", None)
    user = user if user is not None else _actor_user()
    return AuditEvent.objects.create(
        actor=user,
        username=(username or getattr(user, "get_username", lambda: "")())[:150],
        action=action,
        object_type=kind,
        object_id=object_id,
        patient_id=patient_id,
        ip=ctx.ip if ctx else None,
        path=ctx.path if ctx else "",
        detail=detail[:300],
    )


def owned(
    queryset: QuerySet[M] | Manager[M],
    pk: Any,
    *,
    action: str = AuditEvent.Action.READ,
    detail: str = "",
    record_access: bool = True,
) -> M:
    """`queryset.for_user(user).get(pk=pk)` for the acting user, audited: the read (or `action`)
    when found; a denial (logged, and recorded) when not, then 404. `record_access=False` is for a
    continuation of an access already recorded (a media player's follow-up range requests): still
    scoped and any denial recorded, but no second event for the same listening."""
    user = _actor_user()
    scoped = queryset.for_user(user)  # type: ignore[attr-defined,union-attr]
    try:
        obj: M = scoped.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        kind = _KINDS.get(queryset.model._meta.label_lower, ("", ""))[0]
        ctx = current.get()
        log.warning(
            "access denied: user=%s %s=%s ip=%s path=%s",
            getattr(user, "pk", None),
            kind,
            pk,
            ctx.ip if ctx else None,
            ctx.path if ctx else "",
        )
        if user is not None:
            AuditEvent.objects.create(
                actor=user,
                username=user.get_username()[:150],
                action=AuditEvent.Action.DENIED,
                object_type=kind,
                object_id=str(pk)[:64],
                ip=ctx.ip if ctx else None,
                path=ctx.path if ctx else "",
            )
        raise Http404(str(_NOT_FOUND.get(kind, _NOT_FOUND[""]))) from None
    if record_access:
        record(action, obj, detail=detail)
    return obj
