"""USSD under load: concurrent sessions walk the leave-request flow against `ajira serve`.

Africa's Talking gives an application 15 seconds per screen, and people give up sooner.
50 callers each dial, pick "Request leave", the leave type, a date, one day and confirm
(six screens, the last one files the request), several times over. Every screen's latency
is reported per hop (p50/p95/p99). The floor is plain `GET /healthz`, probed every 20 ms
against the same server while the sessions run (and once before, quiet), so the ratio is
what the menu costs over what any request pays at that moment. The think time between
screens stands for the caller reading and typing (people take seconds; 0 is a stress test);
it varies from half to one and a half times the given value, and callers start at random
within the first think time, so screens do not arrive in lock-step waves.
The aim: p95 under 100 ms, and under 5x the floor.

The webhook rate limit is lifted for the run: every caller comes from 127.0.0.1 here, as
all of Africa's Talking's traffic comes from a few gateway addresses in production.

    python bench/ussd_sessions.py [--callers 50] [--rounds 4] [--think-ms 3000] [--quick]
        [--json out.json]

--quick: 20 callers x 2 sessions, 1 s think time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from _common import Result, Server, fresh_database, percentile, quick_flag, write_results
from sqlalchemy import func, select

from hrcore import db
from hrcore.actor import Role
from hrcore.calendar import is_working_day
from hrcore.leave.models import LeaveRequest
from hrcore.leave.service import ensure_default_leave_types
from hrcore.people.models import Organization, User

AIM_MS = 100.0
AIM_RATIO = 5.0
HOPS = ("dial", "menu", "type", "date", "days", "confirm")
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}


def _seed(callers: int) -> list[str]:
    with db.unit_of_work() as session:
        org = Organization(
            slug="ussd-bench",
            name="USSD Bench Ltd",
            country="KE",
            timezone="Africa/Nairobi",
            currency="KES",
        )
        session.add(org)
        session.flush()
        ensure_default_leave_types(session, org)
        boss = User(
            organization_id=org.id,
            full_name="Bench Supervisor",
            phone="+254711299999",
            role=Role.SUPERVISOR,
            hire_date=date(2020, 1, 6),
        )
        session.add(boss)
        session.flush()
        phones = [f"+2547113{i:05d}" for i in range(callers)]
        session.add_all(
            User(
                organization_id=org.id,
                full_name=f"Caller {i}",
                phone=phone,
                role=Role.EMPLOYEE,
                reports_to_id=boss.id,
                hire_date=date(2020, 1, 6),
            )
            for i, phone in enumerate(phones)
        )
    return phones


def _leave_days(rounds: int) -> list[date]:
    """One working day per round, the next ones from tomorrow (Kenya's calendar)."""
    days, day = [], date.today()
    while len(days) < rounds:
        day += timedelta(days=1)
        if is_working_day(day, country="KE"):
            days.append(day)
    return days


async def _post(client: httpx.AsyncClient, form: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    response = await client.post(
        "/channels/africastalking/ussd", content=urlencode(form), headers=FORM
    )
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response.text


async def _caller(
    client: httpx.AsyncClient,
    phone: str,
    days: list[date],
    think_s: float,
    samples: dict[str, list[float]],
    problems: list[str],
) -> None:
    rng = random.Random(phone)
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s))  # callers do not all dial at once
    for day in days:
        session_id = f"ATUid_{secrets.token_hex(16)}"
        inputs = ["", "3", "1", f"{day:%d%m}", "1", "1"]
        text = ""
        for hop, entry in zip(HOPS, inputs, strict=True):
            text = entry if not text else f"{text}*{entry}"
            form = {
                "sessionId": session_id,
                "serviceCode": "*384*12345#",
                "phoneNumber": phone,
                "networkCode": "63902",
                "text": text,
            }
            elapsed, body = await _post(client, form)
            samples[hop].append(elapsed)
            expected = "END Request #" if hop == "confirm" else "CON "
            if not body.startswith(expected):
                problems.append(f"{hop}: {body[:80]!r}")
                break
            if think_s:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def _healthz(client: httpx.AsyncClient, out: list[float], stop: asyncio.Event) -> None:
    """GET /healthz every 20 ms until `stop`: what any request pays at that moment."""
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        out.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        await asyncio.sleep(0.02)


