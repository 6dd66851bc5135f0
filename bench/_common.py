"""What every benchmark needs: a fresh migrated database, `ajira serve` on it, percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine

from hrcore import db
from hrcore.migrate import upgrade


def percentile(samples: list[float], pct: float) -> float:
    """The nearest-rank percentile of `samples` (pct from 0 to 100)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@contextmanager
def fresh_database() -> Iterator[Engine]:
    """A throwaway embedded PostgreSQL, migrated and made the process engine."""
    with tempfile.TemporaryDirectory(prefix="ajira-bench-") as tmp:
        engine = db.make_engine(db.start_embedded_postgres(Path(tmp), cleanup_mode="delete"))
        upgrade(engine)
        db.configure_engine(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`ajira serve` in a subprocess against the benchmark's database."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": url, "AJIRA_LOG_LEVEL": "WARNING", **env}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        ajira = Path(sys.executable).with_name("ajira")
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI from this virtualenv
            [str(ajira), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("ajira serve did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=20)
