"""Rate limits on the `limits` library: Redis when `REDIS_URL` is set, process memory otherwise.

A hit is counted before the work it guards (a password check, a chat turn), atomically in
the storage, so parallel requests cannot all slip in before the count catches up.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from hrcore.config import get_settings
from hrcore.errors import RateLimited

log = logging.getLogger("ajira.ratelimit")

_lock = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None


def _storage_uri() -> str:
    url = get_settings().redis_url
    return url if url else "memory://"


def limiter() -> MovingWindowRateLimiter:
    """The process-wide limiter over the configured storage."""
    global _limiter
    with _lock:
        if _limiter is None:
            storage = storage_from_string(_storage_uri(), key_prefix="ajira-limits")
            _limiter = MovingWindowRateLimiter(storage)
        return _limiter


def reset() -> None:
    """Forget every count (tests, and `ajira` commands that start afresh)."""
    global _limiter
    with _lock:
        if _limiter is not None:
            _limiter.storage.reset()
        _limiter = None


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Counts of their own, in memory, while inside: for runs on a throwaway database
    (the assistant eval), which must neither see nor touch the service's counts."""
    global _limiter
    with _lock:
        saved, _limiter = _limiter, MovingWindowRateLimiter(storage_from_string("memory://"))
    try:
        yield
    finally:
        with _lock:
            _limiter = saved


@lru_cache(maxsize=64)
def rules(notation: str) -> tuple[RateLimitItem, ...]:
    """Parse "5/15 minutes;20/day" once."""
    return tuple(parse_many(notation))


def private(value: str) -> str:
    """A stable stand-in for a login or an address, so storage never holds them in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def hit(notation: str, scope: str, *key: str, message: str) -> None:
    """Count one event for `key` under every rule; raise `RateLimited` once any is used up.

    Storage trouble (Redis restarting) lets the event through: a limit must not turn an
    outage of the counter into an outage of the service.
    """
    chosen = limiter()
    for item in rules(notation):
        try:
            allowed = chosen.hit(item, scope, *key)
        except Exception:
            log.warning("rate_limit_storage_unavailable", exc_info=True)
            return
        if not allowed:
            reset_at = chosen.get_window_stats(item, scope, *key).reset_time
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(message, retry_after_s=retry_after)


def clear(notation: str, scope: str, *key: str) -> None:
    """Forget the counts of `key` (a right password ends a run of wrong ones)."""
    chosen = limiter()
    for item in rules(notation):
        try:
            chosen.clear(item, scope, *key)
        except Exception:
            log.warning("rate_limit_storage_unavailable", exc_info=True)
            return
