"""The assistant's own overhead per turn: time not spent inside the model, and database work.

Each turn runs the real agent (graph, middleware, Postgres checkpointer, tools in their
own transactions) with the offline model; the model is wrapped to time its own calls,
and the rest is the agent's overhead. Database statements are counted on both paths:
SQLAlchemy (context, tools, previews) and psycopg (the checkpointer).

    python bench/agent_overhead.py [--rounds 20] [--quick] [--json out.json]

--quick: 5 rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from _common import Result, fresh_database, percentile, quick_flag, write_results
from sqlalchemy import event

from assistant import memory
from assistant.offline import OfflineChatModel
from assistant.service import Assistant
from hrcore import db
from hrcore.actor import Channel, Role
from hrcore.leave import service as leave
from hrcore.people.models import Organization, User
from hrcore.people.service import actor_for

AIM_MS = 25.0
CONVERSATION = [
    ("clock_in", "clock me in"),
    ("balance", "how many annual leave days do I have?"),
    ("leave+confirm", "I want annual leave from 7 to 9 December 2026"),
    ("answer no", "no"),
    ("clock_out", "clock me out"),
]

_model_s = 0.0
_statements = 0


class TimedOfflineModel(OfflineChatModel):
    """The offline model, timing its own calls so they can be taken out of the total."""

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        global _model_s
        started = time.perf_counter()
        try:
            return await super()._agenerate(*args, **kwargs)
        finally:
            _model_s += time.perf_counter() - started


def _count_psycopg() -> None:
    # The checkpointer speaks psycopg directly; count its statements at the cursor.
    for name in ("execute", "executemany"):
        original = getattr(psycopg.AsyncCursor, name)

        async def counted(self: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            global _statements
            _statements += 1
            return await _original(self, *args, **kw)

        setattr(psycopg.AsyncCursor, name, counted)


def _count_sqlalchemy(engine: Any) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        global _statements
        _statements += 1


def _setup() -> User:
    with db.unit_of_work() as session:
        org = Organization(
            slug="bench-agent",
            name="Bench Agent Ltd",
            country="KE",
            timezone="Africa/Nairobi",
            currency="KES",
        )
        session.add(org)
        session.flush()
        leave.ensure_default_leave_types(session, org)
        user = User(
            organization_id=org.id,
            full_name="Bench Person",
            email="bench@agent.test",
            role=Role.EMPLOYEE,
            hire_date=date(2024, 1, 15),
        )
        session.add(user)
        session.flush()
        return user


async def _run(rounds: int) -> dict[str, dict[str, list[float]]]:
    global _model_s, _statements
    user = _setup()
    actor = actor_for(user, Channel.WEB)
    assistant = Assistant(model=TimedOfflineModel())
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    await assistant.turn(actor, "hello", conversation_id="warm-up")  # imports, pools, caches
    for n in range(rounds):
        for label, message in CONVERSATION:
            _model_s, _statements = 0.0, 0
            cpu_started = time.process_time()
            started = time.perf_counter()
            await assistant.turn(actor, message, conversation_id=f"round-{n}")
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            samples[label]["overhead_ms"].append((total - _model_s) * 1000)
            # CPU of this process (all threads, the model's own share included): on a
            # shared machine it moves far less than wall time when others load the cores.
            samples[label]["cpu_ms"].append(cpu * 1000)
            samples[label]["model_ms"].append(_model_s * 1000)
            samples[label]["statements"].append(float(_statements))
    await memory.close_async_checkpointer()
    return samples


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="20; 5 with --quick")
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "5 rounds")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 5 if args.quick else 20

    with fresh_database() as engine:
        memory.setup_checkpointer()
        _count_sqlalchemy(engine)
        _count_psycopg()
        samples = asyncio.run(_run(args.rounds))

    rows = []
    every: list[float] = []
    for label, values in samples.items():
        overhead = values["overhead_ms"]
        every += overhead
        rows.append(
            {
                "turn": label,
                "n": len(overhead),
                "overhead_p50_ms": round(statistics.median(overhead), 2),
                "overhead_p95_ms": round(percentile(overhead, 95), 2),
                "model_p50_ms": round(statistics.median(values["model_ms"]), 2),
                "cpu_p50_ms": round(statistics.median(values["cpu_ms"]), 2),
                "db_statements": round(statistics.median(values["statements"]), 1),
            }
        )
    p50, p95 = statistics.median(every), percentile(every, 95)
    rows.append(
        {
            "turn": "all",
            "n": len(every),
            "overhead_p50_ms": round(p50, 2),
            "overhead_p95_ms": round(p95, 2),
            "model_p50_ms": round(
                statistics.median([m for v in samples.values() for m in v["model_ms"]]), 2
            ),
            "cpu_p50_ms": round(
                statistics.median([c for v in samples.values() for c in v["cpu_ms"]]), 2
            ),
            "db_statements": round(
                statistics.median([s for v in samples.values() for s in v["statements"]]), 1
            ),
        }
    )
    header = (
        f"{'turn':<15}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'model ms':>10}"
        f"{'cpu ms':>10}{'db stmts':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['turn']:<15}{r['n']:>5}{r['overhead_p50_ms']:>10}{r['overhead_p95_ms']:>10}"
            f"{r['model_p50_ms']:>10}{r['cpu_p50_ms']:>10}{r['db_statements']:>10}"
        )
    print(f"\nagent overhead p50 {p50:.1f} ms = {p50 / AIM_MS:.2f} x the {AIM_MS:.0f} ms aim")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    turns = f"{args.rounds} rounds of a {len(CONVERSATION)}-turn conversation"
    statements = rows[-1]["db_statements"]
    write_results(
        "agent_overhead",
        [
            Result(
                "time per turn outside the offline model, p50",
                round(p50, 2),
                "ms",
                peer="aim",
                peer_value=AIM_MS,
                limit=True,
                aim_below=1,
                note=f"{turns}; {statements:g} database statements per turn",
            ),
        ],
        quick=args.quick,
        params={"rounds": args.rounds},
    )


if __name__ == "__main__":
    main()
