"""What a test needs from the machine (redis-server, Chromium), and what happens without it.

Locally a missing program skips the test, so a laptop without Chromium can still run the
rest. Under CI=true it fails: `.ci/run` installs both, so a missing one is a broken
machine, and a skip there would hide the very behaviour the test proves.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REDIS_HINT = "redis-server is not installed (apt-get install redis-server)"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}


def unavailable(reason: str) -> NoReturn:
    """Skip for want of `reason`, or fail under CI=true."""
    if in_ci():
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def redis_server_binary() -> str:
    """The path of `redis-server` (or `unavailable`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable(REDIS_HINT)
    return binary
