"""Domain errors with stable codes. The API turns them into problem+json; the UI into messages.

A service raises these; it never returns an HTTP response. `code` is UPPER_SNAKE and stable:
clients may rely on it. `field` names the input that is wrong, when one is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    status = 400
    default_code = "DOMAIN_ERROR"

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None, errors=None):
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.errors: list[FieldError] = list(errors or [])
        if field is not None:
            self.errors.insert(0, FieldError(field=field, message=self.message, code=self.code.lower()))


class InvalidInput(DomainError):
    status = 422
    default_code = "INVALID_INPUT"


class NotFound(DomainError):
    status = 404
    default_code = "NOT_FOUND"


class PermissionDenied(DomainError):
    status = 403
    default_code = "PERMISSION_DENIED"


class Conflict(DomainError):
    """The object changed under you, or the move is not allowed in its current state."""

    status = 409
    default_code = "CONFLICT"


class Throttled(DomainError):
    """Too many requests in a short time: try again later."""

    status = 429
    default_code = "THROTTLED"


class InvalidTransition(Conflict):
    default_code = "INVALID_TRANSITION"


@dataclass
class RowError:
    """An error in one row of a bulk input (import file or bulk API call)."""

    row: int
    field: str
    message: str
    external_id: str = ""
    extra: dict = field(default_factory=dict)
