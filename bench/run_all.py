"""Run every benchmark, then print one table of their headline figures and write bench/RESULTS.md.

Each bench/[!_]*.py runs in its own process, one after the other (the machine has two
shared cores: benchmarks side by side would measure each other). A benchmark joins the
table by calling `_common.write_results` (see there for the row format); under this
runner its rows land in a temporary directory named by AJIRA_BENCH_OUT and are read back
here. Every row carries the peer or limit it is judged by, measured in the same run, and
the ratio, which is what to compare between runs on a shared machine.

    python bench/run_all.py            # every benchmark, full size (make bench)
    python bench/run_all.py --quick    # only those with rows, short versions (make bench-quick)
    python bench/run_all.py --only rest_throughput --only payroll_run

RESULTS.md also names the date, the machine (CPU, cores, memory, load), the commit and
each benchmark's run time; `--readme` copies the table into README.md's Benchmarks section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import QUICK_ENV, RESULTS_DIR_ENV, Result, markdown_table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUTPUT = BENCH / "RESULTS.md"
README = ROOT / "README.md"
README_START = "<!-- bench-results:start -->"
README_END = "<!-- bench-results:end -->"
# The table's order; benchmarks not named here follow alphabetically.
ORDER = (
    "core_services",
    "rest_throughput",
    "agent_overhead",
    "offline_model",
    "ussd_sessions",
    "retrieval",
    "payroll_run",
    "login_flood",
    "rush",
    "faults",
)
TIMEOUT_S = {"quick": 300, "full": 3 * 3600}
#: Left out of `make bench-quick` (under 5 minutes): the fault scenarios take 2 minutes
#: and also run in `make test`.
FULL_ONLY = frozenset({"faults"})


@dataclass
class Run:
    """One benchmark's process: how it went and the rows it wrote."""

    name: str
    reports: bool
    seconds: float = 0.0
    returncode: int | None = None
    rows: list[Result] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


def benchmarks() -> list[tuple[str, bool]]:
    """(name, writes rows) of every bench/[!_]*.py but this one, in the table's order."""
    found = {
        path.stem: "write_results(" in path.read_text(encoding="utf-8")
        for path in BENCH.glob("[!_]*.py")
        if path.resolve() != Path(__file__).resolve()
    }
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0]))


def run_one(name: str, reports: bool, *, quick: bool, out: Path) -> Run:
    """Run bench/<name>.py to the end, its output passed through; read its rows."""
    run = Run(name, reports)
    env = {**os.environ, RESULTS_DIR_ENV: str(out), QUICK_ENV: "1" if quick else "0"}
    env["PYTHONUNBUFFERED"] = "1"
    print(f"\n== bench/{name}.py{' (quick)' if quick else ''}", flush=True)
    started = time.perf_counter()
    try:
        finished = subprocess.run(  # noqa: S603 - our own scripts with this interpreter
            [sys.executable, str(BENCH / f"{name}.py")],
            cwd=ROOT,
            env=env,
            check=False,
            timeout=TIMEOUT_S["quick" if quick else "full"],
        )
        run.returncode = finished.returncode
        if finished.returncode != 0:
            run.problem = f"exited with {finished.returncode}"
    except subprocess.TimeoutExpired:
        run.problem = f"stopped after {TIMEOUT_S['quick' if quick else 'full']} s"
    run.seconds = time.perf_counter() - started
    written = out / f"{name}.json"
    if reports and written.exists():
        document = json.loads(written.read_text(encoding="utf-8"))
        run.rows = [Result.from_json(row) for row in document.get("rows", [])]
        run.params = document.get("params", {})
    elif reports and not run.problem:
        run.problem = "wrote no rows"
    return run


def _proc(path: str, pattern: str) -> str | None:
    try:
        found = re.search(pattern, Path(path).read_text(encoding="utf-8"), re.MULTILINE)
    except OSError:
        return None
    return found.group(1).strip() if found else None


def machine() -> dict[str, Any]:
    """CPU model, cores, memory and load, from /proc where there is one."""
    memory_kb = _proc("/proc/meminfo", r"^MemTotal:\s+(\d+) kB")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    return {
        "cpu": _proc("/proc/cpuinfo", r"^model name\s*:\s*(.+)$") or platform.processor(),
        "cores": usable,
        "memory_gib": round(int(memory_kb) / 1024**2, 1) if memory_kb else None,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": _postgres_version(),
    }


def _postgres_version() -> str:
    try:
        return f"pgserver {metadata.version('pgserver')}"
    except metadata.PackageNotFoundError:
        return "unknown"


def load_average() -> str:
    """The 1-minute load average now: how busy the shared machine was."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed git subcommands
        ["git", *args],  # noqa: S607 - git from PATH, as make finds it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.rstrip()


def commit() -> str:
    """The checked-out commit, and where the tree differs from it (bench/, hrcore/...)."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not changed:
        return head
    tops = sorted(
        {line[3:].split("/", 1)[0] + ("/" if "/" in line[3:] else "") for line in changed}
    )
    shown = ", ".join(tops[:6]) + (", …" if len(tops) > 6 else "")
    return f"{head} with uncommitted changes in {shown}"


