"""Who is acting, for the current request or command: set by AuditContextMiddleware for web and
API requests (the user is read when an event is recorded, so DRF token users count too), and by
`acting_as` for management commands and the worker."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Callable[[], Any]  # resolves to the user (or AnonymousUser) when an event is recorded
    ip: str | None = None
    path: str = ""


current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)


@contextlib.contextmanager
def acting_as(user: Any, *, path: str = "") -> Iterator[None]:
    """Attribute the audit events recorded inside to `user` (commands, the worker)."""
    token = current.set(Actor(user=lambda: user, path=path))
    try:
        yield
    finally:
        current.reset(token)
