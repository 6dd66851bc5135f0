"""What every benchmark needs: a fresh migrated database, `ajira serve` on it, percentiles,
and `write_results`, which hands its headline rows to bench/run_all.py (schema below)."""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    """A throwaway embedded PostgreSQL, migrated and made the process engine.

    The engine is the login role's (the schema's owner, a superuser here): benchmarks
    arrange many employers' rows at once, which row-level security would refuse to the
    application's role. `as_application` measures with the policies on; `ajira serve`
    (`Server`) always runs with them.
    """
    with tempfile.TemporaryDirectory(prefix="ajira-bench-") as tmp:
        url = db.start_embedded_postgres(Path(tmp), cleanup_mode="delete")
        engine = db.make_engine(url, app_role=None)
        upgrade(engine)
        db.configure_engine(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def as_application(engine: Engine) -> Iterator[Engine]:
    """`engine`'s database as the application sees it, as the process engine for the block.

    Its connections switch to the role the row-level-security policies bind, and each
    transaction is told its employer (`unit_of_work(actor)`, `tenancy.act_as`), so the
    same work timed inside and outside the block shows what the policies cost.
    """
    app = db.make_engine(engine.url)
    db.configure_engine(app)
    try:
        yield app
    finally:
        app.dispose()
        db.configure_engine(engine)


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


# -- results: the rows bench/run_all.py gathers into bench/RESULTS.md ---------------------
#
# A benchmark reports its headline figures by calling `write_results` once at the end:
#
#     from _common import Result, quick_flag, write_results
#
#     parser = argparse.ArgumentParser()
#     quick_flag(parser)  # --quick; on by default under `make bench-quick`
#     ...
#     write_results("rush", [
#         Result("clock_in p95 at 08:00, 300 people", p95, "ms",
#                peer="GET /healthz p95, same run", peer_value=floor_p95, aim_below=5),
#         Result("clock_in p95 at 08:00", p95, "ms", peer="aim", peer_value=100,
#                limit=True, aim_below=1),
#     ], quick=args.quick, params={"people": 300})
#
# Run alone, the script prints the rows as a markdown table. Under bench/run_all.py
# (`make bench`, `make bench-quick`) the environment variable AJIRA_BENCH_OUT names a
# directory, and the rows are also written there as `<benchmark>.json`:
#
#     {
#       "schema": 1,
#       "benchmark": "core_services",          # the script's name without .py
#       "quick": false,                        # a short run (make bench-quick)
#       "written_at": "2026-12-01T10:00:00+00:00",
#       "params": {"employees": 300},          # what the run was given, free-form
#       "rows": [
#         {
#           "figure": "clock_in throughput, 300 employees",
#           "value": 201.0, "unit": "ops/s",
#           "peer": "bare INSERT + COMMIT, same engine",   # or the limit's name
#           "peer_value": 1042.0, "peer_unit": "ops/s",
#           "limit": false,            # true: peer_value is a fixed aim, not measured
#           "ratio": 0.193,            # value / peer_value
#           "aim_below": null, "aim_above": null,   # bounds on the ratio, when there is an aim
#           "met": null,               # the ratio within them (null: no aim)
#           "note": ""
#         }
#       ]
#     }
#
# run_all runs every bench/[!_]*.py whose source calls `write_results(` (quick runs only
# those), so a new benchmark joins the table by calling it; nothing else to register.

RESULTS_DIR_ENV = "AJIRA_BENCH_OUT"
QUICK_ENV = "AJIRA_BENCH_QUICK"
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Result:
    """One figure of a benchmark beside the peer or limit it is judged by.

    A peer is measured in the same run on the same machine (a bare INSERT, pgbench,
    `GET /healthz`, PGVector); a limit (`limit=True`) is a fixed aim such as 100 ms.
    `ratio` is value / peer_value; on a shared machine it is the figure that counts.
    `aim_below` and `aim_above` bound the ratio when there is an aim.
    """

    figure: str
    value: float
    unit: str
    peer: str
    peer_value: float
    peer_unit: str = ""  # empty: the same unit as the value
    limit: bool = False
    aim_below: float | None = None
    aim_above: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """The value over the peer's (or the limit)."""
        return self.value / self.peer_value if self.peer_value else math.inf

    @property
    def met(self) -> bool | None:
        """Whether the ratio is within the aim; None when there is no aim."""
        if self.aim_below is None and self.aim_above is None:
            return None
        below = self.aim_below is None or self.ratio < self.aim_below
        above = self.aim_above is None or self.ratio >= self.aim_above
        return below and above

    @property
    def aim(self) -> str:
        """The aim on the ratio in words ("< 3×", "≥ 1×"), or empty."""
        parts = []
        if self.aim_above is not None:
            parts.append(f"≥ {self.aim_above:g}×")
        if self.aim_below is not None:
            parts.append(f"< {self.aim_below:g}×")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The row as stored in `<benchmark>.json`."""
        return {
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "peer": self.peer,
            "peer_value": self.peer_value,
            "peer_unit": self.peer_unit or self.unit,
            "limit": self.limit,
            "ratio": round(self.ratio, 4) if math.isfinite(self.ratio) else None,
            "aim_below": self.aim_below,
            "aim_above": self.aim_above,
            "met": self.met,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """A row read back from `<benchmark>.json` (ratio and met are recomputed)."""
        return cls(
            figure=str(data["figure"]),
            value=float(data["value"]),
            unit=str(data["unit"]),
            peer=str(data["peer"]),
            peer_value=float(data["peer_value"]),
            peer_unit="" if data.get("peer_unit") in (None, data["unit"]) else data["peer_unit"],
            limit=bool(data.get("limit", False)),
            aim_below=data.get("aim_below"),
            aim_above=data.get("aim_above"),
            note=str(data.get("note") or ""),
        )


def quick_flag(parser: argparse.ArgumentParser, help_text: str = "A short run.") -> None:
    """Add `--quick`, on by default when bench/run_all.py runs the quick set."""
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get(QUICK_ENV, "") == "1",
        help=f"{help_text} (default under make bench-quick)",
    )


def write_results(
    benchmark: str,
    rows: Sequence[Result],
    *,
    quick: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Path | None:
    """Print `rows` as a markdown table; under run_all also write `<benchmark>.json`.

    Returns the file written, or None when AJIRA_BENCH_OUT is not set (run alone).
    """
    print()
    print(markdown_table([(benchmark, row) for row in rows]))
    directory = os.environ.get(RESULTS_DIR_ENV)
    if not directory:
        return None
    path = Path(directory) / f"{benchmark}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": SCHEMA_VERSION,
        "benchmark": benchmark,
        "quick": quick,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": dict(params or {}),
        "rows": [row.to_json() for row in rows],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def number(value: float, unit: str = "") -> str:
    """A figure with about three significant digits and its unit."""
    if not math.isfinite(value):
        text = "∞"
    elif unit.startswith("recall") or abs(value) < 1:
        text = f"{value:.3f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    if not unit or unit.startswith("recall"):
        return text
    return f"{text} {unit}"


def ratio_text(ratio: float) -> str:
    """A ratio such as 0.43×, 12.5× or 1,042×."""
    if not math.isfinite(ratio):
        return "∞"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    if ratio >= 0.1:
        return f"{ratio:.2f}×"
    return f"{ratio:.3f}×"


def markdown_table(rows: Sequence[tuple[str, Result]]) -> str:
    """The one results table: benchmark, figure, peer or limit, ratio and aim per row."""
    lines = [
        "| benchmark | figure | value | peer or limit | peer / limit value | ratio | aim |",
        "| --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for benchmark, row in rows:
        aim = row.aim
        if row.met is not None:
            aim = f"{aim}: {'met' if row.met else '**missed**'}"
        cells = [
            benchmark,
            row.figure + (f" ({row.note})" if row.note else ""),
            number(row.value, row.unit),
            row.peer,
            number(row.peer_value, row.peer_unit or row.unit),
            ratio_text(row.ratio),
            aim or "—",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
