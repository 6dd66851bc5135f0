"""REST throughput: concurrent clients clock in through `ajira serve`, beside pgbench.

N clients, each with its own employees and bearer tokens, call
`POST /api/v1/tools/clock_in` as fast as the server answers (every call a different
employee, so each one writes a shift, its audit row and commits). The peer is PostgreSQL's
own `pgbench` (from the embedded server's binaries) inserting one row per transaction into
a table of the same database with the same number of clients: what the database alone
sustains on this machine at that moment. It runs for a few seconds before and after the
REST load and the mean counts, so a change in the machine's load shows as their spread.

`GET /healthz` through the same client and server, at the same concurrency, is a second
peer: the ceiling of the HTTP stack and of this Python client on two shared cores, so the
REST figure can be read against what any request costs here.

The tokens are issued in-process (`hrcore.auth.service.open_session`), as a login would,
without hashing a password for each employee; the server checks them as usual.

    python bench/rest_throughput.py [--clients 40] [--requests 100] [--quick] [--json out.json]

--quick: 20 clients x 30 requests, pgbench 3 s each time (else 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _common import Result, Server, fresh_database, percentile, quick_flag, write_results
from sqlalchemy import Engine

from hrcore import db
from hrcore.actor import Role
from hrcore.auth.service import open_session
from hrcore.people.models import Organization, User

TOOL = "/api/v1/tools/clock_in"
PEER_TABLE_DDL = (
    "CREATE TABLE bench_peer"
    " (id bigserial PRIMARY KEY, employee_id bigint NOT NULL, at timestamptz NOT NULL)"
)
PEER_SCRIPT = """\\set employee random(1, 1000000)
INSERT INTO bench_peer (employee_id, at) VALUES (:employee, now());
"""


# (method, path, bearer token or None): one request of a client's list.
Call = tuple[str, str, str | None]


@dataclass
class Load:
    """What one load phase measured."""

    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int]
    client_cpu_s: float

    @property
    def per_second(self) -> float:
        """Answers per second over the phase."""
        return self.requests / self.seconds


def _seed(count: int) -> list[str]:
    """`count` employees of one employer, each with a signed-in session: their tokens."""
    with db.unit_of_work() as session:
        org = Organization(
            slug="rest-bench",
            name="REST Bench Ltd",
            country="KE",
            timezone="Africa/Nairobi",
            currency="KES",
        )
        session.add(org)
        session.flush()
        people = [
            User(
                organization_id=org.id,
                full_name=f"Worker {i}",
                email=f"w{i}@rest.bench.test",
                role=Role.EMPLOYEE,
                hire_date=date(2020, 1, 6),
            )
            for i in range(count)
        ]
        session.add_all(people)
        session.flush()
        return [open_session(session, person).access_token for person in people]


async def _load(base: str, clients: int, work: list[list[Call]]) -> Load:
    """Each client sends its (method, path, token) list one after the other; all at once."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def client(calls: list[Call], http: httpx.AsyncClient) -> None:
        for method, path, token in calls:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            started = time.perf_counter()
            if method == "POST":
                response = await http.post(path, json={}, headers=headers)
            else:
                response = await http.get(path, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] += 1

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        await asyncio.gather(*(http.get("/healthz") for _ in range(clients)))  # open connections
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(client(calls, http) for calls in work))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return Load(sum(len(w) for w in work), seconds, latencies, statuses, cpu)


def _login_role(engine: Engine) -> psycopg.Connection[Any]:
    """A plain connection as the database's login role, which pgbench also uses.

    Not through the application's engine: its connections take the application's
    role, which may not create tables and sees rows only for the organization it acts for.
    """
    url = engine.url
    return psycopg.connect(
        host=str(url.query["host"]), user=url.username, dbname=url.database, autocommit=True
    )


def pgbench_binary() -> Path:
    """`pgbench` of the PostgreSQL that the pgserver wheel bundles."""
    import pgserver  # the embedded server's own binaries, the same build as the database

    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    if not binary.exists():
        raise RuntimeError(f"no pgbench in the pgserver wheel ({binary})")
    return binary


def pgbench(engine: Engine, clients: int, seconds: int, script: Path) -> dict[str, float]:
    """pgbench's single-row INSERT transactions per second on the benchmark's database."""
    url = engine.url
    threads = 2 if clients % 2 == 0 else 1  # two cores; pgbench wants a divisor of clients
    command = [
        str(pgbench_binary()),
        "--no-vacuum",
        f"--file={script}",
        f"--client={clients}",
        f"--jobs={threads}",
        f"--time={seconds}",
        f"--host={url.query['host']}",
        f"--username={url.username}",
        str(url.database),
    ]
    finished = subprocess.run(  # noqa: S603 - the bundled binary, our own arguments
        command, capture_output=True, text=True, check=False, timeout=600
    )
    if finished.returncode != 0:
        raise RuntimeError(f"pgbench failed: {finished.stderr.strip() or finished.stdout}")
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", finished.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", finished.stdout)
    if found is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{finished.stdout}")
    return {
        "tps": float(found.group(1)),
        "latency_avg_ms": float(latency.group(1)) if latency else float("nan"),
    }


