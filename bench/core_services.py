"""Throughput and latency of the core write services on the embedded PostgreSQL.

Each operation is a whole unit of work (service call + commit), as a request
would run it. A bare INSERT + COMMIT of a row of the same table, measured in
the same run on the same engine, is the peer, timed alternately with the operation
call by call: the ratio shows what the service's rules (permission, tenancy,
late/geofence or balance checks, audit) cost on top of the database's own
round-trip, independent of machine noise. Aim: a clock-in under 3x the peer.

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

#: A clock-in is the 08:00 rush's write: it should cost under 3 bare inserts.
AIMS = {"clock_in": 3.0}


def _measure(
    name: str, calls: list[Callable[[], object]], peers: list[Callable[[], object]]
) -> dict[str, float | str | int]:
    """Time `calls` and `peers` alternately, one of each in turn.

    Alternating call by call puts the operation and its peer under the same load, cache
    and autovacuum state; timing all the peers first let a busy minute land on one side.
    """
    samples: list[float] = []
    peer_samples: list[float] = []
    busy = 0.0
    for call, peer in zip(calls, peers, strict=True):
        t0 = time.perf_counter()
        peer()
        t1 = time.perf_counter()
        call()
        t2 = time.perf_counter()
        peer_samples.append((t1 - t0) * 1000)
        samples.append((t2 - t1) * 1000)
        busy += t2 - t1
    p50, peer_p50 = statistics.median(samples), statistics.median(peer_samples)
    return {
        "operation": name,
        "n": len(samples),
        "ops_per_s": round(len(samples) / busy, 1),
        "p50_ms": round(p50, 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "peer_p50_ms": round(peer_p50, 3),
        "p50_vs_peer": round(p50 / peer_p50, 2),
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

    def peers() -> list[Callable[[], object]]:
        return [_raw_insert(org.id, a.user_id) for a in actors]

    return [
        _measure("clock_in", [_unit(attendance.clock_in, a) for a in actors], peers()),
        _measure("clock_out", [_unit(attendance.clock_out, a) for a in actors], peers()),
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
            peers(),
        ),
    ]


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
    write_results(
        "core_services",
        [
            Result(
                f"{row['operation']} service call + commit, p50",
                float(row["p50_ms"]),
                "ms",
                peer="bare INSERT + COMMIT, same engine, p50 (alternating call by call)",
                peer_value=float(row["peer_p50_ms"]),
                aim_below=AIMS.get(str(row["operation"])),
                note=f"{args.employees} employees, one after the other",
            )
            for row in results
        ],
        quick=args.quick,
        params={"employees": args.employees},
    )


if __name__ == "__main__":
    main()
