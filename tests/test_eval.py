"""The scenario eval against the offline model: the whole shipped set, with thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, func, select

from assistant.eval import DEFAULT_SCENARIOS, ScenarioError, load_scenarios, run_eval
from assistant.offline import OfflineChatModel
from assistant.service import Assistant
from hrcore.leave.models import LeaveRequest
from hrcore.people.models import Organization

MIN_ACCURACY = 0.9


def _assistant() -> Assistant:
    return Assistant(model=OfflineChatModel(), checkpointer=InMemorySaver())


@pytest.fixture(scope="module")
def report(engine: Engine):  # type: ignore[no-untyped-def]
    return run_eval(DEFAULT_SCENARIOS, assistant_factory=_assistant, engine=engine)


def test_the_shipped_set_is_large_and_a_third_swahili() -> None:
    scenarios = load_scenarios(DEFAULT_SCENARIOS)
    assert len(scenarios) >= 60
    swahili = [s for s in scenarios if s["language"] == "sw"]
    assert len(swahili) * 3 >= len(scenarios)


def test_offline_model_meets_the_thresholds(report) -> None:  # type: ignore[no-untyped-def]
    failures = "\n".join(
        f"{t.scenario}: {t.say!r}: {t.problems} reply={t.reply!r}" for t in report.failures
    )
    assert report.overall.tool.accuracy >= MIN_ACCURACY, failures
    assert report.overall.args.accuracy >= MIN_ACCURACY, failures
    assert report.overall.reply.accuracy >= MIN_ACCURACY, failures
    for language in ("en", "sw"):
        scores = report.by_language[language]
        assert scores.tool.accuracy >= MIN_ACCURACY, (language, failures)


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
