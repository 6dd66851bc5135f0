"""The current time, in one place so that services and tests agree on "now"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return _now()


def local_now(timezone: str) -> datetime:
    """The current wall-clock time in `timezone`."""
    return now().astimezone(ZoneInfo(timezone))


def local_today(timezone: str) -> date:
    """Today's date in `timezone` (an employer's day, not the server's)."""
    return local_now(timezone).date()


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make `now()` return `at` inside the block (tests, replays, benchmarks)."""
    global _now
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous = _now
    _now = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now = previous
