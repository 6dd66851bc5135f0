"""Confirmations: a tool that needs a yes waits in the checkpointer until the user answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from langchain_core.messages import ToolMessage
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant import memory
from assistant.offline import OfflineChatModel
from assistant.service import UNREACHABLE, Assistant
from hrcore.attendance.models import AttendanceRecord
from hrcore.leave.models import LeaveRequest
from tests.factories import Team
from tests.fakes import BrokenChatModel, LoopRunner, call, collect, reply, scripted

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Nairobi
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-04"}
SUMMARY = "Annual leave 1–4 Dec 2026, 4 working days (pending approval). 11 days left after this."

run = LoopRunner()


@pytest.fixture(scope="module", autouse=True)
def _checkpointer(engine: object) -> Iterator[None]:
    memory.setup_checkpointer()
    yield
    run.close()


pytestmark = [pytest.mark.frozen_at(NOW), pytest.mark.team(leave_types=True)]


def requests(session: Session, team: Team) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LeaveRequest)
        .where(LeaveRequest.employee_id == team.employee.id)
    )


def ask_for_leave(team: Team, *after: object) -> tuple[Assistant, object]:
    model = scripted(call("request_leave", **LEAVE), *after)
    assistant = Assistant(model=model)
    first = run(assistant.turn(team.actor("employee"), "I want leave from 1 to 4 December"))
    return assistant, model, first


def test_a_confirm_tool_waits_and_shows_the_dry_run_summary(session, team):
    _, _, first = ask_for_leave(team)
    assert first.pending_confirmation is not None
    assert first.pending_confirmation.tool == "request_leave"
    assert first.pending_confirmation.args == LEAVE
    assert first.pending_confirmation.summary == SUMMARY
    assert first.reply == f"{SUMMARY}\nConfirm? (yes/no)"
    assert first.tool_calls == [
        {"name": "request_leave", "args": LEAVE, "status": "pending", "result": None}
    ]
    # The dry run left nothing behind.
    assert requests(session, team) == 0


@pytest.mark.parametrize("answer", ["yes", "ndiyo", "Sawa", "ok"])
def test_yes_files_exactly_one_request(session, team, answer):
    assistant, model, _ = ask_for_leave(team, reply("Your request is filed."))
    result = run(assistant.turn(team.actor("employee"), answer))

    assert requests(session, team) == 1
    assert result.pending_confirmation is None
    assert result.reply == "Your request is filed."
    assert [c["status"] for c in result.tool_calls] == ["ok"]
    assert result.tool_calls[0]["result"]["summary"] == SUMMARY
    # Answering again does not file it twice.
    model.messages = iter([reply("Nothing is waiting.")])
    run(assistant.turn(team.actor("employee"), answer))
    assert requests(session, team) == 1


@pytest.mark.parametrize("answer", ["no", "hapana", "cancel"])
def test_no_files_nothing(session, team, answer):
    assistant, model, _ = ask_for_leave(team, reply("OK, I dropped it."))
    result = run(assistant.turn(team.actor("employee"), answer))

    assert requests(session, team) == 0
    assert result.reply == "OK, I dropped it."
    assert [c["status"] for c in result.tool_calls] == ["rejected"]
    (rejection,) = [m for m in model.seen[-1] if isinstance(m, ToolMessage)]
    assert rejection.status == "error"
    assert "said no" in rejection.text


def test_an_unrelated_message_drops_the_pending_action_and_is_handled(session, team):
    assistant, model, _ = ask_for_leave(
        team, reply("Dropped."), call("clock_in"), reply("You are clocked in.")
    )
    result = run(assistant.turn(team.actor("employee"), "actually, clock me in"))

    assert requests(session, team) == 0
    count = select(func.count()).select_from(AttendanceRecord)
    assert session.scalar(count.where(AttendanceRecord.employee_id == team.employee.id)) == 1
    assert result.pending_confirmation is None
    assert result.reply.endswith("You are clocked in.")
    assert "dropped" in result.reply.lower()
    assert [(c["name"], c["status"]) for c in result.tool_calls] == [
        ("request_leave", "rejected"),
        ("clock_in", "ok"),
    ]
    rejection = next(m for m in model.seen[1] if isinstance(m, ToolMessage))
    assert "moved on" in rejection.text
    # The new message reached the model after the rejection.
    assert model.seen[2][-1].text == "actually, clock me in"


def test_an_action_that_would_fail_is_refused_before_asking(session, team):
    model = scripted(
        call("request_leave", leave_type="annual", start_date="2026-12-04", end_date="2026-12-01"),
        reply("The end date is before the start date."),
    )
    result = run(Assistant(model=model).turn(team.actor("employee"), "leave 4 to 1 Dec"))

    assert result.pending_confirmation is None
    assert result.reply == "The end date is before the start date."
    assert [c["status"] for c in result.tool_calls] == ["rejected"]
    (refusal,) = [m for m in model.seen[-1] if isinstance(m, ToolMessage)]
    assert "would fail" in refusal.text
    assert requests(session, team) == 0


def test_the_confirmation_is_asked_in_swahili(session, team):
    model = scripted(call("request_leave", **LEAVE), reply("Imewasilishwa."))
    assistant = Assistant(model=model)
    first = run(
        assistant.turn(team.actor("employee"), "nataka likizo tarehe 1 hadi 4 Desemba tafadhali")
    )
    assert first.reply.endswith("Thibitisha? (ndiyo/hapana)")
    # The whole confirmation is in Swahili, not an English summary with a Swahili question.
    assert first.pending_confirmation.summary.startswith("Likizo ya mwaka: 1–4 Desemba 2026")
    assert "itasubiri idhini" in first.pending_confirmation.summary
    assert "Annual leave" not in first.reply
    second = run(assistant.turn(team.actor("employee"), "ndiyo"))
    assert second.reply == "Imewasilishwa."
    assert requests(session, team) == 1


def test_the_stream_emits_tokens_tools_and_the_result(session, team):
    model = scripted(call("clock_in"), reply("You are clocked in."))
    events = run(collect(Assistant(model=model).stream(team.actor("employee"), "clock me in")))

    types = [e["type"] for e in events]
    assert types[-1] == "done"
    assert {"type": "tool", "name": "clock_in", "status": "ok"} in events
    tokens = "".join(e["text"] for e in events if e["type"] == "token")
    assert tokens == "You are clocked in."
    done = events[-1]["result"].to_dict()
    assert done["reply"] == "You are clocked in."
    assert done["tool_calls"][0]["name"] == "clock_in"


def test_the_stream_shows_a_pending_confirmation(session, team):
    model = scripted(call("request_leave", **LEAVE))
    events = run(collect(Assistant(model=model).stream(team.actor("employee"), "leave 1-4 Dec")))
    assert {"type": "tool", "name": "request_leave", "status": "pending"} in events
    tokens = "".join(e["text"] for e in events if e["type"] == "token")
    assert tokens.endswith("Confirm? (yes/no)")
    assert events[-1]["result"].pending_confirmation.summary == SUMMARY


def test_a_failing_model_changes_nothing_and_the_turn_can_be_retried(session, team):
    actor = team.actor("employee")
    broken = BrokenChatModel(messages=iter([]))
    result = run(Assistant(model=broken).turn(actor, "clock me in", conversation_id="retry"))
    assert result.reply == UNREACHABLE["en"]
    assert result.tool_calls == []

    model = scripted(call("clock_in"), reply("You are clocked in."))
    retried = run(Assistant(model=model).turn(actor, "clock me in", conversation_id="retry"))
    assert retried.reply == "You are clocked in."
    # The failed attempt left no trace in the conversation.
    assert [m.text for m in model.seen[0][1:]] == ["clock me in"]


def test_a_question_while_an_action_waits_is_answered_and_the_action_asked_again(session, team):
    assistant, john = Assistant(model=OfflineChatModel()), team.actor("employee")
    first = run(assistant.turn(john, "nataka likizo ya mwaka tarehe 1 hadi 4 Desemba"))
    assert first.pending_confirmation is not None

    asked = run(assistant.turn(john, "subiri kwanza, nimebakiza siku ngapi?"))
    assert [c["name"] for c in asked.tool_calls if c["status"] == "ok"] == ["leave_balance"]
    assert asked.pending_confirmation is not None  # the same request, asked again
    assert asked.pending_confirmation.args == first.pending_confirmation.args
    assert asked.reply.index("zimebaki") < asked.reply.index("Thibitisha")  # answer first
    assert requests(session, team) == 0

    filed = run(assistant.turn(john, "sawa, endelea na lile ombi"))
    assert filed.pending_confirmation is None
    assert requests(session, team) == 1
