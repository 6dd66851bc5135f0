"""Password and PIN hashing (argon2id)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_secret(secret: str) -> str:
    """Hash a password or PIN for storage."""
    return _hasher().hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """Check a password or PIN; a missing hash never matches."""
    if not hashed:
        # Spend the same time as a real check so a missing account cannot be told apart.
        _hasher().verify(secret, _DUMMY_HASH())
        return False
    return _hasher().verify(secret, hashed)


@lru_cache
def _DUMMY_HASH() -> str:  # noqa: N802 - a constant computed once
    return _hasher().hash("ajira-dummy-secret")
