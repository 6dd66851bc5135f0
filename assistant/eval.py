"""The conversation evals: scripted conversations run through the assistant, scored.

A file (YAML or JSON) holds `today` (the frozen date), `time` (local wall clock, default
09:00), and `scenarios`: each with an `id`, a `user` (a demo person's email), a
`language` (en, sw or mixed), an optional `category`, optional `requires` (tools that must
exist, else it is skipped), optional `setup` (tool calls run directly before the
conversation, as the user or `as:` someone else, results saved by name for
`{name.field}` placeholders) and `turns`. A turn has `say` and:

- `tool`: the tool expected in this turn, or null when no state-changing tool may run;
  a confirm tool without `confirm` means the turn must end asking for that confirmation
  (the next turn's `say` is the person's own answer);
- `args` (a subset match), `not_tools`, `no_tools` (no tool at all);
- `confirm` ("yes"/"no"): the harness answers the confirmation question itself;
- `ask`: the right answer is a short question and no action; `refuse`: a plain refusal;
- `reply` (facts that must all appear) and `reply_any` (one of them must).

Every turn's data changes are measured in the database itself: a change in a turn that
asked for no state-changing tool (or only for its confirmation question) is an
unwanted write, counted on its own. A turn is fully handled when everything it expects
happened and nothing else was written.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.service import Assistant, TurnResult
from hrcore import db, ratelimit, tenancy
from hrcore.actor import Actor, Channel
from hrcore.clock import frozen
from hrcore.notifications import outbox
from hrcore.people.models import Organization, User
from hrcore.seed import DEMO_ORG, seed_demo
from tools.registry import all_tools, run_tool

DEFAULT_SCENARIOS = Path(__file__).parent / "scenarios"
#: Written by someone who never read the offline model; never tuned on (see its header).
HELD_OUT = Path(__file__).resolve().parents[1] / "evals" / "heldout"
EVAL_PASSWORD = "eval-pass-2026"  # noqa: S105 - demo people, rolled back  # nosec B105
_PLACEHOLDER = re.compile(r"\{(\w+)\.(\w+)\}")
_CONFIRM_WORDS = {
    ("yes", "en"): "yes",
    ("yes", "sw"): "ndiyo",
    ("no", "en"): "no",
    ("no", "sw"): "hapana",
}


class ScenarioError(ValueError):
    """The scenario file is malformed."""


@dataclass
class Score:
    """Hits out of attempts."""

    hits: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hits += int(ok)

    @property
    def accuracy(self) -> float:
        return self.hits / self.total if self.total else 1.0


@dataclass
class Scores:
    tool: Score = field(default_factory=Score)
    args: Score = field(default_factory=Score)
    reply: Score = field(default_factory=Score)
    handled: Score = field(default_factory=Score)
    unwanted_writes: int = 0


@dataclass
class TurnOutcome:
    scenario: str
    language: str
    say: str
    expected_tool: str | None
    called: list[str]
    tool_ok: bool
    args_ok: bool | None
    reply_ok: bool | None
    reply: str
    problems: list[str]
    category: str = ""
    #: Tables whose rows changed although the turn asked for no such change.
    unwanted_write: list[str] = field(default_factory=list)

    @property
    def handled(self) -> bool:
        """Everything expected happened and nothing else was written."""
        return not self.problems


@dataclass
class EvalReport:
    """Accuracy overall, per language and per category, with every turn's outcome."""

    name: str = "scenarios"
    overall: Scores = field(default_factory=Scores)
    by_language: dict[str, Scores] = field(default_factory=dict)
    by_category: dict[str, Scores] = field(default_factory=dict)
    turns: list[TurnOutcome] = field(default_factory=list)
    scenarios: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[TurnOutcome]:
        """Turns where anything expected did not happen."""
        return [t for t in self.turns if t.problems]

    @property
    def unwanted_writes(self) -> list[TurnOutcome]:
        """Turns that changed data nobody asked to change."""
        return [t for t in self.turns if t.unwanted_write]

    def min_accuracy(self) -> float:
        """The lowest of tool, argument and reply-fact accuracy overall."""
        o = self.overall
        return min(o.tool.accuracy, o.args.accuracy, o.reply.accuracy)

    def record(self, outcome: TurnOutcome) -> None:
        self.turns.append(outcome)
        groups = [
            self.overall,
            self.by_language.setdefault(outcome.language, Scores()),
            self.by_category.setdefault(outcome.category or "-", Scores()),
        ]
        for scores in groups:
            scores.tool.add(outcome.tool_ok)
            if outcome.args_ok is not None:
                scores.args.add(outcome.args_ok)
            if outcome.reply_ok is not None:
                scores.reply.add(outcome.reply_ok)
            scores.handled.add(outcome.handled)
            scores.unwanted_writes += int(bool(outcome.unwanted_write))

    def table(self, *, by: str = "language") -> Any:
        """The accuracy table by language (or by category), for rich to print."""
        from rich.table import Table

        title = f"{self.name}: {self.scenarios} scenarios, {len(self.turns)} turns"
        table = Table(title=title)
        table.add_column(by)
        for column in ("turns", "tool selection", "arguments", "reply facts", "fully handled"):
            table.add_column(column, justify="right")
        table.add_column("unwanted writes", justify="right")
        groups = self.by_language if by == "language" else self.by_category
        for name, s in [*sorted(groups.items()), ("all", self.overall)]:
            table.add_row(
                name,
                str(s.tool.total),
                _pct(s.tool),
                _pct(s.args),
                _pct(s.reply),
                _pct(s.handled),
                str(s.unwanted_writes),
            )
        return table


