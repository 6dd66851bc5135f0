"""Draw the README's chart: the demo employer's monthly work report, as hr sees it.

Usage: python scripts/render_demo_chart.py [--month 2026-10] [--language en]
       [--out docs/images/work-report-chart.png]

Runs against a throwaway embedded database (migrated, seeded with the demo employer,
deleted afterwards) with the clock set early in the month after `--month`, so the
demo's "last month" of attendance is that month and the image is the same every run.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hrcore import db
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.migrate import upgrade
from hrcore.people.models import User
from hrcore.people.service import actor_for
from hrcore.reports import service
from hrcore.reports.charts import work_chart
from hrcore.seed import seed_demo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "images" / "work-report-chart.png"
#: The demo's hr person: sees everyone at Jua Kali Foods.
VIEWER = "hr@demo.ajira.test"


@contextmanager
def _database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="ajira-chart-") as tmp:
        url = db.start_embedded_postgres(Path(tmp), cleanup_mode="delete")
        engine = db.make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def render(year: int, month: int, language: str, out: Path) -> int:
    """Seed the demo into a fresh database and write the work report chart; its size."""
    # Early on the 2nd of the next month: the seed's "last month" is the one asked for.
    after = (year + month // 12, month % 12 + 1)
    # Never committed: the database is thrown away anyway.
    with (
        _database() as engine,
        frozen(datetime(*after, 2, 6, 0, tzinfo=UTC)),
        Session(engine) as session,
    ):
        seed_demo(session, password=get_settings().demo_password)
        viewer = session.scalars(select(User).where(User.email == VIEWER)).one()
        report = service.work_report(session, actor_for(viewer), year=year, month=month)
        content = work_chart(report, language="sw" if language == "sw" else "en", fmt="png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    return len(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", default="2026-10", help="YYYY-MM (default 2026-10)")
    parser.add_argument("--language", choices=("en", "sw"), default="en")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    year, month = (int(part) for part in args.month.split("-"))
    service.check_month(year, month)
    size = render(year, month, args.language, args.out)
    print(f"wrote {args.out} ({size} bytes)")


if __name__ == "__main__":
    main()
