"""The hand-off tools through `run_tool`: ask_hr, list_hr_cases, answer_hr_case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.cases.models import CaseStatus, HRCase
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications.models import Notification
from tests.factories import Team
from tools.registry import get_tool, preview_tool, run_tool

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
QUESTION = "Can my contract be renewed for two years?"


pytestmark = pytest.mark.frozen_at(NOW)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def ask(session: Session, team: Team, who: str = "employee", **args: object) -> dict:
    actor = team.actor(who, Channel.WHATSAPP)
    return run_tool(session, actor, "ask_hr", {"question": QUESTION, **args}).model_dump()


def test_the_declarations_say_what_changes_state_and_needs_a_yes():
    ask_hr, listing, answer = (get_tool(n) for n in ("ask_hr", "list_hr_cases", "answer_hr_case"))
    assert (ask_hr.changes_state, ask_hr.confirm) == (True, False)
    assert (listing.changes_state, listing.confirm) == (False, False)
    assert (answer.changes_state, answer.confirm) == (True, True)
    assert set(ask_hr.args_model.model_fields) == {"question", "conversation_context"}
    assert set(answer.args_model.model_fields) == {"case_id", "answer"}


def test_ask_hr_opens_a_case_from_the_callers_channel(session, team):
    result = ask(session, team, conversation_context="The handbook says nothing about it.")

    case = session.get(HRCase, result["case_id"])
    assert case is not None
    assert (case.employee_id, case.channel, case.status) == (
        team.employee.id,
        Channel.WHATSAPP,
        CaseStatus.OPEN,
    )
    assert result["employee_name"] == team.employee.full_name
    assert result["conversation_context"] == "The handbook says nothing about it."
    assert result["summary"].startswith(f"Your question is with hr (case #{case.id})")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": QUESTION, "conversation_context": "y" * 2001}, "conversation_context"),
        ({"question": QUESTION, "employee_id": 1}, "employee_id"),
        ({}, "question"),
    ],
)
def test_ask_hr_refuses_bad_arguments_and_writes_nothing(session, team, args, field):
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("employee"), "ask_hr", args)
    assert err.value.code == "invalid_arguments"
    assert [e["field"] for e in err.value.details["errors"]] == [field]
    assert count(session, HRCase) == 0
    assert count(session, Notification) == 0


def test_list_hr_cases_scopes_employees_to_their_own(session, team):
    mine = ask(session, team)["case_id"]
    theirs = ask(session, team, "teammate")["case_id"]

    own = run_tool(session, team.actor("employee"), "list_hr_cases", {})
    assert [c.case_id for c in own.cases] == [mine]
    assert own.summary.startswith("1 case:")
    everyone = run_tool(session, team.actor("hr"), "list_hr_cases", {"status": "open"})
    assert {c.case_id for c in everyone.cases} == {mine, theirs}
    answered = run_tool(session, team.actor("hr"), "list_hr_cases", {"status": "answered"})
    assert (answered.cases, answered.summary) == ([], "0 cases.")


def test_answer_hr_case_previews_then_answers_and_notifies(session, team):
    case_id = ask(session, team)["case_id"]
    args = {"case_id": case_id, "answer": "Yes, two-year renewals are possible."}

    preview = preview_tool(session, team.actor("hr"), "answer_hr_case", args)
    assert preview.summary.startswith(f"Answer to case #{case_id} from {team.employee.full_name}")
    assert "by whatsapp" in preview.summary
    assert session.get(HRCase, case_id).status == CaseStatus.OPEN  # the dry run left nothing
    assert count(session, Notification) == 1  # only hr's alert

    result = run_tool(session, team.actor("hr"), "answer_hr_case", args)
    assert (result.status, result.answer, result.answered_by_name) == (
        CaseStatus.ANSWERED,
        args["answer"],
        team.hr.full_name,
    )
    delivered = session.scalars(
        select(Notification).where(Notification.recipient_id == team.employee.id)
    ).one()
    assert (delivered.channel, delivered.kind) == (Channel.WHATSAPP, "hr_case.answered")
    # The employee now reads the answer in their own list.
    (own,) = run_tool(session, team.actor("employee"), "list_hr_cases", {}).cases
    assert own.answer == args["answer"]


def test_answer_hr_case_refusals_keep_their_codes(session, team):
    case_id = ask(session, team)["case_id"]
    body = {"case_id": case_id, "answer": "Fine."}
    with pytest.raises(Forbidden) as err:
        run_tool(session, team.actor("supervisor"), "answer_hr_case", body)
    assert err.value.details == {"permission": "hr_case.answer"}
    run_tool(session, team.actor("hr"), "answer_hr_case", body)
    with pytest.raises(Conflict) as err:
        run_tool(session, team.actor("admin"), "answer_hr_case", body)
    assert err.value.code == "case_not_open"
    other = Team(session)
    with pytest.raises(NotFound) as err:
        run_tool(session, other.actor("hr"), "answer_hr_case", body)
    assert err.value.code == "hr_case_not_found"
