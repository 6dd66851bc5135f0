"""Secret keys: one master key, from the environment or generated once per installation.

No key in the source signs anything. With `AJIRA_SECRET_KEY` unset, a random master key
is created on first use and kept in `AJIRA_DATA_DIR/secret_key` (mode 0600); production
refuses to start without an explicit one (see `hrcore.config`). Each use gets its own key
derived with HKDF (RFC 5869) under a distinct label, so a token key can never be turned
into the key of the mood hashes and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from functools import lru_cache
from pathlib import Path

from hrcore.config import Settings, get_settings

KEY_FILE = "secret_key"
TOKENS = b"ajira/tokens/v1"
MOOD = b"ajira/wellness-mood/v1"
MENU_INPUT = b"ajira/menu-input/v1"
REPORT_LINKS = b"ajira/report-links/v1"
_lock = threading.Lock()


def _hkdf(master: bytes, label: bytes) -> bytes:
    # HKDF-Extract with a fixed salt, then one block of HKDF-Expand: 32 bytes per label.
    prk = hmac.new(b"ajira-hkdf-salt", master, hashlib.sha256).digest()
    return hmac.new(prk, label + b"\x01", hashlib.sha256).digest()


def _read_or_create(path: Path) -> str:
    with _lock:
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            # O_EXCL: of two processes starting at once, one writes and both read its key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
        return key


def master_key(settings: Settings | None = None) -> str:
    """The configured `AJIRA_SECRET_KEY`, or this installation's generated key."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / KEY_FILE
    key = _read_or_create(path)
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it to generate a new one")
    return key


@lru_cache(maxsize=16)
def _derived(master: str, label: bytes) -> bytes:
    return _hkdf(master.encode(), label)


def token_keys() -> list[bytes]:
    """Keys that verify tokens: the current one first, then `AJIRA_PREVIOUS_SECRET_KEYS`."""
    settings = get_settings()
    current = _derived(master_key(settings), TOKENS)
    return [current, *(_derived(old, TOKENS) for old in settings.previous_secret_keys)]


def token_key() -> bytes:
    """The key that signs access and refresh tokens."""
    return _derived(master_key(), TOKENS)


def key_id(key: bytes) -> str:
    """A public name for a key (the JWT `kid`), so verification picks it without trying all."""
    return hashlib.sha256(b"kid:" + key).hexdigest()[:16]


def mood_key() -> bytes:
    """The key of the once-a-day mood hashes; unrelated to the token key."""
    return _derived(master_key(), MOOD)


def menu_input_key() -> bytes:
    """The key of the digests that stand for what a phone menu was sent (it holds PINs)."""
    return _derived(master_key(), MENU_INPUT)


def report_link_keys() -> list[bytes]:
    """Keys that verify report links: the current one first, then those being rotated out."""
    settings = get_settings()
    current = _derived(master_key(settings), REPORT_LINKS)
    return [current, *(_derived(old, REPORT_LINKS) for old in settings.previous_secret_keys)]


def report_link_key() -> bytes:
    """The key that signs short-lived links to report charts; unrelated to the token key."""
    return _derived(master_key(), REPORT_LINKS)
