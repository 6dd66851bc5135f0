"""Scheduled automations, run for a frozen day: the right message to the right people, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app as cli
from hrcore.attendance import service as attendance
from hrcore.automations import service as automations
from hrcore.automations.models import AutomationRun, AutomationSetting
from hrcore.clock import frozen
from hrcore.dates import short_day
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications.models import Notification
from hrcore.notifications.service import not_quiet, notify
from hrcore.people.models import User
from tests.factories import Team

MONDAY = date(2026, 11, 23)
CHRISTMAS = date(2026, 12, 25)  # a Friday


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


pytestmark = pytest.mark.team(leave_types=True)


def messages(session: Session, user: User, kind: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def run(session: Session, team: Team, name: str, day: date) -> automations.Outcome:
    return automations.run_one(session, team.org, name, day, force_time=True)


def clock_in(session: Session, team: Team, who: str, at: datetime) -> None:
    with frozen(at):
        attendance.clock_in(session, team.actor(who))


def test_the_supervisor_gets_one_digest_of_late_and_absent_reports(session, team):
    clock_in(session, team, "employee", local(MONDAY, 8, 20))
    clock_in(session, team, "outsider", local(MONDAY, 7, 55))  # hr's report, on time

    first = run(session, team, "late_digest", MONDAY)
    again = run(session, team, "late_digest", MONDAY)

    digest = messages(session, team.supervisor, "late_digest")
    assert len(digest) == 1  # one message for the whole team, and only once
    assert short_day(MONDAY, "en") in digest[0].text  # "7 Dec", as every day is written
    assert f"{team.employee.full_name} late (20 min)" in digest[0].text
    assert f"{team.teammate.full_name} not clocked in" in digest[0].text
    assert messages(session, team.hr, "late_digest") == []  # nobody of hr's is late
    assert (first.status, first.sent, again.status, again.sent) == ("ran", 1, "already_done", 0)


def test_approved_leave_and_holidays_keep_people_out_of_the_digest(session, team):
    clock_in(session, team, "employee", local(MONDAY, 8, 0))
    clock_in(session, team, "outsider", local(MONDAY, 8, 0))
    session.add(
        LeaveRequest(
            organization_id=team.org.id, employee_id=team.teammate.id,
            leave_type_id=_annual(session, team), start_date=MONDAY, end_date=MONDAY,
            days=Decimal(1), status=LeaveStatus.APPROVED,
        )
    )  # fmt: skip
    session.flush()
    assert run(session, team, "late_digest", MONDAY).sent == 0  # on time, and on leave
    assert run(session, team, "late_digest", CHRISTMAS).sent == 0  # a public holiday
    assert run(session, team, "late_digest", MONDAY - timedelta(days=1)).sent == 0  # Sunday
    assert messages(session, team.supervisor, "late_digest") == []


def test_nobody_in_by_midday_and_not_on_leave_is_asked_once(session, team):
    clock_in(session, team, "employee", local(MONDAY, 8, 0))
    with frozen(local(MONDAY, 7, 0)):
        leave.request_leave(
            session, team.actor("outsider"), leave_type="annual",
            start_date=MONDAY, end_date=MONDAY,
        )  # fmt: skip
    run(session, team, "midday_check", MONDAY)
    run(session, team, "midday_check", MONDAY)

    asked = messages(session, team.teammate, "midday_check")
    assert len(asked) == 1
    assert "leave today" in asked[0].text
    assert messages(session, team.employee, "midday_check") == []  # clocked in
    assert messages(session, team.outsider, "midday_check") == []  # asked for leave already
    assert messages(session, team.admin, "midday_check") == []  # admins do not clock


def test_still_clocked_in_three_hours_after_work_is_reminded_once(session, team):
    clock_in(session, team, "employee", local(MONDAY, 8, 0))
    clock_in(session, team, "teammate", local(MONDAY, 8, 0))
    with frozen(local(MONDAY, 17, 5)):
        attendance.clock_out(session, team.actor("teammate"))
    outcome = automations.run_one(
        session, team.org, "clock_out_reminder", MONDAY, now=local(MONDAY, 19, 0)
    )
    assert outcome.status == "not_yet"  # 20:00 is its time
    automations.run_one(session, team.org, "clock_out_reminder", MONDAY, now=local(MONDAY, 20, 1))
    automations.run_one(session, team.org, "clock_out_reminder", MONDAY, now=local(MONDAY, 21, 0))
    reminded = messages(session, team.employee, "clock_out_reminder")
    assert len(reminded) == 1
    assert "08:00" in reminded[0].text
    assert messages(session, team.teammate, "clock_out_reminder") == []


def test_waiting_leave_reminds_the_approver_then_escalates_to_hr(session, team):
    with frozen(local(MONDAY, 9, 0)):
        request = leave.request_leave(
            session, team.actor("employee"), leave_type="annual",
            start_date=date(2026, 12, 7), end_date=date(2026, 12, 8),
        )  # fmt: skip
    request.created_at = local(MONDAY, 9, 0)  # the database stamps its own clock
    session.flush()
    assert run(session, team, "approval_reminder", MONDAY + timedelta(days=1)).sent == 0
    run(session, team, "approval_reminder", MONDAY + timedelta(days=2))  # 09:00, 48 h
    run(session, team, "approval_reminder", MONDAY + timedelta(days=3))
    assert len(messages(session, team.supervisor, "approval_reminder")) == 1
    assert messages(session, team.hr, "approval_escalation") == []
    run(session, team, "approval_reminder", MONDAY + timedelta(days=4))  # 96 h
    run(session, team, "approval_reminder", MONDAY + timedelta(days=5))
    escalated = messages(session, team.hr, "approval_escalation")
    assert len(escalated) == 1
    assert team.supervisor.full_name in escalated[0].text
    assert len(messages(session, team.supervisor, "approval_reminder")) == 1
    with frozen(local(MONDAY + timedelta(days=6), 8, 0)):
        leave.approve_leave(
            session, team.actor("supervisor"), request_id=request.id, decision="approve"
        )
    assert run(session, team, "approval_reminder", MONDAY + timedelta(days=6)).sent == 0


def test_hr_hears_once_per_fall_below_three_days(session, team):
    def take() -> LeaveRequest:  # 14 working days of the 15 a year
        with frozen(local(MONDAY, 9, 0)):
            return leave.request_leave(
                session, team.actor("employee"), leave_type="annual",
                start_date=date(2026, 12, 1), end_date=date(2026, 12, 18),
            )  # fmt: skip

    assert run(session, team, "low_balance", MONDAY).sent == 0
    big = take()
    run(session, team, "low_balance", MONDAY + timedelta(days=1))
    run(session, team, "low_balance", MONDAY + timedelta(days=2))
    told = messages(session, team.hr, "low_balance")
    assert len(told) == 1
    assert team.employee.full_name in told[0].text
    with frozen(local(MONDAY, 10, 0)):
        leave.cancel_leave(session, team.actor("employee"), request_id=big.id)
    run(session, team, "low_balance", MONDAY + timedelta(days=3))  # back above: re-armed
    take()
    run(session, team, "low_balance", MONDAY + timedelta(days=4))
    assert len(messages(session, team.hr, "low_balance")) == 2


def test_the_mood_invitation_goes_on_mondays_to_those_who_want_it(session, team):
    team.teammate.muted_automations = ["mood_invitation"]
    session.flush()
    assert run(session, team, "mood_invitation", MONDAY + timedelta(days=1)).status == "not_today"
    run(session, team, "mood_invitation", MONDAY)
    run(session, team, "mood_invitation", MONDAY)
    assert len(messages(session, team.employee, "mood_invitation")) == 1
    assert messages(session, team.teammate, "mood_invitation") == []


def test_an_organization_can_turn_an_automation_off_or_move_it(session, team):
    session.add(AutomationSetting(organization_id=team.org.id, name="midday_check", enabled=False))
    session.add(AutomationSetting(organization_id=team.org.id, name="late_digest", at=time(10, 0)))
    session.flush()
    assert run(session, team, "midday_check", MONDAY).status == "off"
    early = automations.run_one(session, team.org, "late_digest", MONDAY, now=local(MONDAY, 9, 30))
    assert early.status == "not_yet"
    due = {name for org, name, day in automations.due(session, local(MONDAY, 9, 30))
           if org.id == team.org.id}  # fmt: skip
    assert "late_digest" in due  # due lists what is not done; run_one checks the time


def test_quiet_hours_hold_what_can_wait(session, team):
    person = team.employee
    person.quiet_start, person.quiet_end = time(20, 0), time(7, 0)
    session.flush()
    evening = local(MONDAY, 21, 30)
    assert not_quiet(person, evening) == local(MONDAY + timedelta(days=1), 7, 0)
    assert not_quiet(person, local(MONDAY, 6, 0)) == local(MONDAY, 7, 0)
    assert not_quiet(person, local(MONDAY, 12, 0)) == local(MONDAY, 12, 0)
    with frozen(evening):
        held = notify(session, person, kind="test", text="later")
        urgent = notify(session, person, kind="test", text="now", urgent=True)
    assert held.next_attempt_at == local(MONDAY + timedelta(days=1), 7, 0)
    assert urgent.next_attempt_at == evening


def test_the_command_runs_a_day_and_twice_sends_nothing_new(session, team):
    runner = CliRunner()
    args = ["automations", "run", "--org", team.org.slug, "--date", "2026-11-23",
            "--only", "midday_check"]  # fmt: skip
    first = runner.invoke(cli, args)
    second = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "ran" in first.output
    assert "already_done" in second.output
    count = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.kind == "midday_check", Notification.organization_id == team.org.id)
    )
    assert session.scalar(count) == 5  # everyone but the admin: nobody clocked in
    runs = (
        select(func.count())
        .select_from(AutomationRun)
        .where(AutomationRun.organization_id == team.org.id)
    )
    assert session.scalar(runs) == 1
    bad = runner.invoke(cli, ["automations", "run", "--only", "nope"])
    assert bad.exit_code == 1
    assert "unknown" in bad.output


def _annual(session: Session, team: Team) -> int:
    return next(
        t.id for t in leave.list_leave_types(session, team.actor("hr")) if t.code == "annual"
    )
