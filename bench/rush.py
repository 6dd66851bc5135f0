"""The 08:00 rush: 2,000 people of five employers clock in within 5 minutes, on every channel.

Against the production-like stack (`bench/_rush_stack.py`): two `ajira serve` replicas,
Redis, `ajira worker` and `ajira beat`, Africa's Talking's SMS API as a local stand-in.
Every employee clocks in once, at a moment drawn from a morning peak (a Beta(3, 2.5)
over the window: the busiest 10 s carry about twice the average), by one channel:

- REST: `POST /api/v1/tools/clock_in` with the bearer token an app holds, and an
  `Idempotency-Key`; one employer checks a geofence, so its app sends a location.
- USSD: Africa's Talking's form posts: dial (`text=""`), read the menu, `1` (Clock in).
- SMS: Africa's Talking's inbound callback "clock me in"; the assistant answers by SMS
  through the outbox, the worker hands it to the stand-in, and the stand-in's delivery
  report comes back to `/channels/africastalking/sms/delivery` two seconds later.
- Web chat: `POST /api/v1/chat` "clock me in".

Some of one employer's staff also ask policy questions in the chat (its handbook is
indexed), answered with citations. Providers and phones retry: a share of the REST calls
is sent twice with the same key, of the SMS callbacks twice with the same id, of the USSD
screens twice, the second while the first may still be running. At the end of the window
the supervisors' late digest runs (`ajira automations run --only late_digest`), so the
outbox also carries news from a scheduled job. `/healthz` is probed every 20 ms
throughout: the floor any request pays at that moment.

Then, in the database: one shift per employee (none missing, none doubled), one
successful clock-in in the audit log per employee, every outbox row sent exactly once
(each stand-in message is one row's, each row's provider id is one stand-in message) and
delivered, one SMS reply per SMS clock-in, at most one late digest per supervisor. PASS
only with zero errors and all checks green; the exit code says so.

Configured as the README asks for production: every Africa's Talking callback URL carries
`?token=` (`AT_CALLBACK_TOKEN`), and the webhook limit is the product's default.
`--no-callback-token` shows what the per-address limit did to Africa's Talking's gateway
before a callback's token exempted it (60 of 2,000 clock-ins lost to 429s).

The "08:00" is made, not waited for: each employer's work start is set to the local
time a minute before 45% into the window, with no grace, so those who come after that
are late (lateness counts whole minutes). On a weekend or a public holiday nobody is late
and no digest is sent.

    python bench/rush.py [--quick] [--employees 2000] [--window 300] [--servers 2]
        [--json out.json] [--logs DIR]

--quick: 120 employees in 30 s (so that `make bench-quick` stays under 5 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import _rush_checks as checks
import _rush_stack as rush_stack
import httpx
from _common import fresh_database, quick_flag, write_results
from _rush_plan import (
    ALREADY,
    QUESTIONS,
    SITE,
    Employer,
    Person,
    Plan,
    mint_tokens,
    seed,
    set_work_start,
)
from _rush_report import AIM_KEPT_UP, Measured, Sample, report, result_rows

from assistant import memory
from hrcore.config import get_settings

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
#: The token every callback URL registered with Africa's Talking carries (README).
CALLBACK_TOKEN = secrets.token_urlsafe(24)
AT_CALLBACK = {"token": CALLBACK_TOKEN}


@dataclass
class Load:
    """What the rush measured; the clients of the replicas, round-robin."""

    clients: list[httpx.AsyncClient]
    t0: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    sms_sent_at: dict[str, float] = field(default_factory=dict)
    sms_ids: list[str] = field(default_factory=list)
    digest: tuple[int, str] = (0, "")
    #: How each clock-in answer went, per (user, channel): "in" or "already".
    outcomes: dict[tuple[int, str], str] = field(default_factory=dict)
    _next: int = 0

    def client(self) -> httpx.AsyncClient:
        self._next += 1
        return self.clients[self._next % len(self.clients)]

    async def call(
        self,
        what: str,
        send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
        judge: Callable[[httpx.Response], str | None],
        also: tuple[int, ...] = (),
    ) -> httpx.Response | None:
        """One request: timed, and judged (None: as expected; else what is wrong).

        Non-2xx answers are errors, except the statuses in `also`, which `judge` sees.
        """
        started = time.perf_counter()
        try:
            response = await send(self.client())
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - started) * 1000
            self.samples.append(Sample(what, started - self.t0, ms, False, type(exc).__name__))
            return None
        ms = (time.perf_counter() - started) * 1000
        problem: str | None
        if response.status_code >= 300 and response.status_code not in also:
            problem = f"HTTP {response.status_code}: {response.text[:160]}"
        else:
            problem = judge(response)
        self.samples.append(Sample(what, started - self.t0, ms, problem is None, problem or ""))
        return response


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _expect(condition: bool, body: str) -> str | None:
    return None if condition else f"unexpected answer: {body[:160]!r}"


def _clocked(load: Load, person: Person, channel: str, done: bool, text: str) -> str | None:
    """Note how a clock-in was answered; what is wrong with the answer, if anything.

    Someone clocking in on two channels at once is clocked in by one and told by the
    other that they already are.
    """
    if done:
        load.outcomes[(person.user_id, channel)] = "in"
        return None
    if person.second is not None and ALREADY in text.lower():
        load.outcomes[(person.user_id, channel)] = "already"
        return None
    return f"unexpected answer: {text[:160]!r}"


async def _rest(load: Load, person: Person, employer: Employer, rng: random.Random) -> None:
    body: dict[str, float] = {}
    if employer.geofence:
        # Most at the depot, a few down the road (flagged, not refused).
        spread = 0.001 if rng.random() < 0.9 else 0.02
        body = {
            "latitude": SITE[0] + rng.uniform(-spread, spread),
            "longitude": SITE[1] + rng.uniform(-spread, spread),
            "accuracy_m": rng.uniform(5, 40),
        }
    headers = {**_bearer(person.token), "Idempotency-Key": str(uuid.uuid4())}
    ids: list[int] = []

    def judge(response: httpx.Response) -> str | None:
        record = response.json().get("record_id")
        if isinstance(record, int):
            ids.append(record)
        return _clocked(load, person, "rest", isinstance(record, int), response.text)

    async def once(delay: float) -> None:
        await asyncio.sleep(delay)
        await load.call(
            "rest clock_in",
            lambda c: c.post("/api/v1/tools/clock_in", json=body, headers=headers),
            judge,
            also=(409,) if person.second else (),
        )

    tries = [once(0.0)]
    if person.duplicate:
        tries.append(once(rng.uniform(0, 0.3)))  # the app's retry after a dropped answer
    await asyncio.gather(*tries)
    if len(set(ids)) > 1:
        load.samples.append(Sample("rest clock_in", 0, 0, False, f"two records {ids}"))


async def _ussd(load: Load, person: Person, rng: random.Random) -> None:
    session_id = f"ATUid_{secrets.token_hex(16)}"

    def form(text: str) -> str:
        return urlencode(
            {
                "sessionId": session_id,
                "serviceCode": "*384*12#",
                "phoneNumber": person.phone,
                "networkCode": "63902",
                "text": text,
            }
        )

    def post(text: str) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        return lambda c: c.post(
            "/channels/africastalking/ussd", content=form(text), headers=FORM, params=AT_CALLBACK
        )

    home = await load.call(
        "ussd dial", post(""), lambda r: _expect(r.text.startswith("CON Hi "), r.text)
    )
    if home is None or not home.text.startswith("CON "):
        return
    await asyncio.sleep(rng.uniform(2, 5))  # reading the menu, pressing 1
    screens: list[str] = []

    def judge(response: httpx.Response) -> str | None:
        screens.append(response.text)
        done = response.text.startswith("END Clocked in at ")
        return _clocked(load, person, "ussd", done, response.text)

    async def once(delay: float) -> None:
        await asyncio.sleep(delay)
        await load.call("ussd clock in", post("1"), judge)

    tries = [once(0.0)]
    if person.duplicate:
        tries.append(once(rng.uniform(0, 0.3)))  # the network sends the screen again
    await asyncio.gather(*tries)
    if len(set(screens)) > 1:
        load.samples.append(Sample("ussd clock in", 0, 0, False, f"two answers {screens}"))


async def _sms(load: Load, person: Person, rng: random.Random) -> None:
    message_id = str(uuid.uuid4())
    body = urlencode(
        {
            "linkId": "",
            "text": "clock me in",
            "to": "22384",
            "id": message_id,
            "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
            "from": person.phone,
            "networkCode": "63902",
        }
    )
    load.sms_ids.append(message_id)
    load.sms_sent_at[person.phone] = time.perf_counter()

    async def once(delay: float) -> None:
        await asyncio.sleep(delay)
        await load.call(
            "sms webhook",
            lambda c: c.post(
                "/channels/africastalking/sms", content=body, headers=FORM, params=AT_CALLBACK
            ),
            lambda r: _expect(r.json().get("status") == "received", r.text),
        )

    tries = [once(0.0)]
    if person.duplicate:
        tries.append(once(rng.uniform(0, 2)))  # Africa's Talking's retry of the callback
    await asyncio.gather(*tries)


async def _chat(load: Load, person: Person, message: str, conversation: str, what: str) -> None:
    def judge(response: httpx.Response) -> str | None:
        answer = response.json()
        if what == "chat clock in":
            reply = str(answer.get("reply", ""))
            return _clocked(load, person, "chat", "Clocked in at" in reply, reply)
        return _expect(bool(answer.get("citations")), response.text)

    await load.call(
        what,
        lambda c: c.post(
            "/api/v1/chat",
            json={"message": message, "conversation_id": conversation},
            headers=_bearer(person.token),
            timeout=120,
        ),
        judge,
    )


async def _person(load: Load, plan: Plan, person: Person, rng: random.Random) -> None:
    employer = plan.employers[person.org]

    async def clock_in(channel: str, delay: float) -> None:
        await asyncio.sleep(max(0.0, load.t0 + person.at + delay - time.perf_counter()))
        if channel == "rest":
            await _rest(load, person, employer, rng)
        elif channel == "ussd":
            await _ussd(load, person, rng)
        elif channel == "sms":
            await _sms(load, person, rng)
        else:
            await _chat(load, person, "clock me in", "main", "chat clock in")

    async def ask() -> None:
        assert person.question is not None
        await asyncio.sleep(max(0.0, load.t0 + person.asks_at - time.perf_counter()))
        await _chat(load, person, person.question, "policy", "chat policy question")

    tries = [clock_in(person.channel, 0.0)]
    if person.second:
        tries.append(clock_in(person.second, rng.uniform(0, 0.5)))  # the app, and the phone
    if person.question:
        tries.append(ask())
    await asyncio.gather(*tries)


async def _probe(load: Load, stop: asyncio.Event) -> None:
    """GET /healthz every 20 ms until `stop`: what any request pays at that moment."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await load.client().get("/healthz")
            if response.status_code == 200:
                load.floor.append((time.perf_counter() - started) * 1000)
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.02)


