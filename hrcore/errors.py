"""The typed errors every layer understands. Each carries a stable `code`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class HRError(Exception):
    """Base of all expected, user-facing errors."""

    status: int = 400
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.afterwards: list[Callable[[Session], None]] = []

    def keep(self, write: Callable[[Session], None]) -> Self:
        """Add a write that must outlive the failure (its audit row, a revoked session).

        The caller's transaction is rolled back whole; `hrcore.db.unit_of_work` then runs
        these in a transaction of their own, so nothing the failed call did survives.
        """
        self.afterwards.append(write)
        return self


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


class RateLimited(HRError):
    """Too many attempts; `retry_after_s` says when to try again."""

    status = 429
    code = "rate_limited"
