from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.attendance.models import AttendanceRecord
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, NotFound
from tests.factories import Team
from tools.registry import run_tool

MONDAY_0812 = datetime(2026, 11, 23, 5, 12, tzinfo=UTC)  # 08:12 in Nairobi


pytestmark = pytest.mark.team(grace_minutes=5)


def _shifts(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(AttendanceRecord.employee_id == user_id))


@pytest.mark.parametrize("who", ["employee", "supervisor", "hr", "admin"])
def test_every_role_clocks_in_and_out(session: Session, team: Team, who: str) -> None:
    actor = team.actor(who)
    with frozen(MONDAY_0812):
        shift = run_tool(session, actor, "clock_in", {"note": "gate B"})
    assert shift.summary == "Clocked in at 08:12, 12 minutes late."
    assert shift.late_minutes == 12
    with frozen(MONDAY_0812.replace(hour=14, minute=2)):
        out = run_tool(session, actor, "clock_out", {})
    assert out.record_id == shift.record_id
    assert out.summary == "Clocked out at 17:02 after 8 h 50 min."
    assert _shifts(session, actor.user_id) == 1


def test_second_clock_in_is_a_conflict_and_writes_nothing(session: Session, team: Team) -> None:
    with frozen(MONDAY_0812):
        run_tool(session, team.actor("employee"), "clock_in", {})
        with pytest.raises(Conflict) as err:
            run_tool(session, team.actor("employee"), "clock_in", {})
    assert err.value.code == "already_clocked_in"
    assert _shifts(session, team.employee.id) == 1


def test_history_scoping_through_the_tool(session: Session, team: Team) -> None:
    with frozen(MONDAY_0812):
        run_tool(session, team.actor("employee"), "clock_in", {})
        seen = run_tool(
            session,
            team.actor("supervisor"),
            "attendance_history",
            {"employee_id": team.employee.id},
        )
        assert len(seen.shifts) == 1
        with pytest.raises(Forbidden):
            run_tool(
                session,
                team.actor("teammate"),
                "attendance_history",
                {"employee_id": team.employee.id},
            )
        other = Team(session)
        with pytest.raises(NotFound):
            run_tool(
                session,
                other.actor("admin"),
                "attendance_history",
                {"employee_id": team.employee.id},
            )


def test_monthly_report_defaults_to_this_month(session: Session, team: Team) -> None:
    with frozen(MONDAY_0812):
        run_tool(session, team.actor("employee"), "clock_in", {})
    with frozen(MONDAY_0812.replace(hour=14)):
        run_tool(session, team.actor("employee"), "clock_out", {})
        report = run_tool(session, team.actor("employee"), "monthly_work_report", {})
    assert (report.year, report.month) == (2026, 11)
    [row] = report.rows
    assert (row.employee_id, row.days_present, row.late_arrivals) == (team.employee.id, 1, 1)
    assert row.hours_worked == Decimal("9.00")  # 08:12 to 17:12
    assert report.summary.startswith("Work report for November 2026: ")