def _pct(score: Score) -> str:
    return f"{score.accuracy:.1%} ({score.hits}/{score.total})"


# ------------------------------------------------------------------ files


def load_scenarios(path: Path) -> list[dict[str, Any]]:
    """Every scenario of a file or of the *.yaml/*.yml/*.json files in a directory."""
    files = (
        sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
        if path.is_dir()
        else [path]
    )
    scenarios: list[dict[str, Any]] = []
    for file in files:
        data = _read(file)
        today = data.get("today")
        if not today or not isinstance(data.get("scenarios"), list):
            raise ScenarioError(f"{file.name}: needs 'today' and a list of 'scenarios'.")
        for scenario in data["scenarios"]:
            if not scenario.get("id") or not scenario.get("user") or not scenario.get("turns"):
                raise ScenarioError(f"{file.name}: every scenario needs id, user and turns.")
            scenario.setdefault("language", "en")
            scenario["_today"] = date.fromisoformat(str(today))
            scenario["_time"] = time.fromisoformat(str(data.get("time", "09:00")))
            scenarios.append(scenario)
    ids = [s["id"] for s in scenarios]
    if len(ids) != len(set(ids)):
        raise ScenarioError("Scenario ids must be unique.")
    return scenarios


def _read(file: Path) -> dict[str, Any]:
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json":
        return json.loads(text)
    import yaml

    return yaml.safe_load(text)


# ------------------------------------------------------------------ running


def run_eval(
    path: Path | str = DEFAULT_SCENARIOS,
    *,
    assistant_factory: Callable[[], Assistant],
    seed: bool = True,
    engine: Engine | None = None,
    name: str = "scenarios",
) -> EvalReport:
    """Run every scenario against a freshly seeded demo employer, all rolled back after.

    Without `engine`, a throwaway embedded PostgreSQL is started (and deleted), so the
    developer's own demo data is never touched.
    """
    scenarios = load_scenarios(Path(path))
    with _database(engine) as eng, outbox.held():
        report = _run_all(eng, scenarios, assistant_factory, seed)
    report.name = name
    return report


@contextmanager
def _database(engine: Engine | None) -> Iterator[Engine]:
    if engine is not None:
        yield engine
        return
    from hrcore.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="ajira-eval-") as tmp:
        url = db.start_embedded_postgres(Path(tmp), cleanup_mode="delete")
        eng = db.make_engine(url)
        try:
            upgrade(eng)
            yield eng
        finally:
            eng.dispose()


