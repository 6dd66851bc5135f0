"""The scenario eval: scripted conversations run through the assistant, scored.

A scenario file (YAML or JSON) holds `today` (the frozen date), `time` (local wall
clock, default 09:00), and `scenarios`: each with an `id`, a `user` (a demo person's
email), a `language`, optional `requires` (tools that must exist, else it is skipped),
optional `setup` (tool calls run directly before the conversation, results saved by
name for `{name.field}` placeholders) and `turns`. A turn has `say`, the expected
`tool` (null: no tool may be called) and `args` (a subset match), `not_tools` that must
not be called, `reply` facts (case-insensitive substrings of the reply) and an optional
`confirm` ("yes"/"no") answered when the assistant asks for a confirmation.
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

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.service import Assistant, TurnResult
from hrcore import db
from hrcore.actor import Actor, Channel
from hrcore.clock import frozen
from hrcore.notifications import outbox
from hrcore.people.models import Organization, User
from hrcore.seed import DEMO_ORG, seed_demo
from tools.registry import all_tools, run_tool

DEFAULT_SCENARIOS = Path(__file__).parent / "scenarios"
EVAL_PASSWORD = "eval-pass-2026"  # noqa: S105 - demo people in a rolled-back database
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


@dataclass
class EvalReport:
    """Accuracy overall and per language, with every turn's outcome."""

    overall: Scores = field(default_factory=Scores)
    by_language: dict[str, Scores] = field(default_factory=dict)
    turns: list[TurnOutcome] = field(default_factory=list)
    scenarios: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[TurnOutcome]:
        """Turns where anything expected did not happen."""
        return [t for t in self.turns if t.problems]

    def min_accuracy(self) -> float:
        """The lowest of tool, argument and reply-fact accuracy overall."""
        o = self.overall
        return min(o.tool.accuracy, o.args.accuracy, o.reply.accuracy)

    def record(self, outcome: TurnOutcome) -> None:
        self.turns.append(outcome)
        for scores in (self.overall, self.by_language.setdefault(outcome.language, Scores())):
            scores.tool.add(outcome.tool_ok)
            if outcome.args_ok is not None:
                scores.args.add(outcome.args_ok)
            if outcome.reply_ok is not None:
                scores.reply.add(outcome.reply_ok)

    def table(self) -> Any:
        """The accuracy table, for rich to print."""
        from rich.table import Table

        table = Table(title=f"Scenario eval: {self.scenarios} scenarios, {len(self.turns)} turns")
        table.add_column("language")
        table.add_column("turns", justify="right")
        table.add_column("tool selection", justify="right")
        table.add_column("arguments", justify="right")
        table.add_column("reply facts", justify="right")
        rows = [*sorted(self.by_language.items()), ("all", self.overall)]
        for name, s in rows:
            table.add_row(
                name,
                str(s.tool.total),
                _pct(s.tool),
                _pct(s.args),
                _pct(s.reply),
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
) -> EvalReport:
    """Run every scenario against a freshly seeded demo employer, all rolled back after.

    Without `engine`, a throwaway embedded PostgreSQL is started (and deleted), so the
    developer's own demo data is never touched.
    """
    scenarios = load_scenarios(Path(path))
    with _database(engine) as eng:
        return _run_all(eng, scenarios, assistant_factory, seed)


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
    # Read without side effects: asking db.session_factory() would open the configured database.
    previous_factory = db._session_factory
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        db.use_session_factory(factory)
        # Deliveries after a commit would share this one connection from another thread.
        outbox.run_inline(True)
        try:
            by_day: dict[tuple[date, time], list[dict[str, Any]]] = {}
            for scenario in scenarios:
                by_day.setdefault((scenario["_today"], scenario["_time"]), []).append(scenario)
            for (today, at), group in by_day.items():
                moment = datetime.combine(today, at, tzinfo=ZoneInfo(DEMO_ORG.timezone))
                with frozen(moment):
                    session = factory()
                    if seed:
                        seed_demo(session, password=EVAL_PASSWORD)
                        session.commit()
                    assistant = assistant_factory()
                    for scenario in group:
                        missing = set(scenario.get("requires", [])) - registered
                        if missing:
                            report.skipped.append(scenario["id"])
                            continue
                        savepoint = conn.begin_nested()
                        try:
                            _run_scenario(factory, assistant, scenario, report)
                        finally:
                            savepoint.rollback()
                        report.scenarios += 1
                    session.close()
        finally:
            outer.rollback()
            outbox.run_inline(False)
            if previous_factory is not None:
                db.use_session_factory(previous_factory)
    return report


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


def _run_scenario(
    factory: sessionmaker[Session],
    assistant: Assistant,
    scenario: dict[str, Any],
    report: EvalReport,
) -> None:
    saved: dict[str, dict[str, Any]] = {}
    with factory() as session:
        actor = _actor(session, scenario["user"])
        for step in scenario.get("setup", []):
            who = _actor(session, step.get("as", scenario["user"]))
            result = run_tool(session, who, step["tool"], _fill(step.get("args", {}), saved))
            if step.get("save"):
                saved[step["save"]] = result.model_dump(mode="json")
        session.commit()
    language = scenario["language"]
    for turn in scenario["turns"]:
        say = _fill(turn["say"], saved)
        result = asyncio.run(assistant.turn(actor, say, conversation_id=scenario["id"]))
        calls = list(result.tool_calls)
        replies = [result.reply]
        confirm = turn.get("confirm")
        if confirm is not None and result.pending_confirmation is not None:
            # YAML reads a bare yes/no as a boolean.
            word = {True: "yes", False: "no"}.get(confirm, str(confirm).lower())
            answer = _CONFIRM_WORDS.get((word, language), word)
            follow: TurnResult = asyncio.run(
                assistant.turn(actor, answer, conversation_id=scenario["id"])
            )
            calls += follow.tool_calls
            replies.append(follow.reply)
        report.record(_judge(scenario, turn, say, calls, "\n".join(replies), saved, result))


def _judge(
    scenario: dict[str, Any],
    turn: dict[str, Any],
    say: str,
    calls: list[dict[str, Any]],
    reply: str,
    saved: dict[str, dict[str, Any]],
    result: TurnResult,
) -> TurnOutcome:
    problems: list[str] = []
    names = [c["name"] for c in calls]
    expected = turn.get("tool")
    if expected is None:
        tool_ok = not calls
        if not tool_ok:
            problems.append(f"expected no tool, got {names}")
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
        args_ok = any(c["name"] == expected and _subset(want, c.get("args") or {}) for c in calls)
        if not args_ok:
            got = [c.get("args") for c in calls if c["name"] == expected]
            problems.append(f"arguments {want} not in {got}")
    reply_ok: bool | None = None
    facts = [str(_fill(f, saved)) for f in turn.get("reply", [])]
    if facts:
        low = reply.lower()
        missing = [f for f in facts if f.lower() not in low]
        reply_ok = not missing
        if missing:
            problems.append(f"reply lacks {missing}")
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
    )


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