async def _delivery_reports(
    load: Load, stand_in: rush_stack.RecordingAfricasTalking, stop: asyncio.Event
) -> None:
    """Post the stand-in's delivery report for each message it took, 2 s after it took it."""
    reported = 0
    while True:
        taken = stand_in.taken_so_far()
        due = [t for t in taken[reported:] if time.perf_counter() - t.at >= 2.0]
        for message in due:
            form = urlencode(
                {
                    "id": message.message_id,
                    "status": "Success",
                    "phoneNumber": message.to,
                    "networkCode": "63902",
                    "retryCount": "0",
                }
            )

            def send(c: httpx.AsyncClient, form: str = form) -> Awaitable[httpx.Response]:
                return c.post(
                    "/channels/africastalking/sms/delivery",
                    content=form,
                    headers=FORM,
                    params=AT_CALLBACK,
                )

            await load.call(
                "sms delivery report",
                send,
                lambda r: _expect(r.json().get("status") == "received", r.text),
            )
        reported += len(due)
        if stop.is_set() and reported == len(stand_in.taken_so_far()):
            return
        await asyncio.sleep(0.25)


async def rush(
    plan: Plan,
    stack: rush_stack.Stack,
    stand_in: rush_stack.RecordingAfricasTalking,
    window: float,
    drain_timeout: float,
    rng: random.Random,
) -> tuple[Load, float]:
    """Run the rush; what it measured, and how long the outbox took to drain after it."""
    limits = httpx.Limits(max_connections=600, max_keepalive_connections=200)
    clients = [httpx.AsyncClient(base_url=b, timeout=60, limits=limits) for b in stack.bases]
    load = Load(clients)
    try:
        stop_probe, stop_reports = asyncio.Event(), asyncio.Event()
        load.t0 = time.perf_counter()
        prober = asyncio.create_task(_probe(load, stop_probe))
        reporter = asyncio.create_task(_delivery_reports(load, stand_in, stop_reports))

        async def digest() -> None:
            await asyncio.sleep(window)
            load.digest = await asyncio.to_thread(
                rush_stack.run_command, stack.env, "automations", "run", "--only", "late_digest"
            )

        await asyncio.gather(
            digest(), *(_person(load, plan, p, random.Random(rng.random())) for p in plan.people)
        )
        last = max(s.started + s.ms / 1000 for s in load.samples) + load.t0
        drained_at = await asyncio.to_thread(
            checks.wait_for_quiet, load.sms_ids, stand_in, drain_timeout
        )
        stop_reports.set()
        await reporter
        drain = max(0.0, drained_at - last) if drained_at else math.inf
        # The last delivery reports are recorded before the outbox is judged.
        await asyncio.to_thread(checks.wait_for_delivered, 30)
        stop_probe.set()
        await prober
    finally:
        for client in clients:
            await client.aclose()
    return load, drain


