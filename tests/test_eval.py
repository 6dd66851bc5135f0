"""The scenario eval against the offline model: the whole shipped set, with thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, func, select

from assistant.eval import DEFAULT_SCENARIOS, HELD_OUT, ScenarioError, load_scenarios, run_eval
from assistant.offline import OfflineChatModel
from assistant.service import Assistant
from hrcore.leave.models import LeaveRequest
from hrcore.people.models import Organization

MIN_ACCURACY = 0.9
#: The held-out set's aims: fully handled, the right tool, and Swahili close to English.
HELD_OUT_HANDLED = 0.90
HELD_OUT_TOOL = 0.95
SWAHILI_GAP = 0.03


def _assistant() -> Assistant:
    return Assistant(model=OfflineChatModel(), checkpointer=InMemorySaver())


@pytest.fixture(scope="module")
def report(engine: Engine):  # type: ignore[no-untyped-def]
    return run_eval(DEFAULT_SCENARIOS, assistant_factory=_assistant, engine=engine)


@pytest.fixture(scope="module")
def held_out(engine: Engine):  # type: ignore[no-untyped-def]
    return run_eval(HELD_OUT, assistant_factory=_assistant, engine=engine, name="held-out")


def _failures(report) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(
        f"{t.scenario}: {t.say!r}: {t.problems} reply={t.reply!r}" for t in report.failures
    )


def test_the_shipped_set_is_large_and_a_third_swahili() -> None:
    scenarios = load_scenarios(DEFAULT_SCENARIOS)
    assert len(scenarios) >= 60
    swahili = [s for s in scenarios if s["language"] == "sw"]
    assert len(swahili) * 3 >= len(scenarios)


def test_offline_model_meets_the_thresholds(report) -> None:  # type: ignore[no-untyped-def]
    failures = _failures(report)
    assert report.overall.tool.accuracy >= MIN_ACCURACY, failures
    assert report.overall.args.accuracy >= MIN_ACCURACY, failures
    assert report.overall.reply.accuracy >= MIN_ACCURACY, failures
    assert report.overall.handled.accuracy >= MIN_ACCURACY, failures
    for language in ("en", "sw"):
        scores = report.by_language[language]
        assert scores.tool.accuracy >= MIN_ACCURACY, (language, failures)


def test_no_unwanted_write_in_either_set(report, held_out) -> None:  # type: ignore[no-untyped-def]
    for one in (report, held_out):
        unwanted = [f"{t.scenario}: {t.say!r}: {t.unwanted_write}" for t in one.unwanted_writes]
        assert unwanted == [], (one.name, unwanted)


def test_the_held_out_set_meets_its_aims(held_out) -> None:  # type: ignore[no-untyped-def]
    assert len(load_scenarios(HELD_OUT)) >= 150
    failures = _failures(held_out)
    assert held_out.overall.handled.accuracy >= HELD_OUT_HANDLED, failures
    assert held_out.overall.tool.accuracy >= HELD_OUT_TOOL, failures
    english = held_out.by_language["en"].handled.accuracy
    swahili = held_out.by_language["sw"].handled.accuracy
    assert swahili >= english - SWAHILI_GAP, (english, swahili, failures)


def test_the_eval_leaves_no_trace(report, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Organization)) == 0
        assert conn.scalar(select(func.count()).select_from(LeaveRequest)) == 0


def test_a_wrong_expectation_is_counted_as_a_failure(engine: Engine, tmp_path: Path) -> None:
    file = tmp_path / "one.yaml"
    file.write_text(
        "today: 2026-11-23\n"
        "scenarios:\n"
        "  - id: wrong\n"
        "    user: john@demo.ajira.test\n"
        "    language: en\n"
        "    turns:\n"
        "      - say: clock me in\n"
        "        tool: clock_out\n"
        "        reply: [never said]\n",
        encoding="utf-8",
    )
    result = run_eval(file, assistant_factory=_assistant, engine=engine)
    assert result.overall.tool.accuracy == 0.0
    assert result.overall.reply.accuracy == 0.0
    (outcome,) = result.failures
    assert outcome.called == ["clock_in"]


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_text('{"scenarios": []}', encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_scenarios(file)