async def _run(
    base: str, phones: list[str], days: list[date], think_s: float
) -> tuple[list[float], list[float], dict[str, list[float]], list[str], float]:
    limits = httpx.Limits(
        max_connections=len(phones) + 10, max_keepalive_connections=len(phones) + 10
    )
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        warm: dict[str, list[float]] = {hop: [] for hop in HOPS}
        await _caller(client, phones[0], _leave_days(len(days) + 1)[-1:], 0, warm, [])
        quiet: list[float] = []
        stop = asyncio.Event()
        prober = asyncio.create_task(_healthz(client, quiet, stop))
        await asyncio.sleep(3)
        stop.set()
        await prober
        floor: list[float] = []
        stop = asyncio.Event()
        prober = asyncio.create_task(_healthz(client, floor, stop))
        samples: dict[str, list[float]] = {hop: [] for hop in HOPS}
        problems: list[str] = []
        started = time.perf_counter()
        await asyncio.gather(
            *(_caller(client, phone, days, think_s, samples, problems) for phone in phones)
        )
        wall = time.perf_counter() - started
        stop.set()
        await prober
    return quiet, floor, samples, problems, wall


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=None, help="50; 20 with --quick")
    parser.add_argument("--rounds", type=int, default=None, help="Sessions per caller: 4; 2.")
    parser.add_argument(
        "--think-ms", type=float, default=None, help="Pause between screens: 3000; 1000."
    )
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "20 callers x 2 sessions, 1 s think time")
    args = parser.parse_args()
    quick = {"callers": 20, "rounds": 2, "think_ms": 1000.0}
    full = {"callers": 50, "rounds": 4, "think_ms": 3000.0}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    env = {
        "AJIRA_ENV": "development",
        "AJIRA_SECRET_KEY": secrets.token_urlsafe(48),
        "AJIRA_WEBHOOK_LIMIT": "1000000/minute",
    }
    days = _leave_days(args.rounds)
    with fresh_database() as engine:
        phones = _seed(args.callers)
        url = engine.url.render_as_string(hide_password=False)
        with Server(url, env) as server:
            quiet, floor, samples, problems, wall = asyncio.run(
                _run(server.base, phones, days, args.think_ms / 1000)
            )
        with db.unit_of_work() as session:
            filed = session.scalar(select(func.count()).select_from(LeaveRequest)) or 0

    floor_stats = _stats(floor)
    every = [value for hop in HOPS for value in samples[hop]]
    rows = {"healthz, quiet": _stats(quiet), "healthz during the load (floor)": floor_stats}
    rows.update({f"ussd {hop}": _stats(samples[hop]) for hop in HOPS})
    rows["ussd, every hop"] = _stats(every)
    print(
        f"{args.callers} concurrent callers x {args.rounds} sessions x {len(HOPS)} screens, "
        f"think time {args.think_ms:g} ms; {len(every)} screens in {wall:.1f} s "
        f"({len(every) / wall:.0f}/s); leave requests filed: {filed} "
        f"(expected {args.callers * args.rounds + 1}); problems: {len(problems)}"
    )
    print("| what | n | p50 | p95 | p99 | p50 / floor | p95 / floor |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['n']} | {row['p50_ms']} ms | {row['p95_ms']} ms | {row['p99_ms']} ms "
            f"| {row['p50_ms'] / floor_stats['p50_ms']:.1f}x "
            f"| {row['p95_ms'] / floor_stats['p95_ms']:.1f}x |"
        )
    worst = rows["ussd, every hop"]
    print(
        f"aim: p95 < {AIM_MS:g} ms and < {AIM_RATIO:g}x the floor -> "
        f"p95 {worst['p95_ms']} ms, {worst['p95_ms'] / floor_stats['p95_ms']:.1f}x"
    )
    for problem in problems[:5]:
        print("  problem:", problem)
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "problems": problems, "filed": filed}, indent=2)
        )
    load = (
        f"{args.callers} callers × {args.rounds} leave requests, {args.think_ms / 1000:g} s "
        f"to read each screen; {len(problems)} problems"
    )
    write_results(
        "ussd_sessions",
        [
            Result(
                "USSD screen latency, every hop, p95",
                worst["p95_ms"],
                "ms",
                peer="GET /healthz p95 during the same load (floor)",
                peer_value=floor_stats["p95_ms"],
                aim_below=AIM_RATIO,
                note=load,
            ),
            Result(
                "USSD screen latency, every hop, p95",
                worst["p95_ms"],
                "ms",
                peer="aim",
                peer_value=AIM_MS,
                limit=True,
                aim_below=1,
            ),
        ],
        quick=args.quick,
        params={
            "callers": args.callers,
            "rounds": args.rounds,
            "think_ms": args.think_ms,
            "filed": filed,
            "problems": len(problems),
        },
    )


if __name__ == "__main__":
    main()