def sms_round_trips(load: Load, stand_in: rush_stack.RecordingAfricasTalking) -> list[float]:
    """Per SMS clock-in: ms from its callback to its reply reaching the gateway."""
    first: dict[str, float] = {}
    for message in stand_in.taken_so_far():
        first.setdefault(message.to, message.at)
    return [
        (first[phone] - sent) * 1000 for phone, sent in load.sms_sent_at.items() if phone in first
    ]


def schedule(window: float) -> tuple[datetime, datetime]:
    """When the rush starts, and the start of work: a whole minute, a minute before 45% in.

    Lateness counts whole minutes, so everyone from 45% of the window on is late.
    """
    lead = timedelta(seconds=0.45 * window - 60)
    earliest = datetime.now(UTC) + timedelta(seconds=10) + lead
    work_start = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return work_start - lead, work_start


async def warm_up(
    stack: rush_stack.Stack, plan: Plan, tokens: dict[int, str], until: datetime
) -> list[float]:
    """Each replica's first request of each kind, then quiet `/healthz` until the rush."""
    hr = tokens[plan.employers[0].hr_id]
    quiet: list[float] = []
    clients = [httpx.AsyncClient(base_url=base, timeout=120) for base in stack.bases]
    try:
        for client in clients:
            ask = {"message": QUESTIONS[0], "conversation_id": "warm-up"}
            (await client.post("/api/v1/chat", json=ask, headers=_bearer(hr))).raise_for_status()
            history = "/api/v1/tools/attendance_history"
            (await client.post(history, json={}, headers=_bearer(hr))).raise_for_status()
        n = 0
        while datetime.now(UTC) < until:
            n += 1
            started = time.perf_counter()
            (await clients[n % len(clients)].get("/healthz")).raise_for_status()
            quiet.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    finally:
        for client in clients:
            await client.aclose()
    return quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    quick_flag(parser, "120 employees in 30 s")
    parser.add_argument("--employees", type=int)
    parser.add_argument("--window", type=float, help="Seconds in which everyone clocks in.")
    parser.add_argument("--employers", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--servers", type=int, default=2, help="`ajira serve` replicas.")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--no-beat", action="store_true")
    parser.add_argument("--duplicates", type=float, default=0.05, help="Share sent twice.")
    parser.add_argument(
        "--both", type=float, default=0.02, help="Share clocking in on two channels at once."
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument(
        "--webhook-limit",
        help="AJIRA_WEBHOOK_LIMIT for the run (default: the product's own default).",
    )
    parser.add_argument(
        "--no-callback-token",
        action="store_true",
        help="Africa's Talking's callbacks without ?token= (AT_CALLBACK_TOKEN unset).",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--logs", type=Path, help="Keep the processes' logs here.")
    args = parser.parse_args()
    employees = args.employees or (120 if args.quick else 2000)
    window = args.window or (30.0 if args.quick else 300.0)
    rng = random.Random(args.seed)
    if args.no_callback_token:
        AT_CALLBACK.clear()

    secret = secrets.token_urlsafe(48)
    # This process signs the app's tokens with the servers' key.
    os.environ["AJIRA_SECRET_KEY"] = secret
    get_settings.cache_clear()

    logs = args.logs or Path(tempfile.mkdtemp(prefix="ajira-rush-"))
    logs.mkdir(parents=True, exist_ok=True)
    with (
        rush_stack.africastalking() as stand_in,
        rush_stack.redis_server(logs) as redis_url,
        fresh_database() as engine,
    ):
        memory.setup_checkpointer()
        started = time.perf_counter()
        plan = seed(employees, args.employers, args.duplicates, args.both, window, rng)
        print(f"seeded {len(plan.people)} employees in {time.perf_counter() - started:.1f} s")
        env = {
            **os.environ,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "REDIS_URL": redis_url,
            "AJIRA_ENV": "development",
            "AJIRA_SECRET_KEY": secret,
            "AJIRA_LOG_LEVEL": "WARNING",
            "AJIRA_DATA_DIR": str(logs / "data"),
            **({} if args.no_callback_token else {"AT_CALLBACK_TOKEN": CALLBACK_TOKEN}),
            **({"AJIRA_WEBHOOK_LIMIT": args.webhook_limit} if args.webhook_limit else {}),
            **rush_stack.at_env(stand_in.base_url),
        }
        with rush_stack.stack(
            env,
            logs,
            servers=args.servers,
            concurrency=args.worker_concurrency,
            beat=not args.no_beat,
        ) as stack:
            tokens = mint_tokens(plan)
            rush_at, work_start = schedule(window)
            set_work_start(plan, work_start)
            quiet = asyncio.run(warm_up(stack, plan, tokens, until=rush_at))
            load, drain = asyncio.run(rush(plan, stack, stand_in, window, args.drain_timeout, rng))
            log_problems = stack.problems_in_logs()
        rows, figures = report(
            Measured(
                samples=load.samples,
                quiet=quiet,
                floor=load.floor,
                sms_round_trips=sms_round_trips(load, stand_in),
                drain_s=drain,
                window_s=window,
                people=len(plan.people),
                employers=len(plan.employers),
                by_channel=dict(plan.by_channel),
                arrivals=[p.at for p in plan.people],
            )
        )
        verdict = checks.verify(plan, stand_in, load.sms_ids, load.digest, load.outcomes)
    verdict.print()
    for name, lines in log_problems.items():
        print(f"  {name} log: {len(lines)} problem lines, first: {lines[0][:200]}")
    write_results(
        "rush",
        result_rows(figures, rows, verdict),
        quick=args.quick,
        params={"employees": employees, "window_s": window, "servers": args.servers,
                "worker_concurrency": args.worker_concurrency, "duplicates": args.duplicates},
    )  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "figures": figures}, indent=2) + "\n")
    passed = verdict.ok and figures["errors"] == 0 and figures["kept_up"] >= AIM_KEPT_UP
    print(f"logs: {logs}")
    print("PASS" if passed else "FAIL")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
