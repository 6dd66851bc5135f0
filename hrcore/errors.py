"""The typed errors every layer understands. Each carries a stable `code`."""

from __future__ import annotations

from typing import Any


class HRError(Exception):
    """Base of all expected, user-facing errors."""

    status: int = 400
    code: str = "error"
    #: Set once the failed call's own writes were undone, so the caller may still
    #: commit what must outlive the failure (the audit row, a failed-login count).
    keep_changes: bool = False

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class Invalid(HRError):
    """The input breaks a rule."""

    status = 422
    code = "invalid"


class NotFound(HRError):
    """The object does not exist for this actor (including other employers' objects)."""

    status = 404
    code = "not_found"


class Forbidden(HRError):
    """The actor's role or relationship does not allow this."""

    status = 403
    code = "forbidden"


class Conflict(HRError):
    """The request clashes with the current state."""

    status = 409
    code = "conflict"


class Unauthenticated(HRError):
    """No valid identity."""

    status = 401
    code = "unauthenticated"


class Locked(HRError):
    """The account is temporarily locked."""

    status = 423
    code = "account_locked"