def _run_all(
    engine: Engine,
    scenarios: list[dict[str, Any]],
    assistant_factory: Callable[[], Assistant],
    seed: bool,
) -> EvalReport:
    report = EvalReport()
    registered = {spec.name for spec in all_tools()}
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        # Everything, locks and deliveries included, uses the eval's database; deliveries
        # run in this thread, since they share its one connection.
        with db.bound_to(engine, factory):
            outbox.run_inline(True)
            try:
                _run_groups(conn, factory, scenarios, assistant_factory, seed, report, registered)
            finally:
                outer.rollback()
                outbox.run_inline(False)
    return report


def _run_groups(
    conn: Connection,
    factory: sessionmaker[Session],
    scenarios: list[dict[str, Any]],
    assistant_factory: Callable[[], Assistant],
    seed: bool,
    report: EvalReport,
    registered: set[str],
) -> None:
    by_day: dict[tuple[date, time], list[dict[str, Any]]] = {}
    for scenario in scenarios:
        by_day.setdefault((scenario["_today"], scenario["_time"]), []).append(scenario)
    for (today, at), group in by_day.items():
        moment = datetime.combine(today, at, tzinfo=ZoneInfo(DEMO_ORG.timezone))
        with frozen(moment):
            session = _arranging(factory())
            if seed:
                seed_demo(session, password=EVAL_PASSWORD)
                _seed_handbook(session)
                session.commit()
            assistant = assistant_factory()
            for scenario in group:
                missing = set(scenario.get("requires", [])) - registered
                if missing:
                    report.skipped.append(scenario["id"])
                    continue
                savepoint = conn.begin_nested()
                try:
                    with ratelimit.isolated():  # each conversation starts a fresh day
                        _run_scenario(factory, conn, assistant, scenario, report)
                finally:
                    savepoint.rollback()
                report.scenarios += 1
            session.close()


def _arranging(session: Session) -> Session:
    """The eval's own session: it seeds, finds the demo people and checks every
    employer's rows, so it crosses the wall between them (the turns it runs do not)."""
    tenancy.bind(session, tenancy.Tenant(crossing=tenancy.Crossing.ARRANGE))
    return session


def _seed_handbook(session: Session) -> None:
    """The demo employer's handbook, so policy questions are answered as in the demo.

    Embedded through the on-disk cache: only the first run pays for the passages.
    """
    from knowledge.embeddings import CachedEmbedder, get_embedder
    from knowledge.handbook import seed_handbook

    org = session.scalar(select(Organization).where(Organization.slug == DEMO_ORG.slug))
    if org is not None:
        seed_handbook(session, org.id, embedder=CachedEmbedder(get_embedder()))


def _actor(session: Session, email: str) -> Actor:
    org = session.scalar(
        select(Organization).where(Organization.slug == email.split("@")[1].split(".")[0])
    )
    query = select(User).where(User.email == email)
    if org is not None:
        query = query.where(User.organization_id == org.id)
    user = session.scalars(query).first()
    if user is None:
        raise ScenarioError(f"No demo user {email!r}.")
    return Actor(
        user_id=user.id, organization_id=user.organization_id, role=user.role, channel=Channel.WEB
    )


