"""What every benchmark needs: a fresh migrated database and percentiles."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