def duration(seconds: float) -> str:
    """12 min 5 s, or 48 s."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def header(
    quick: bool, started: datetime, seconds: float, loads: tuple[str, str], revision: str
) -> str:
    """The line that says when, where and how the table was measured."""
    box = machine()
    kind = "Quick run (`make bench-quick`)" if quick else "Full run (`make bench`)"
    memory = f"{box['memory_gib']} GiB RAM" if box["memory_gib"] else "RAM unknown"
    return (
        f"{kind}, {started:%Y-%m-%d %H:%M} UTC, commit {revision}, {duration(seconds)}. "
        f"Machine: {box['cpu']}, {box['cores']} cores, {memory}, {box['system']}, "
        f"Python {box['python']}, {box['postgresql']}; "
        f"load average {loads[0]} at the start, {loads[1]} at the end."
    )


def runs_table(runs: list[Run]) -> str:
    """Each benchmark's run time and outcome."""
    lines = ["| benchmark | run time | rows | outcome |", "| --- | ---: | ---: | --- |"]
    for run in runs:
        outcome = run.problem or ("ok" if run.reports else "ok (prints its own tables)")
        lines.append(f"| {run.name} | {duration(run.seconds)} | {len(run.rows)} | {outcome} |")
    return "\n".join(lines)


def document(top: str, table: str, runs: list[Run]) -> str:
    """The text of bench/RESULTS.md."""
    return (
        "# Benchmark results\n\n"
        "Written by `bench/run_all.py` (`make bench`, `make bench-quick`); do not edit by hand.\n\n"
        f"{top}\n\n"
        "Each row is one figure beside its peer, measured in the same run on the same "
        "machine, or a fixed limit (an aim); the ratio is figure ÷ peer. The machine is "
        "shared, so absolute figures move from run to run; compare ratios.\n\n"
        f"{table}\n\n"
        "## Runs\n\n"
        f"{runs_table(runs)}\n\n"
        "What each benchmark does, and what its figures mean: README.md, section Benchmarks, "
        "and the docstring at the top of each bench/*.py.\n"
    )


def update_readme(top: str, table: str) -> None:
    """Replace the table between README.md's bench-results markers."""
    text = README.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {README_START} … {README_END} block")
    block = f"{README_START}\n{top}\n\n{table}\n"
    README.write_text(text[:start] + block + text[end:], encoding="utf-8")


def main() -> None:
    """Run the benchmarks, print the table, write bench/RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Short versions, rows only.")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="Just this one; repeatable."
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="Default: bench/RESULTS.md.")
    parser.add_argument("--readme", action="store_true", help="Also copy the table into README.md.")
    args = parser.parse_args()
    if args.readme and args.only:
        parser.error("--readme copies the whole table: not with --only")

    chosen = [
        (name, reports)
        for name, reports in benchmarks()
        if (reports or not args.quick)
        and not (args.quick and name in FULL_ONLY and name not in args.only)
        and (not args.only or name in args.only)
    ]
    if not chosen:
        raise SystemExit("No benchmark to run.")
    print("Benchmarks:", ", ".join(name for name, _ in chosen), flush=True)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    first_load, revision = load_average(), commit()
    with tempfile.TemporaryDirectory(prefix="ajira-bench-results-") as out:
        runs = [run_one(name, reports, quick=args.quick, out=Path(out)) for name, reports in chosen]
    seconds = time.perf_counter() - started

    top = header(args.quick, started_at, seconds, (first_load, load_average()), revision)
    table = markdown_table([(run.name, row) for run in runs for row in run.rows])
    args.output.write_text(document(top, table, runs), encoding="utf-8")
    summary = BENCH / "results" / f"run_all{'-quick' if args.quick else ''}.json"
    summary.parent.mkdir(exist_ok=True)
    summary.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "started_at": started_at.isoformat(timespec="seconds"),
                "seconds": round(seconds, 1),
                "machine": machine(),
                "commit": revision,
                "benchmarks": [
                    {
                        "benchmark": run.name,
                        "seconds": round(run.seconds, 1),
                        "problem": run.problem,
                        "params": run.params,
                        "rows": [row.to_json() for row in run.rows],
                    }
                    for run in runs
                ],
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    if args.readme:
        update_readme(top, table)

    print(f"\n{top}\n\n{table}\n\n{runs_table(runs)}\n")
    print(f"Written to {args.output}" + (" and README.md" if args.readme else ""))
    failed = [run.name for run in runs if run.problem]
    if failed:
        raise SystemExit(f"Not every benchmark finished: {', '.join(failed)}")


if __name__ == "__main__":
    main()
