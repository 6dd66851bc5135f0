"""Throughput and latency of the core write services on the embedded PostgreSQL.

Each operation is a whole unit of work (service call + commit), as a request
would run it. A bare INSERT + COMMIT of a row of the same table, measured in
the same run on the same engine, is the peer: the ratio shows what the
service's rules (permission, tenancy, late/geofence or balance checks, audit)
cost on top of the database's own round-trip, independent of machine noise.

    python bench/core_services.py [--employees 300] [--quick] [--json out.json]

--quick: 100 employees.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path

from _common import Result, fresh_database, percentile, quick_flag, write_results
from sqlalchemy import text

from hrcore import db
from hrcore.actor import Channel, Role
from hrcore.attendance import service as attendance
from hrcore.leave import service as leave
from hrcore.people.models import Organization, User
from hrcore.people.service import actor_for


def _measure(name: str, calls: list[Callable[[], object]]) -> dict[str, float | str | int]:
    samples = []
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    return {
        "operation": name,
        "n": len(samples),
        "ops_per_s": round(len(samples) / wall, 1),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 95), 2),
    }


def _setup(n: int) -> tuple[Organization, list[User]]:
    with db.unit_of_work() as session:
        org = Organization(
            slug="bench",
            name="Bench Ltd",
            country="KE",
            timezone="Africa/Nairobi",
            currency="KES",
            work_start=dtime(8, 0),
            grace_minutes=10,
            default_annual_leave_days=21,
        )
        session.add(org)
        session.flush()
        leave.ensure_default_leave_types(session, org)
        boss = User(
            organization_id=org.id,
            full_name="Boss",
            email="boss@bench.test",
            role=Role.SUPERVISOR,
            hire_date=date(2020, 1, 1),
        )
        session.add(boss)
        session.flush()
        people = [
            User(
                organization_id=org.id,
                full_name=f"Worker {i}",
                email=f"w{i}@bench.test",
                role=Role.EMPLOYEE,
                hire_date=date(2020, 1, 1),
                reports_to_id=boss.id,
            )
            for i in range(n)
        ]
        session.add_all(people)
        session.flush()
        session.expunge_all()
    return org, people


def _unit(fn: Callable[..., object], *args: object, **kwargs: object) -> Callable[[], object]:
    def call() -> object:
        with db.unit_of_work() as session:
            return fn(session, *args, **kwargs)

    return call


def _raw_insert(org_id: int, user_id: int) -> Callable[[], object]:
    def call() -> object:
        with db.unit_of_work() as session:
            session.execute(
                text(
                    "INSERT INTO audit_log (organization_id, actor_user_id, action, outcome)"
                    " VALUES (:o, :u, 'bench.peer', 'ok')"
                ),
                {"o": org_id, "u": user_id},
            )
        return None

    return call


def run(employees: int) -> list[dict[str, float | str | int]]:
    org, people = _setup(employees)
    actors = [actor_for(p, Channel.API) for p in people]
    year = date.today().year + 1
    first_monday = date(year, 2, 2) + timedelta(days=(7 - date(year, 2, 2).weekday()) % 7)
    results = [
        _measure("peer: INSERT + COMMIT", [_raw_insert(org.id, a.user_id) for a in actors]),
        _measure("clock_in", [_unit(attendance.clock_in, a) for a in actors]),
        _measure("clock_out", [_unit(attendance.clock_out, a) for a in actors]),
        _measure(
            "request_leave (2 days)",
            [
                _unit(
                    leave.request_leave,
                    a,
                    leave_type="annual",
                    start_date=first_monday,
                    end_date=first_monday + timedelta(days=1),
                )
                for a in actors
            ],
        ),
    ]
    peer = results[0]["p50_ms"]
    for row in results:
        row["p50_vs_peer"] = round(float(row["p50_ms"]) / float(peer), 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=None, help="300; 100 with --quick")
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "100 employees")
    args = parser.parse_args()
    if args.employees is None:
        args.employees = 100 if args.quick else 300
    with fresh_database():
        results = run(args.employees)
    print(f"{'operation':<26}{'n':>6}{'ops/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p50/peer':>10}")
    for r in results:
        print(
            f"{r['operation']:<26}{r['n']:>6}{r['ops_per_s']:>9}{r['p50_ms']:>9}"
            f"{r['p95_ms']:>9}{r['p50_vs_peer']:>10}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    peer = results[0]
    write_results(
        "core_services",
        [
            Result(
                f"{row['operation']} service call + commit",
                float(row["ops_per_s"]),
                "ops/s",
                peer="bare INSERT + COMMIT, same engine",
                peer_value=float(peer["ops_per_s"]),
                note=f"{args.employees} employees, one after the other",
            )
            for row in results[1:]
        ],
        quick=args.quick,
        params={"employees": args.employees},
    )


if __name__ == "__main__":
    main()