def _summary(name: str, load: Load) -> dict[str, Any]:
    return {
        "what": name,
        "requests": load.requests,
        "seconds": round(load.seconds, 2),
        "per_s": round(load.per_second, 1),
        "p50_ms": round(statistics.median(load.latencies_ms), 1),
        "p95_ms": round(percentile(load.latencies_ms, 95), 1),
        "client_cpu_share": round(load.client_cpu_s / load.seconds, 2),
        "statuses": dict(sorted(load.statuses.items())),
    }


def main() -> None:
    """Run the three loads on one fresh database and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=None, help="40; 20 with --quick")
    parser.add_argument(
        "--requests", type=int, default=None, help="Per client: 100; 30 with --quick."
    )
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "20 clients x 30 requests")
    args = parser.parse_args()
    clients = args.clients or (20 if args.quick else 40)
    per_client = args.requests or (30 if args.quick else 100)
    pgbench_seconds = 3 if args.quick else 10

    # The server must verify the tokens signed here: one key for both processes.
    os.environ["AJIRA_SECRET_KEY"] = secrets.token_urlsafe(48)
    env = {"AJIRA_ENV": "development", "AJIRA_SECRET_KEY": os.environ["AJIRA_SECRET_KEY"]}
    warm_up = clients
    with tempfile.TemporaryDirectory(prefix="ajira-rest-") as tmp, fresh_database() as engine:
        script = Path(tmp) / "insert.sql"
        script.write_text(PEER_SCRIPT, encoding="utf-8")
        with _login_role(engine) as connection:
            connection.execute(PEER_TABLE_DDL)
        tokens = _seed(warm_up + clients * per_client)
        url = engine.url.render_as_string(hide_password=False)
        with Server(url, env) as server:
            clock_ins: list[Call] = [("POST", TOOL, token) for token in tokens]
            asyncio.run(_load(server.base, clients, [[call] for call in clock_ins[:warm_up]]))
            rest_work = clock_ins[warm_up:]
            before = pgbench(engine, clients, pgbench_seconds, script)
            health = asyncio.run(
                _load(
                    server.base,
                    clients,
                    [[("GET", "/healthz", None)] * per_client for _ in range(clients)],
                )
            )
            rest = asyncio.run(
                _load(server.base, clients, [rest_work[i::clients] for i in range(clients)])
            )
            after = pgbench(engine, clients, pgbench_seconds, script)
        with _login_role(engine) as connection:
            row = connection.execute("SELECT count(*) FROM attendance_records").fetchone()
            shifts = int(row[0]) if row else 0

    peer_tps = (before["tps"] + after["tps"]) / 2
    rows = [_summary("REST clock_in", rest), _summary("GET /healthz", health)]
    print(
        f"{clients} clients x {per_client} requests; shifts written: {shifts} "
        f"(expected {warm_up + clients * per_client})"
    )
    print("| what | requests | s | per s | p50 ms | p95 ms | client CPU / wall | answers |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['what']} | {row['requests']} | {row['seconds']} | {row['per_s']} "
            f"| {row['p50_ms']} | {row['p95_ms']} | {row['client_cpu_share']} "
            f"| {row['statuses']} |"
        )
    print(
        f"| pgbench INSERT, before / after | {pgbench_seconds} s each | | "
        f"{before['tps']:.0f} / {after['tps']:.0f} | {before['latency_avg_ms']:.1f} / "
        f"{after['latency_avg_ms']:.1f} (mean) | | | |"
    )
    if rest.statuses.keys() != {200}:
        print(f"  not every clock-in succeeded: {dict(rest.statuses)}")
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "pgbench": {"before": before, "after": after}}, indent=2)
        )
    load = f"{clients} clients × {per_client} calls, one employee per call"
    write_results(
        "rest_throughput",
        [
            Result(
                "REST clock_in through ajira serve",
                round(rest.per_second, 1),
                "req/s",
                peer="pgbench single-row INSERT, same database and clients",
                peer_value=round(peer_tps, 1),
                peer_unit="tx/s",
                note=load,
            ),
            Result(
                "REST clock_in through ajira serve",
                round(rest.per_second, 1),
                "req/s",
                peer="GET /healthz, same clients and server",
                peer_value=round(health.per_second, 1),
            ),
        ],
        quick=args.quick,
        params={
            "clients": clients,
            "requests_per_client": per_client,
            "pgbench_seconds": pgbench_seconds,
            "pgbench_tps_before": before["tps"],
            "pgbench_tps_after": after["tps"],
            "rest_statuses": dict(rest.statuses),
            "shifts": shifts,
        },
    )


if __name__ == "__main__":
    main()
