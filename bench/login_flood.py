"""A sign-in flood against `ajira serve`: does a legitimate request still get through?

40 clients loop on POST /api/v1/auth/login while one more client calls GET
/api/v1/auth/me with a valid token. Its latency during the flood is reported as a
ratio to its own quiet p50, measured in the same run against the same server.

Two floods: with the default sign-in limits (one attacker's address is soon answered
429 without any hashing), and with the limits lifted, so that every attempt hashes a
password, as a flood from many addresses would make it. The aim is under 3x either way.

    python bench/login_flood.py [--clients 40] [--seconds 15] [--quick] [--json out.json]

--quick: 4 s of flood in each scenario.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from _common import Result, Server, fresh_database, percentile, quick_flag, write_results

from hrcore import db
from hrcore.actor import Role
from hrcore.people.models import Organization, User
from hrcore.security import hash_secret

PASSWORD = "flood-bench-password"  # noqa: S105 - a throwaway database
AIM = 3.0


def _seed(people: int) -> list[str]:
    with db.unit_of_work() as session:
        org = Organization(
            slug="flood", name="Flood Ltd", country="KE", timezone="Africa/Nairobi", currency="KES"
        )
        session.add(org)
        session.flush()
        hashed = hash_secret(PASSWORD)
        emails = [f"user{i}@flood.test" for i in range(people)]
        session.add_all(
            User(
                organization_id=org.id,
                full_name=f"User {i}",
                email=email,
                role=Role.EMPLOYEE,
                hire_date=date(2026, 1, 5),
                password_hash=hashed,
            )
            for i, email in enumerate(emails)
        )
    return emails


def _probe(
    base: str, token: str, seconds: float, stop: threading.Event | None = None
) -> list[float]:
    """Sequential GET /auth/me for `seconds`; the latency of each, in ms."""
    samples = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (stop and stop.is_set()):
            t0 = time.perf_counter()
            response = client.get("/api/v1/auth/me", headers=headers)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
            time.sleep(0.02)
    return samples


def _flood(base: str, emails: list[str], clients: int, stop: threading.Event) -> Counter[int]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def attacker(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while not stop.is_set():
                email = emails[(n + statuses.total()) % len(emails)]
                body = {"login": email, "password": secrets.token_hex(6)}
                status = client.post("/api/v1/auth/login", json=body).status_code
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()
    return statuses


def _scenario(
    name: str, url: str, env: dict[str, str], emails: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    with Server(url, env) as server:
        login = httpx.post(
            server.base + "/api/v1/auth/login", json={"login": emails[0], "password": PASSWORD}
        )
        token = login.json()["access_token"]
        _probe(server.base, token, 1.0)  # warm up
        quiet = _probe(server.base, token, seconds / 2)
        stop = threading.Event()
        flood_result: dict[str, Counter[int]] = {}
        flooder = threading.Thread(
            target=lambda: flood_result.setdefault("s", _flood(server.base, emails, clients, stop))
        )
        flooder.start()
        time.sleep(1.0)  # let the flood build up
        loaded = _probe(server.base, token, seconds)
        stop.set()
        flooder.join()
    quiet_p50 = statistics.median(quiet)
    return {
        "scenario": name,
        "quiet_p50_ms": round(quiet_p50, 1),
        "flood_p50_ms": round(statistics.median(loaded), 1),
        "flood_p95_ms": round(percentile(loaded, 95), 1),
        "p50_ratio": round(statistics.median(loaded) / quiet_p50, 2),
        "p95_ratio": round(percentile(loaded, 95) / quiet_p50, 2),
        "me_calls_during_flood": len(loaded),
        "login_answers": dict(sorted(flood_result["s"].items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=None, help="15; 4 with --quick")
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "4 s of flood per scenario")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 15.0

    base_env = {"AJIRA_ENV": "development", "AJIRA_SECRET_KEY": secrets.token_urlsafe(48)}
    lifted = {
        **base_env,
        "AJIRA_LOGIN_LIMIT_PER_ADDRESS": "1000000/minute",
        "AJIRA_LOGIN_LIMIT_PER_ACCOUNT": "1000000/minute",
    }
    with tempfile.TemporaryDirectory(prefix="ajira-flood-"), fresh_database() as engine:
        emails = _seed(50)
        url = engine.url.render_as_string(hide_password=False)
        rows = [
            _scenario("default limits", url, base_env, emails, args.clients, args.seconds),
            _scenario("limits lifted", url, lifted, emails, args.clients, args.seconds),
        ]
    print("| scenario | quiet p50 | flood p50 | flood p95 | p50 ratio | p95 ratio | aim |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['quiet_p50_ms']} ms | {row['flood_p50_ms']} ms "
            f"| {row['flood_p95_ms']} ms | {row['p50_ratio']}x | {row['p95_ratio']}x | <{AIM}x |"
        )
        print(f"  login answers during the flood: {row['login_answers']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    write_results(
        "login_flood",
        [
            Result(
                f"GET /auth/me p95 during a login flood, {row['scenario']}",
                float(row["flood_p95_ms"]),
                "ms",
                peer="its own quiet p50, same server",
                peer_value=float(row["quiet_p50_ms"]),
                aim_below=AIM,
                note=f"{args.clients} clients, {args.seconds:g} s; p50 ratio {row['p50_ratio']}×",
            )
            for row in rows
        ],
        quick=args.quick,
        params={"clients": args.clients, "seconds": args.seconds},
    )


if __name__ == "__main__":
    main()
