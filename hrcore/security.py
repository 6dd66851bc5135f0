"""Password and PIN hashing (argon2id) on a few low-priority threads of its own."""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from pwdlib import PasswordHash

from hrcore.config import get_settings

# Lower than everything else the process runs: a hash is slow on purpose and may wait.
_HASHING_NICENESS = 10


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def _lower_priority() -> None:
    # Linux schedules threads one by one and argon2's own lane threads inherit this, so a
    # flood of sign-ins leaves the cores to the requests behind it.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _HASHING_NICENESS)


@lru_cache
def _pool() -> ThreadPoolExecutor:
    # argon2 takes a core or more while it runs: a flood of sign-ins queues for these few
    # threads instead of taking every core and worker thread.
    return ThreadPoolExecutor(
        max_workers=get_settings().hash_concurrency,
        thread_name_prefix="ajira-hash",
        initializer=_lower_priority,
    )


def hash_secret(secret: str) -> str:
    """Hash a password or PIN for storage."""
    return _pool().submit(_hasher().hash, secret).result()


def _verify(secret: str, hashed: str | None) -> bool:
    if not hashed:
        # Spend the same time as a real check so a missing account cannot be told apart.
        _hasher().verify(secret, _dummy_hash())
        return False
    return _hasher().verify(secret, hashed)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """Check a password or PIN; a missing hash never matches."""
    return _pool().submit(_verify, secret, hashed).result()


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("ajira-dummy-secret")
