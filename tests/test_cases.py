"""Hand-off to people: cases opened, listed, answered back on the asked channel, closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Channel, Role
from hrcore.audit import AuditEntry
from hrcore.cases import service as cases
from hrcore.cases.models import CaseStatus, HRCase
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications.models import Notification
from hrcore.people.models import User
from tests.factories import Team, make_user, refused

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
QUESTION = "Can my contract be renewed for two years?"


pytestmark = pytest.mark.frozen_at(NOW)


def notes(session: Session, user: User, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query.order_by(Notification.id)))


def count_cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HRCase)) or 0


def open_as(
    session: Session, team: Team, who: str, channel: Channel = Channel.WEB, **kw: object
) -> HRCase:
    return cases.open_case(session, team.actor(who, channel), question=QUESTION, **kw)


# ------------------------------------------------------------------ open


def test_open_records_the_question_and_alerts_hr_without_its_text(session, team):
    case = open_as(
        session, team, "employee", Channel.TELEGRAM, context="Policy search found nothing."
    )

    assert (case.employee_id, case.channel, case.status) == (
        team.employee.id,
        Channel.TELEGRAM,
        CaseStatus.OPEN,
    )
    assert (case.question, case.context) == (QUESTION, "Policy search found nothing.")
    (alert,) = notes(session, team.hr, "hr_case.opened")
    assert f"case #{case.id}" in alert.text
    assert team.employee.full_name in alert.text
    assert "contract" not in alert.text  # the question may be sensitive: never in an alert
    # hr exists, so admins are not bothered; the asker gets nothing.
    assert notes(session, team.admin, "hr_case.opened") == []
    assert notes(session, team.employee) == []
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "hr_case.open")).one()
    assert (audit.target_id, audit.outcome, audit.channel) == (str(case.id), "ok", "telegram")


def test_without_active_hr_the_admins_are_alerted(session, team):
    team.hr.is_active = False
    session.flush()
    open_as(session, team, "employee")
    assert notes(session, team.hr) == []
    assert len(notes(session, team.admin, "hr_case.opened")) == 1


def test_hr_asking_alerts_the_other_hr_not_themselves(session, team):
    second_hr = make_user(session, team.org, role=Role.HR)
    open_as(session, team, "hr")
    assert notes(session, team.hr) == []
    assert len(notes(session, second_hr, "hr_case.opened")) == 1


@pytest.mark.parametrize(
    ("question", "context", "code"),
    [
        ("   ", None, "invalid_question"),
        ("x" * 2001, None, "invalid_question"),
        (QUESTION, "y" * 2001, "invalid_context"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(session, team, question, context, code):
    with refused(Invalid) as err:
        cases.open_case(session, team.actor("employee"), question=question, context=context)
    assert err.value.code == code
    assert count_cases(session) == 0
    assert notes(session, team.hr) == []


# ------------------------------------------------------------------ list and get


def test_employees_list_their_own_cases_and_hr_the_organizations(session, team):
    mine = open_as(session, team, "employee")
    theirs = open_as(session, team, "teammate")
    elsewhere = Team(session)
    cases.open_case(session, elsewhere.actor("employee"), question="Other employer")

    assert [c.id for c in cases.list_cases(session, team.actor("employee"))] == [mine.id]
    # A supervisor does not read their reports' questions to hr.
    assert cases.list_cases(session, team.actor("supervisor")) == []
    for who in ("hr", "admin"):
        listed = cases.list_cases(session, team.actor(who))
        assert {c.id for c in listed} == {mine.id, theirs.id}


def test_list_filters_by_status_and_pages(session, team):
    first = open_as(session, team, "employee")
    second = open_as(session, team, "teammate")
    cases.close_case(session, team.actor("employee"), case_id=first.id)

    hr = team.actor("hr")
    assert [c.id for c in cases.list_cases(session, hr, status="open")] == [second.id]
    assert [c.id for c in cases.list_cases(session, hr, status=CaseStatus.CLOSED)] == [first.id]
    assert len(cases.list_cases(session, hr, limit=1)) == 1
    with refused(Invalid) as err:
        cases.list_cases(session, hr, status="pending")
    assert err.value.code == "invalid_status"
    with refused(Invalid) as err:
        cases.list_cases(session, hr, limit=101)
    assert err.value.code == "invalid_limit"


def test_get_case_respects_reach(session, team):
    case = open_as(session, team, "employee")
    assert cases.get_case(session, team.actor("employee"), case_id=case.id) is case
    assert cases.get_case(session, team.actor("hr"), case_id=case.id) is case
    with refused(Forbidden) as err:
        cases.get_case(session, team.actor("teammate"), case_id=case.id)
    assert err.value.code == "not_your_case"
    with refused(Forbidden):
        cases.get_case(session, team.actor("supervisor"), case_id=case.id)


def test_another_employers_case_is_not_found(session, team):
    case = open_as(session, team, "employee")
    other = Team(session)
    for call in (
        lambda: cases.get_case(session, other.actor("hr"), case_id=case.id),
        lambda: cases.answer_case(session, other.actor("hr"), case_id=case.id, answer="No."),
        lambda: cases.close_case(session, other.actor("admin"), case_id=case.id),
    ):
        with refused(NotFound) as err:
            call()
        assert err.value.code == "hr_case_not_found"
    session.refresh(case)
    assert (case.status, case.answer) == (CaseStatus.OPEN, None)


# ------------------------------------------------------------------ answer


@pytest.mark.parametrize(
    ("asked_on", "delivered_on"),
    [
        (Channel.WEB, Channel.WEB),
        (Channel.TELEGRAM, Channel.TELEGRAM),
        (Channel.WHATSAPP, Channel.WHATSAPP),
        (Channel.SMS, Channel.SMS),
        (Channel.USSD, Channel.SMS),
        (Channel.API, Channel.WEB),
    ],
)
def test_the_answer_reaches_the_employee_on_the_channel_they_asked_from(
    session, team, asked_on, delivered_on
):
    case = open_as(session, team, "employee", asked_on)
    with frozen(NOW):
        answered = cases.answer_case(
            session, team.actor("hr"), case_id=case.id, answer="  Yes, two years is fine.  "
        )

    assert answered.status == CaseStatus.ANSWERED
    assert (answered.answer, answered.answered_by_id, answered.answered_at) == (
        "Yes, two years is fine.",
        team.hr.id,
        NOW,
    )
    (note,) = notes(session, team.employee, "hr_case.answered")
    assert note.channel == delivered_on
    assert "Yes, two years is fine." in note.text
    assert f"case #{case.id}" in note.text


def test_only_hr_and_admin_answer(session, team):
    case = open_as(session, team, "employee")
    for who in ("employee", "teammate", "supervisor"):
        with refused(Forbidden) as err:
            cases.answer_case(session, team.actor(who), case_id=case.id, answer="Sure.")
        assert err.value.code == "forbidden"
    assert cases.answer_case(session, team.actor("admin"), case_id=case.id, answer="Sure.")


def test_nobody_answers_their_own_case(session, team):
    case = open_as(session, team, "hr")
    with refused(Forbidden) as err:
        cases.answer_case(session, team.actor("hr"), case_id=case.id, answer="Me again.")
    assert err.value.code == "own_case"


@pytest.mark.parametrize("close_first", [False, True])
def test_answering_a_case_that_is_not_open_is_a_conflict_and_changes_nothing(
    session, team, close_first
):
    case = open_as(session, team, "employee")
    hr = team.actor("hr")
    if close_first:
        cases.close_case(session, hr, case_id=case.id)
    else:
        cases.answer_case(session, hr, case_id=case.id, answer="First answer.")
    before = (case.status, case.answer)

    with refused(Conflict) as err:
        cases.answer_case(session, team.actor("admin"), case_id=case.id, answer="Second answer.")
    assert err.value.code == "case_not_open"
    session.refresh(case)
    assert (case.status, case.answer) == before
    assert len(notes(session, team.employee, "hr_case.answered")) == (0 if close_first else 1)
    outcome = session.scalars(
        select(AuditEntry.outcome).where(
            AuditEntry.action == "hr_case.answer", AuditEntry.actor_user_id == team.admin.id
        )
    ).one()
    assert outcome == "case_not_open"


@pytest.mark.parametrize("answer", ["", "   ", "z" * 4001])
def test_an_empty_or_huge_answer_is_refused(session, team, answer):
    case = open_as(session, team, "employee")
    with refused(Invalid) as err:
        cases.answer_case(session, team.actor("hr"), case_id=case.id, answer=answer)
    assert err.value.code == "invalid_answer"
    session.refresh(case)
    assert case.status == CaseStatus.OPEN
    assert notes(session, team.employee) == []


# ------------------------------------------------------------------ close


def test_the_asker_or_hr_closes_but_a_colleague_cannot(session, team):
    case = open_as(session, team, "employee")
    with refused(Forbidden):
        cases.close_case(session, team.actor("teammate"), case_id=case.id)
    with frozen(NOW):
        closed = cases.close_case(session, team.actor("employee"), case_id=case.id)
    assert (closed.status, closed.closed_at) == (CaseStatus.CLOSED, NOW)
    with refused(Conflict) as err:
        cases.close_case(session, team.actor("hr"), case_id=case.id)
    assert err.value.code == "case_closed"
