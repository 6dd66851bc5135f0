"""Faults mid-flight, as rows of the results table.

The fault scenarios are tests (`tests/test_faults.py`): one `ajira serve` in front of a
PostgreSQL stopped twice under a rush of clock-ins (once in order, once as a crash), a
Redis that goes away while people act, a model that times out or answers garbage, and a
worker killed mid-ingest. This runs them with pytest, as `make test` does, and turns the
figures they note into rows: how soon service came back, the slowest answer against the
bound a client waits, and what was counted exactly once. A failing scenario fails the run.

    python bench/faults.py [--quick]

--quick: the PostgreSQL restart only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import Result, quick_flag, write_results

ROOT = Path(__file__).resolve().parent.parent
#: Service should be back within this after the database returns (clients wait
#: `Retry-After`, 1-2 s, between tries).
RECOVERY_AIM_S = 10.0


def _run_scenarios(quick: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ajira-faults-") as tmp:
        figures = Path(tmp) / "figures.json"
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--basetemp={tmp}/pytest", "tests/test_faults.py",
        ]  # fmt: skip
        if quick:
            command += ["-k", "postgres"]
        env = {**os.environ, "AJIRA_FAULT_FIGURES": str(figures)}
        done = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 - pytest, ours
        if done.returncode != 0:
            sys.exit(f"the fault scenarios failed (pytest exit {done.returncode})")
        return {k: float(v) for k, v in json.loads(figures.read_text()).items()}


def _rows(f: dict[str, float]) -> list[Result]:
    rush = "PostgreSQL stopped mid-rush, in order then as a crash"
    rows = [
        Result(
            f"{rush}: actions acknowledged and held exactly once",
            int(f["postgres_held_once"]),
            "actions",
            peer="actions sent (each retried with its Idempotency-Key)",
            peer_value=int(f["postgres_actions"]),
            aim_above=1.0,
            note=f"{f['postgres_503']:.0f} of {f['postgres_answers']:.0f} answers were 503 "
            "with Retry-After, none other than 200 or 503",
        ),
        Result(
            f"{rush}: first 200 after the database returned (worst of the two)",
            f["postgres_recovery_s"],
            "s",
            peer="aim",
            peer_value=RECOVERY_AIM_S,
            limit=True,
            aim_below=1.0,
        ),
        Result(
            f"{rush}: slowest answer",
            f["postgres_slowest_s"],
            "s",
            peer="the client's timeout",
            peer_value=f["postgres_bound_s"],
            limit=True,
            aim_below=1.0,
        ),
    ]
    if "redis_slowest_s" in f:
        rows += [
            Result(
                "Redis stopped: slowest request while it was down",
                f["redis_slowest_s"],
                "s",
                peer="bound",
                peer_value=f["redis_bound_s"],
                limit=True,
                aim_below=1.0,
            ),
            Result(
                "Redis stopped: notifications sent in one attempt once it returned",
                int(f["redis_sent_once"]),
                "messages",
                peer="messages the SMS stand-in received",
                peer_value=int(f["redis_received"]),
                aim_above=1.0,
            ),
        ]
    if "model_slowest_s" in f:
        rows.append(
            Result(
                f"model timing out or answering garbage ({f['model_cases']:.0f} ways): "
                "slowest answer, nothing done",
                f["model_slowest_s"],
                "s",
                peer="bound (two model timeouts + 8 s)",
                peer_value=f["model_bound_s"],
                limit=True,
                aim_below=1.0,
            )
        )
    if "worker_passages" in f:
        rows.append(
            Result(
                "worker killed mid-ingest: passages once the task ran again",
                int(f["worker_passages"]),
                "passages",
                peer="passages in the document",
                peer_value=int(f["worker_passages_expected"]),
                aim_above=1.0,
                note="none embedded twice by a late duplicate",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick_flag(parser, "the PostgreSQL restart only")
    args = parser.parse_args()
    figures = _run_scenarios(args.quick)
    write_results("faults", _rows(figures), quick=args.quick, params={})


if __name__ == "__main__":
    main()