def _fill(value: Any, saved: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return saved[whole[1]][whole[2]]
        return _PLACEHOLDER.sub(lambda m: str(saved[m[1]][m[2]]), value)
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    return value


#: Tables that change without anyone's data changing: the audit trail, bookkeeping of
#: messages and sessions. `users` is read without `language`, which a turn may update.
_NOT_DATA = frozenset(
    {
        "audit_log",
        "inbound_messages",
        "channel_identities",
        "menu_sessions",
        "idempotency_keys",
        "auth_sessions",
        "refresh_tokens",
        "notification_attempts",
        # Balances are made on first read: a cache of what requests and accruals say.
        "leave_balances",
    }
)


def _snapshot(factory: sessionmaker[Session]) -> dict[str, str]:
    """A digest of every data table's rows (every employer's), in one round-trip."""
    from hrcore.all_models import Base

    parts = []
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_DATA:
            continue
        row = (
            "t::text" if table.name != "users" else "(t.id, t.role, t.is_active, t.pin_hash)::text"
        )
        parts.append(
            f"SELECT '{table.name}' AS name, count(*) || ':' || "  # noqa: S608 - our own names  # nosec B608
            f"coalesce(md5(string_agg({row}, '|' ORDER BY {row})), '') AS digest "
            f"FROM {table.name} t"
        )
    with _arranging(factory()) as session:
        rows = session.execute(text(" UNION ALL ".join(parts))).all()
    return dict(rows)


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


def _answer_word(confirm: Any, language: str) -> str:
    # YAML reads a bare yes/no as a boolean.
    word = {True: "yes", False: "no"}.get(confirm, str(confirm).lower())
    return _CONFIRM_WORDS.get((word, "sw" if language == "sw" else "en"), word)


def _run_scenario(
    factory: sessionmaker[Session],
    conn: Connection,
    assistant: Assistant,
    scenario: dict[str, Any],
    report: EvalReport,
) -> None:
    saved: dict[str, dict[str, Any]] = {}
    with _arranging(factory()) as session:
        actor = _actor(session, scenario["user"])
        for step in scenario.get("setup", []):
            who = _actor(session, step.get("as", scenario["user"]))
            done = run_tool(session, who, step["tool"], _fill(step.get("args", {}), saved))
            if step.get("save"):
                saved[step["save"]] = done.model_dump(mode="json")
        session.commit()
    language = scenario["language"]
    waiting: str | None = None  # the tool the previous turn left waiting for a yes
    for turn in scenario["turns"]:
        # YAML reads a bare yes/no as a boolean; the person typed the word.
        said = turn["say"]
        say = _fill(
            {True: "yes", False: "no"}.get(said, said) if isinstance(said, bool) else str(said),
            saved,
        )
        before = _snapshot(factory)
        result = asyncio.run(assistant.turn(actor, say, conversation_id=scenario["id"]))
        calls = list(result.tool_calls)
        replies = [result.reply]
        confirm = turn.get("confirm")
        final = result
        if confirm is not None and result.pending_confirmation is not None:
            follow: TurnResult = asyncio.run(
                assistant.turn(
                    actor, _answer_word(confirm, language), conversation_id=scenario["id"]
                )
            )
            calls += follow.tool_calls
            replies.append(follow.reply)
            final = follow
        changed = _changed(before, _snapshot(factory))
        report.record(
            _judge(
                scenario,
                turn,
                say,
                calls,
                "\n".join(replies),
                saved,
                result,
                final,
                changed,
                waiting,
            )
        )
        waiting = final.pending_confirmation.tool if final.pending_confirmation else None


def _state_changing() -> frozenset[str]:
    return frozenset(spec.name for spec in all_tools() if spec.changes_state)


def _needs_confirmation() -> frozenset[str]:
    return frozenset(spec.name for spec in all_tools() if spec.confirm)


def _judge(
    scenario: dict[str, Any],
    turn: dict[str, Any],
    say: str,
    calls: list[dict[str, Any]],
    reply: str,
    saved: dict[str, dict[str, Any]],
    result: TurnResult,
    final: TurnResult,
    changed: list[str],
    waiting: str | None = None,
) -> TurnOutcome:
    problems: list[str] = []
    writers = _state_changing()
    names = [c["name"] for c in calls]
    done = [c["name"] for c in calls if c.get("status") == "ok" and c["name"] in writers]
    expected = turn.get("tool")
    pending = final.pending_confirmation
    # A confirm tool named without `confirm`: the turn must end asking about it.
    asks_first = expected in _needs_confirmation() and "confirm" not in turn and not turn.get("ask")
    if expected is None:
        tool_ok = not done and not (turn.get("no_tools") and names)
        if not tool_ok:
            problems.append(f"expected no action, got {names}")
    elif asks_first and waiting == expected and expected in done:
        # The person's own answer to the question the last turn asked: a yes runs it.
        tool_ok, asks_first = True, False
    elif asks_first:
        tool_ok = pending is not None and pending.tool == expected and expected not in done
        if not tool_ok:
            got = pending.tool if pending else None
            problems.append(f"expected a confirmation of {expected}, got {got} after {names}")
    else:
        tool_ok = expected in names
        if not tool_ok:
            problems.append(f"expected {expected}, got {names}")
    forbidden = [n for n in names if n in turn.get("not_tools", [])]
    if forbidden:
        tool_ok = False
        problems.append(f"must not call {forbidden}")
    if turn.get("confirm") and expected and result.pending_confirmation is None:
        problems.append("expected a confirmation question")
    args_ok: bool | None = None
    if "args" in turn and expected is not None:
        want = _fill(turn["args"], saved)
        candidates = [c.get("args") or {} for c in calls if c["name"] == expected]
        if asks_first and pending is not None and pending.tool == expected:
            candidates.append(pending.args)
        # An argument left out takes the tool's default: half_day omitted is half_day false.
        candidates = [{**_defaults(expected), **got} for got in candidates]
        args_ok = any(_subset(want, got) for got in candidates)
        if not args_ok:
            problems.append(f"arguments {want} not in {candidates}")
    reply_ok: bool | None = None
    facts = [str(_fill(f, saved)) for f in turn.get("reply", [])]
    any_of = [str(_fill(f, saved)) for f in turn.get("reply_any", [])]
    low = reply.lower()
    if facts or any_of:
        missing = [f for f in facts if f.lower() not in low]
        reply_ok = not missing and (not any_of or any(f.lower() in low for f in any_of))
        if not reply_ok:
            problems.append(f"reply lacks {missing or any_of}")
    if turn.get("ask") and (done or "?" not in reply):
        problems.append("expected a short question and no action")
    if turn.get("refuse") and done:
        problems.append(f"expected a refusal, got {done}")
    allowed = expected in writers and not asks_first
    strays = [n for n in done if n != expected]
    unwanted = changed if changed and (not allowed or strays) else []
    if unwanted:
        problems.append(f"unwanted write to {unwanted}")
    return TurnOutcome(
        scenario=scenario["id"],
        language=scenario["language"],
        say=say,
        expected_tool=expected,
        called=names,
        tool_ok=tool_ok,
        args_ok=args_ok,
        reply_ok=reply_ok,
        reply=reply,
        problems=problems,
        category=str(scenario.get("category", "")),
        unwanted_write=unwanted,
    )


def _defaults(tool: str) -> dict[str, Any]:
    spec = next((t for t in all_tools() if t.name == tool), None)
    if spec is None:
        return {}
    return {
        name: field.default
        for name, field in spec.args_model.model_fields.items()
        if not field.is_required() and field.default_factory is None and field.default is not None
    }


def _subset(want: Any, got: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            k in got and _subset(v, got[k]) for k, v in want.items()
        )
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float, str)):
        try:
            return float(got) == float(want)
        except ValueError:
            return False
    if isinstance(want, str) and isinstance(got, str):
        return want.strip().lower() == got.strip().lower()
    return want == got


def assistant_factory_for(model: str = "offline") -> Callable[[], Assistant]:
    """A factory of assistants with in-memory conversations: the offline or configured model."""
    from langgraph.checkpoint.memory import InMemorySaver

    if model == "offline":
        from assistant.offline import OfflineChatModel

        chat_model: Any = OfflineChatModel()
    else:
        from assistant.models import make_chat_model
        from hrcore.config import get_settings

        chat_model = make_chat_model(get_settings())
    return lambda: Assistant(model=chat_model, checkpointer=InMemorySaver())
