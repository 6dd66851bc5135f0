"""The rush's figures: latency and rate per kind of request, and the rows for the table."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _common import Result, percentile

if TYPE_CHECKING:
    from _rush_checks import Verdict


@dataclass
class Sample:
    """One request: what it was, when it left (s into the rush), how long, and its verdict."""

    what: str
    started: float
    ms: float
    ok: bool
    detail: str = ""


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


REPORTS = "sms delivery report"
WHATS = ("rest clock_in", "ussd dial", "ussd clock in", "sms webhook", "chat clock in",
         "chat policy question", REPORTS)  # fmt: skip
FLOOR = "healthz during the rush (floor)"
#: Africa's Talking allows 15 s a screen; the design asks for under 2-3 s.
AIM_USSD_P95_MS = 2000.0
#: The answers' span may be this much longer than the sends' before the server fell behind.
AIM_KEPT_UP = 0.95


@dataclass
class Measured:
    """Everything the rush measured on the client side."""

    samples: list[Sample]
    quiet: list[float]
    floor: list[float]
    sms_round_trips: list[float]
    drain_s: float
    window_s: float
    people: int
    employers: int
    by_channel: dict[str, int]
    arrivals: list[float]


def _row(samples: list[Sample], span: float) -> dict[str, float]:
    return {
        **_stats([s.ms for s in samples if s.ms]),
        "rate_per_s": round(len(samples) / span, 2) if span else 0.0,
        "errors": sum(not s.ok for s in samples),
    }


def report(measured: Measured) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Print the table; return its rows and the headline figures.

    Rates are over the span from the first request sent to the last answered; the offered
    rate over the span of the sends. A server that keeps up answers within the send span
    (plus one answer's time), one that falls behind stretches the answers' span: their
    ratio is how far it kept up.
    """
    rush = [s for s in measured.samples if s.what not in (REPORTS, "")]
    every = list(measured.samples)
    sent = max(s.started for s in rush) - min(s.started for s in rush)
    answered = max(s.started + s.ms / 1000 for s in rush) - min(s.started for s in rush)
    by_what: dict[str, list[Sample]] = defaultdict(list)
    for sample in measured.samples:
        by_what[sample.what].append(sample)
    rows = {what: _row(by_what.get(what, []), answered) for what in WHATS}
    rows["all rush requests"] = _row(rush, answered)
    rows["all, with delivery reports"] = _row(every, answered)
    rows["sms: callback to reply SMS at the gateway"] = _row([], 0) | _stats(
        measured.sms_round_trips
    )
    rows["healthz, quiet"] = _row([], 0) | _stats(measured.quiet)
    rows[FLOOR] = _row([], 0) | _stats(measured.floor)

    window = measured.window_s
    arrivals = sorted(measured.arrivals)
    peak = max(sum(1 for a in arrivals if t <= a < t + 10) for t in range(int(window))) / 10
    floor_p95 = rows[FLOOR]["p95_ms"] or 1.0
    figures = {
        "employees": measured.people,
        "window_s": window,
        "sent_span_s": round(sent, 1),
        "answered_span_s": round(answered, 1),
        "offered_per_s": round(len(rush) / sent, 2),
        "peak_arrivals_per_s": round(peak, 2),
        "achieved_per_s": round(len(rush) / answered, 2),
        "kept_up": round(sent / answered, 3),
        "drain_s": round(measured.drain_s, 1),
        "p95_ms": rows["all rush requests"]["p95_ms"],
        "p99_ms": rows["all rush requests"]["p99_ms"],
        "floor_p95_ms": floor_p95,
        "p95_over_floor": round(rows["all rush requests"]["p95_ms"] / floor_p95, 1),
        "errors": rows["all, with delivery reports"]["errors"],
    }
    print(
        f"\n{measured.people} employees of {measured.employers} employers "
        f"({measured.by_channel}) in a {window:g} s window (peak arrivals {peak:.1f}/s); "
        f"{len(rush)} requests sent over {sent:.1f} s, answered over {answered:.1f} s; "
        f"outbox drained {measured.drain_s:.1f} s after the last answer"
    )
    print("| what | n | req/s | p50 | p95 | p99 | max | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['n']} | {row['rate_per_s']} | {row['p50_ms']} ms "
            f"| {row['p95_ms']} ms | {row['p99_ms']} ms | {row['max_ms']} ms | {row['errors']} |"
        )
    print(
        f"throughput {figures['achieved_per_s']}/s against {figures['offered_per_s']}/s offered "
        f"({figures['kept_up']:.1%}); p95 {figures['p95_ms']} ms = "
        f"{figures['p95_over_floor']}x the /healthz floor ({floor_p95} ms)"
    )
    wrong = [s for s in measured.samples if not s.ok]
    for sample in wrong[:10]:
        print(f"  error: {sample.what} at {sample.started:.1f} s: {sample.detail}")
    if len(wrong) > 10:
        print(f"  ... and {len(wrong) - 10} more errors")
    return rows, figures


def result_rows(
    figures: dict[str, float], rows: dict[str, dict[str, float]], verdict: Verdict
) -> list[Result]:
    """The headline figures for bench/RESULTS.md, each beside its peer or aim."""
    n, window = int(figures["employees"]), figures["window_s"]
    rush = f"{n} clock-ins in {window:g} s"
    floor = "GET /healthz during the rush"
    every, answered = rows["all rush requests"], rows["all, with delivery reports"]
    return [
        Result(f"every request of the rush, p95 ({rush})", every["p95_ms"], "ms",
               peer=f"{floor}, p95", peer_value=rows[FLOOR]["p95_ms"]),
        Result(f"every request of the rush, p99 ({rush})", every["p99_ms"], "ms",
               peer=f"{floor}, p99", peer_value=rows[FLOOR]["p99_ms"]),
        Result(f"REST clock_in, p95 ({rush})", rows["rest clock_in"]["p95_ms"], "ms",
               peer=f"{floor}, p95", peer_value=rows[FLOOR]["p95_ms"]),
        Result(f"USSD clock-in screen, p95 ({rush})", rows["ussd clock in"]["p95_ms"], "ms",
               peer="aim (Africa's Talking allows 15 s)", peer_value=AIM_USSD_P95_MS,
               limit=True, aim_below=1),
        Result(f"throughput ({rush})", figures["achieved_per_s"], "req/s",
               peer="offered arrival rate", peer_value=figures["offered_per_s"],
               aim_above=AIM_KEPT_UP,
               note=f"peak arrivals {figures['peak_arrivals_per_s']:g}/s"),
        Result(f"requests answered as expected ({rush}, with delivery reports)",
               answered["n"] - answered["errors"], "requests", peer="requests sent",
               peer_value=answered["n"], aim_above=1),
        Result(f"clock-ins recorded exactly once ({rush})",
               n - verdict.lost - verdict.doubled, "people", peer="people who clocked in",
               peer_value=n, aim_above=1),
        Result(f"notifications sent and delivered exactly once ({rush})",
               verdict.notifications - verdict.outbox_wrong, "messages", peer="outbox rows",
               peer_value=verdict.notifications, aim_above=1,
               note=f"outbox drained {figures['drain_s']:g} s after the last request"),
    ]  # fmt: skip
