"""Who is acting and under which correlation id, for the audit trail.

Set by the request middleware, by tasks and by CLI commands; read by `core.audit`.
"""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import Any

_actor: ContextVar[Any] = ContextVar("marketguard_actor", default=None)
_correlation: ContextVar[str] = ContextVar("marketguard_correlation", default="")
_via: ContextVar[str] = ContextVar("marketguard_via", default="")


def current_actor():
    return _actor.get()


def correlation_id() -> str:
    value = _correlation.get()
    return value or ""


def channel() -> str:
    """How the current action arrived: web, api, cli, task."""
    return _via.get()


@contextlib.contextmanager
def acting(actor=None, *, via: str, correlation: str | None = None):
    tokens = (
        _actor.set(actor),
        _correlation.set(correlation or uuid.uuid4().hex),
        _via.set(via),
    )
    try:
        yield
    finally:
        _via.reset(tokens[2])
        _correlation.reset(tokens[1])
        _actor.reset(tokens[0])
