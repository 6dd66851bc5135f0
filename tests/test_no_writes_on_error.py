"""An error answer leaves no domain writes, for every tool, over REST and in a chat turn.

Each tool has at least one failing call below (bad dates, a forbidden target, a
conflict...). The contents of every table except the audit log are compared before and
after; a tool added to the registry without a failing case here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from assistant.adapter import call_tool
from hrcore.actor import Actor, Permission
from hrcore.all_models import Base
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord
from hrcore.audit import AuditEntry, audited
from hrcore.clock import frozen
from hrcore.errors import Invalid
from hrcore.leave import service as leave
from hrcore.wellness import service as wellness
from tests.factories import Team, bearer
from tools import registry
from tools.registry import ToolArgs, ToolContext, ToolResult, all_tools, tool_spec

# Monday 23 November 2026, 09:00 in Nairobi.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NOBODY = 2**40


@dataclass
class World:
    team: Team
    teammate_request: int  # pending, of the employee's teammate
    outsider_request: int  # pending, of someone who reports to hr, not to the supervisor


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    with frozen(NOW):
        team = Team(session)
        leave.ensure_default_leave_types(session, team.org)
        requests = [
            leave.request_leave(
                session,
                team.actor(who),
                leave_type="annual",
                start_date=date(2026, 12, 14),
                end_date=date(2026, 12, 15),
            ).id
            for who in ("teammate", "outsider")
        ]
        attendance.clock_in(session, team.actor("employee"))
        wellness.submit_mood(session, team.actor("employee"), score=4)
        session.flush()
        yield World(team, *requests)


# tool -> (who calls it, its arguments); every one must fail.
Case = tuple[str, Callable[[World], dict[str, Any]]]
CASES: dict[str, list[Case]] = {
    "answer_hr_case": [("hr", lambda w: {"case_id": NOBODY, "answer": "Yes."})],
    "approve_leave": [
        ("supervisor", lambda w: {"request_id": w.outsider_request, "decision": "approve"}),
        ("employee", lambda w: {"request_id": w.teammate_request, "decision": "approve"}),
    ],
    "ask_hr": [("employee", lambda w: {"question": "   "})],
    "attendance_history": [
        ("employee", lambda w: {"employee_id": w.team.teammate.id}),
        ("employee", lambda w: {"end": "9999-12-31"}),
    ],
    "automation_settings": [
        ("hr", lambda w: {"name": "midday_check", "enabled": False}),
        ("admin", lambda w: {"name": "late_digest", "at": "25:00"}),
    ],
    "cancel_leave": [("employee", lambda w: {"request_id": w.teammate_request})],
    "clock_in": [("employee", lambda w: {"note": "second time today"})],
    "clock_out": [("teammate", lambda w: {"latitude": 91, "longitude": 0})],
    "fetch_payslip": [
        ("employee", lambda w: {"employee_id": w.team.teammate.id}),
        ("employee", lambda w: {"month": "0000-01"}),
    ],
    "get_preferences": [("employee", lambda w: {"user_id": w.team.teammate.id})],
    "leave_balance": [("employee", lambda w: {"leave_type": "sabbatical"})],
    "list_employees": [("employee", lambda w: {"limit": 0})],
    "list_hr_cases": [("employee", lambda w: {"status": "lost"})],
    "list_leave_requests": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "list_leave_types": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "list_payslips": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "list_reviews": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "message_status": [
        ("employee", lambda w: {"broadcast_id": 1}),
        ("hr", lambda w: {"broadcast_id": NOBODY}),
    ],
    "monthly_work_report": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "my_profile": [("employee", lambda w: {"employee_id": w.team.teammate.id})],
    "report_issue": [("employee", lambda w: {"category": "ghosts", "text": "Boo."})],
    "request_leave": [
        # Filed, then its balance read for a year the leave rules refuse: the request and
        # the supervisor's notification must both be undone.
        (
            "employee",
            lambda w: {
                "leave_type": "annual",
                "start_date": "1990-01-04",
                "end_date": "1990-01-04",
            },
        ),
        (
            "employee",
            lambda w: {
                "leave_type": "annual",
                "start_date": "2026-12-10",
                "end_date": "2026-12-01",
            },
        ),
    ],
    "reset_pin": [
        ("hr", lambda w: {"employee_id": NOBODY}),
        ("supervisor", lambda w: {"employee_id": w.team.employee.id}),
    ],
    "review_wellness_notes": [("employee", lambda w: {})],
    "run_payroll": [
        ("hr", lambda w: {"month": "0000-01"}),
        ("supervisor", lambda w: {"month": "2026-11"}),
    ],
    "salary_preview": [("employee", lambda w: {"gross": -5})],
    "search_policy": [("employee", lambda w: {"query": ""})],
    "send_message": [
        ("employee", lambda w: {"to": "everyone", "text": "Free lunch!"}),
        ("hr", lambda w: {"to": "Nobody Anywhere", "text": "Hello."}),
    ],
    "set_preferences": [
        # The channel and the muted reminder are valid; the half-given quiet hours are
        # not, and must take the other two changes down with them.
        (
            "employee",
            lambda w: {"channel": "sms", "mute": ["mood_invitation"], "quiet_start": "21:00"},
        ),
        ("employee", lambda w: {"channel": "pigeon"}),
    ],
    "submit_mood": [("employee", lambda w: {"score": 3})],
    "submit_review": [
        (
            "supervisor",
            lambda w: {"employee_id": w.team.outsider.id, "period": "2026-Q4", "overall_score": 4},
        )
    ],
    "wellness_chart": [("employee", lambda w: {}), ("hr", lambda w: {"weeks": 0})],
    "wellness_summary": [
        ("employee", lambda w: {}),
        ("hr", lambda w: {"start": "2026-01-01", "end": "0001-01-01"}),
    ],
    "work_report_chart": [
        ("employee", lambda w: {}),
        ("supervisor", lambda w: {"year": 2026, "month": 13}),
    ],
}

PARAMS = [
    pytest.param(name, who, args, id=f"{name}[{i}]")
    for name, cases in sorted(CASES.items())
    for i, (who, args) in enumerate(cases)
]


def snapshot(session: Session) -> dict[str, str]:
    """A digest of every row of every table but the audit log."""
    digests = {}
    for table in Base.metadata.sorted_tables:
        if table.name == AuditEntry.__tablename__:
            continue
        digests[table.name] = session.execute(
            text(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "  # noqa: S608
                f"ORDER BY t::text)), '') FROM {table.name} t"
            )
        ).scalar_one()
    return digests


def test_every_tool_has_a_failing_case() -> None:
    assert set(CASES) == {spec.name for spec in all_tools()}


@pytest.mark.parametrize(("tool", "who", "args"), PARAMS)
def test_a_failing_rest_call_writes_nothing(
    app: FastAPI, session: Session, world: World, tool: str, who: str, args: Callable
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    headers = bearer(getattr(world.team, who))
    session.flush()
    before = snapshot(session)
    with frozen(NOW):
        response = client.post(f"/api/v1/tools/{tool}", json=args(world), headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    session.expire_all()
    assert snapshot(session) == before


@pytest.mark.parametrize(("tool", "who", "args"), PARAMS)
def test_a_failing_chat_tool_call_writes_nothing(
    session: Session, world: World, tool: str, who: str, args: Callable
) -> None:
    before = snapshot(session)
    with frozen(NOW):
        payload, ok = call_tool(world.team.actor(who), tool, args(world))
    assert not ok
    assert payload["error"]["code"] != "internal_error"
    session.expire_all()
    assert snapshot(session) == before


class _Args(ToolArgs):
    pass


@audited("test.refuse")
def _refuse(session: Session, actor: Actor) -> None:
    raise Invalid("Refused after the clock-in.", code="test_refused")


@pytest.fixture
def clock_in_then_fail() -> Iterator[str]:
    """A tool whose first audited service succeeds and whose second one fails."""

    @tool_spec(name="test_clock_in_then_fail", permission=Permission.ATTENDANCE_CLOCK)
    def tool(ctx: ToolContext, args: _Args) -> ToolResult:
        attendance.clock_in(ctx.session, ctx.actor)
        _refuse(ctx.session, ctx.actor)
        return ToolResult(summary="unreachable")

    yield "test_clock_in_then_fail"
    registry._REGISTRY.pop("test_clock_in_then_fail")


def test_writes_of_an_earlier_service_in_the_same_call_are_undone(
    app: FastAPI, session: Session, world: World, clock_in_then_fail: str
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    teammate = world.team.teammate
    with frozen(NOW):
        response = client.post(f"/api/v1/tools/{clock_in_then_fail}", headers=bearer(teammate))
    assert (response.status_code, response.json()["code"]) == (422, "test_refused")
    shifts = session.scalar(
        select(func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.employee_id == teammate.id)
    )
    assert shifts == 0
    # The failure is still on the record, written in a transaction of its own.
    failures = session.execute(
        select(AuditEntry.action, AuditEntry.outcome).where(
            AuditEntry.actor_user_id == teammate.id, AuditEntry.outcome != "ok"
        )
    ).all()
    assert [tuple(row) for row in failures] == [("test.refuse", "test_refused")]
