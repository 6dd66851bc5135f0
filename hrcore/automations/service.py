"""Scheduled automations: each runs per organization, in its timezone, once per local day.

A run is claimed by inserting its `automation_runs` row (organization, name, day); every
message it queues carries a key naming what it is about ("late_digest:2026-11-23:7"), so
a run that died half-way can be run again and sends only what is still missing, and a
second beat or a manual re-run of the same day sends nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Channel, Role
from hrcore.attendance.models import AttendanceRecord
from hrcore.automations.models import AutomationRun, AutomationSetting, BalanceAlert
from hrcore.automations.texts import say
from hrcore.calendar import is_working_day
from hrcore.dates import short_day
from hrcore.errors import HRError, Invalid
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus, LeaveType
from hrcore.leave.texts import describe_request
from hrcore.notifications.service import notify_once
from hrcore.payroll.months import month_label
from hrcore.payroll.runs import run_payroll
from hrcore.people.models import Organization, User
from hrcore.people.service import actor_for, hr_contacts

log = logging.getLogger("ajira.automations")

#: Pending leave older than this reminds the approver; twice this, hr is told.
APPROVAL_WAIT = timedelta(hours=48)
#: Annual leave left for the year below which hr hears about it.
LOW_BALANCE_DAYS = Decimal(3)


@dataclass(frozen=True, slots=True)
class Day:
    """One organization's local day, and the moment the run looks at it."""

    org: Organization
    day: date
    now: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.org.timezone)

    def at(self, local: time) -> datetime:
        return datetime.combine(self.day, local, tzinfo=self.zone)

    @property
    def start(self) -> datetime:
        return self.at(time(0))

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


Job = Callable[[Session, Day], int]


@dataclass(frozen=True, slots=True)
class Automation:
    name: str
    job: Job
    #: The local time it runs at, from the organization's working hours unless set.
    default_at: Callable[[Organization], time]
    description: str
    #: Whether people may turn it off for themselves (preferences).
    mutable: bool = True
    #: On which local weekdays it runs (Monday is 0); None: every day.
    weekdays: frozenset[int] | None = None


def _plus(at: time, minutes: int) -> time:
    moment = datetime.combine(date(2000, 1, 3), at) + timedelta(minutes=minutes)
    return moment.time()


# ------------------------------------------------------------------ helpers


def _active_staff(session: Session, org: Organization) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.organization_id == org.id, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def _on_leave(session: Session, org: Organization, day: date) -> set[int]:
    """Who has approved or pending leave covering `day` (a pending request is not an absence
    to chase: it waits for the approver)."""
    return set(
        session.scalars(
            select(LeaveRequest.employee_id).where(
                LeaveRequest.organization_id == org.id,
                LeaveRequest.status.in_([LeaveStatus.APPROVED, LeaveStatus.PENDING]),
                LeaveRequest.start_date <= day,
                LeaveRequest.end_date >= day,
            )
        )
    )


def _approved_leave(session: Session, org: Organization, day: date) -> set[int]:
    return set(
        session.scalars(
            select(LeaveRequest.employee_id).where(
                LeaveRequest.organization_id == org.id,
                LeaveRequest.status == LeaveStatus.APPROVED,
                LeaveRequest.start_date <= day,
                LeaveRequest.end_date >= day,
            )
        )
    )


def _shifts_on(session: Session, run: Day) -> dict[int, AttendanceRecord]:
    """Each employee's first clock-in of the day."""
    rows = session.scalars(
        select(AttendanceRecord)
        .where(
            AttendanceRecord.organization_id == run.org.id,
            AttendanceRecord.clock_in_at >= run.start,
            AttendanceRecord.clock_in_at < run.end,
        )
        .order_by(AttendanceRecord.clock_in_at)
    )
    first: dict[int, AttendanceRecord] = {}
    for row in rows:
        first.setdefault(row.employee_id, row)
    return first


def _clocks(user: User) -> bool:
    """People who clock in and out: everyone but the system's own administrators."""
    return user.role is not Role.ADMIN


def _wants(user: User, name: str) -> bool:
    return name not in (user.muted_automations or [])


def _local_hm(at: datetime, run: Day) -> str:
    return f"{at.astimezone(run.zone):%H:%M}"


# ------------------------------------------------------------------ the automations


def late_digest(session: Session, run: Day) -> int:
    """One message per supervisor: who of their reports is late or not in (working days)."""
    if not is_working_day(run.day, country=run.org.country):
        return 0
    staff = _active_staff(session, run.org)
    by_id = {u.id: u for u in staff}
    shifts = _shifts_on(session, run)
    away = _approved_leave(session, run.org, run.day)
    sent = 0
    for supervisor in staff:
        reports = [u for u in staff if u.reports_to_id == supervisor.id and _clocks(u)]
        if not reports or not _wants(supervisor, "late_digest"):
            continue
        lines = []
        for person in reports:
            if person.id in away:
                continue
            shift = shifts.get(person.id)
            if shift is None:
                lines.append(say("absent", supervisor.language, name=person.full_name))
            elif shift.late_minutes > 0:
                minutes = shift.late_minutes
                lines.append(
                    say("late", supervisor.language, name=person.full_name, minutes=minutes)
                )
        if not lines:
            continue
        text = say(
            "late_digest",
            supervisor.language,
            day=short_day(run.day, supervisor.language),
            lines="; ".join(lines),
        )
        key = f"late_digest:{run.day}:{supervisor.id}"
        if notify_once(session, by_id[supervisor.id], key=key, kind="late_digest", text=text):
            sent += 1
    return sent


def midday_check(session: Session, run: Day) -> int:
    """Ask each person with no clock-in and no leave by midday whether they are off."""
    if not is_working_day(run.day, country=run.org.country):
        return 0
    shifts = _shifts_on(session, run)
    away = _on_leave(session, run.org, run.day)
    sent = 0
    for person in _active_staff(session, run.org):
        if not _clocks(person) or person.id in shifts or person.id in away:
            continue
        if not _wants(person, "midday_check"):
            continue
        text = say("midday_check", person.language)
        key = f"midday_check:{run.day}:{person.id}"
        if notify_once(session, person, key=key, kind="midday_check", text=text):
            sent += 1
    return sent


def clock_out_reminder(session: Session, run: Day) -> int:
    """Remind whoever is still clocked in well after the working day."""
    open_shifts = session.scalars(
        select(AttendanceRecord).where(
            AttendanceRecord.organization_id == run.org.id,
            AttendanceRecord.clock_out_at.is_(None),
            AttendanceRecord.clock_in_at >= run.start,
            AttendanceRecord.clock_in_at < run.end,
        )
    )
    sent = 0
    for shift in open_shifts:
        person = session.get(User, shift.employee_id)
        if person is None or not person.is_active or not _wants(person, "clock_out_reminder"):
            continue
        text = say("clock_out_reminder", person.language, since=_local_hm(shift.clock_in_at, run))
        key = f"clock_out_reminder:{shift.id}"
        if notify_once(session, person, key=key, kind="clock_out_reminder", text=text):
            sent += 1
    return sent


def approval_reminder(session: Session, run: Day) -> int:
    """Leave waiting over 48 hours reminds its approver; after 96, hr is told."""
    waiting = session.scalars(
        select(LeaveRequest)
        .where(
            LeaveRequest.organization_id == run.org.id,
            LeaveRequest.status == LeaveStatus.PENDING,
            LeaveRequest.created_at <= run.now - APPROVAL_WAIT,
        )
        .order_by(LeaveRequest.id)
    )
    sent = 0
    for request in waiting:
        employee = session.get(User, request.employee_id)
        if employee is None:
            continue
        created = request.created_at.astimezone(run.zone)
        summary = f"{employee.full_name}: {describe_request(request)}"
        approvers = leave.approvers(session, employee)
        for approver in approvers:
            since = f"{short_day(created.date(), approver.language)} {created:%H:%M}"
            text = say("approval_reminder", approver.language, since=since, request=summary)
            key = f"approval_reminder:{request.id}:{approver.id}"
            if notify_once(session, approver, key=key, kind="approval_reminder", text=text):
                sent += 1
        if request.created_at > run.now - 2 * APPROVAL_WAIT:
            continue
        names = ", ".join(a.full_name for a in approvers) or "-"
        for person in hr_contacts(session, run.org.id):
            if person in approvers:
                continue
            text = say(
                "approval_escalation", person.language, since=since, request=summary,
                approver=names,
            )  # fmt: skip
            key = f"approval_escalation:{request.id}:{person.id}"
            if notify_once(session, person, key=key, kind="approval_escalation", text=text):
                sent += 1
    return sent


def low_balance(session: Session, run: Day) -> int:
    """Tell hr once each time someone's annual leave left for the year falls below 3 days."""
    sent = 0
    contacts = hr_contacts(session, run.org.id)
    for person in _active_staff(session, run.org):
        if not _clocks(person):
            continue
        try:
            views = leave.leave_balance(
                session, actor_for(person, Channel.SYSTEM), leave_type="annual", as_of=run.day
            )
        except HRError:
            continue  # no annual leave type here
        view = views[0]
        if not view.limited or view.entitled is None:
            continue
        left = view.entitled + (view.carried_over_usable or Decimal(0)) - view.taken - view.pending
        type_id = session.scalar(
            select(LeaveType.id).where(
                LeaveType.organization_id == run.org.id, LeaveType.code == "annual"
            )
        )
        if type_id is None:
            continue
        alert = session.scalar(
            select(BalanceAlert).where(
                BalanceAlert.user_id == person.id, BalanceAlert.leave_type_id == type_id
            )
        )
        if left >= LOW_BALANCE_DAYS:
            if alert is not None:
                session.delete(alert)  # back above: the next fall is told again
            continue
        if alert is not None:
            continue
        alert = BalanceAlert(
            organization_id=run.org.id, user_id=person.id, leave_type_id=type_id, since=run.now
        )
        session.add(alert)
        session.flush()
        for contact in contacts:
            if contact.id == person.id:
                continue
            text = say(
                "low_balance", contact.language, name=person.full_name,
                days=f"{left.normalize():f}", year=run.day.year,
            )  # fmt: skip
            key = f"low_balance:{alert.id}:{contact.id}"  # one per fall below the line
            if notify_once(session, contact, key=key, kind="low_balance", text=text):
                sent += 1
    return sent


def mood_invitation(session: Session, run: Day) -> int:
    """The weekly anonymous check-in, to everyone who has not turned it off."""
    year, week, _ = run.day.isocalendar()
    sent = 0
    for person in _active_staff(session, run.org):
        if not _clocks(person) or not _wants(person, "mood_invitation"):
            continue
        text = say("mood_invitation", person.language)
        key = f"mood_invitation:{year}-W{week:02d}:{person.id}"
        if notify_once(session, person, key=key, kind="mood_invitation", text=text):
            sent += 1
    return sent


def payroll_draft(session: Session, run: Day) -> int:
    """The month's draft payroll on the configured day, for hr to review."""
    month = f"{run.day:%Y-%m}"
    contacts = [p for p in hr_contacts(session, run.org.id) if p.role is Role.HR] or hr_contacts(
        session, run.org.id
    )
    if not contacts:
        return 0
    label = month_label(month)
    params: dict[str, object]
    try:
        with session.begin_nested():
            draft = run_payroll(session, actor_for(contacts[0], Channel.SYSTEM), month=month)
            count = draft.payslip_count
        key_part, text_key, params = "ready", "payroll_draft", {"count": count}
    except HRError as exc:
        key_part, text_key, params = "failed", "payroll_not_configured", {"reason": exc.message}
    sent = 0
    for person in contacts:
        text = say(text_key, person.language, month=label, **params)
        key = f"payroll_draft:{month}:{key_part}:{person.id}"
        if notify_once(session, person, key=key, kind="payroll_draft", text=text):
            sent += 1
    return sent


AUTOMATIONS: dict[str, Automation] = {
    a.name: a
    for a in (
        Automation(
            "late_digest", late_digest, lambda o: _plus(o.work_start, o.grace_minutes + 30),
            "each supervisor's digest of late and absent reports, after work start and grace",
        ),
        Automation(
            "midday_check", midday_check, lambda o: time(12, 0),
            "asks people with no clock-in and no leave by midday whether they are off",
        ),
        Automation(
            "clock_out_reminder", clock_out_reminder, lambda o: _plus(o.work_end, 180),
            "reminds people still clocked in three hours after the working day",
        ),
        Automation(
            "approval_reminder", approval_reminder, lambda o: time(9, 0),
            "reminds approvers of leave waiting over 48 hours, then tells hr after 96",
            mutable=False,
        ),
        Automation(
            "low_balance", low_balance, lambda o: time(7, 0),
            "tells hr when someone's annual leave left for the year falls below 3 days",
            mutable=False,
        ),
        Automation(
            "mood_invitation", mood_invitation, lambda o: time(10, 0),
            "the weekly anonymous mood check-in invitation (Mondays)",
            weekdays=frozenset({0}),
        ),
        Automation(
            "payroll_draft", payroll_draft, lambda o: time(9, 0),
            "prepares the month's draft payroll on the 25th for hr to review",
            mutable=False,
        ),
    )
}  # fmt: skip
#: The day of the month the payroll draft is prepared.
PAYROLL_DRAFT_DAY = 25


# ------------------------------------------------------------------ running


@dataclass(frozen=True, slots=True)
class Outcome:
    organization: str
    name: str
    day: date
    sent: int
    #: "ran", "already_done", "off", "not_today", "not_yet"
    status: str


def setting_of(session: Session, org: Organization, name: str) -> tuple[bool, time]:
    """Whether `name` is on for `org`, and its local time."""
    row = session.scalar(
        select(AutomationSetting).where(
            AutomationSetting.organization_id == org.id, AutomationSetting.name == name
        )
    )
    automation = AUTOMATIONS[name]
    enabled = True if row is None else row.enabled
    at = row.at if row is not None and row.at is not None else automation.default_at(org)
    return enabled, at


def _runs_on(automation: Automation, day: date) -> bool:
    if automation.name == "payroll_draft":
        return day.day == PAYROLL_DRAFT_DAY
    return automation.weekdays is None or day.weekday() in automation.weekdays


def run_one(
    session: Session,
    org: Organization,
    name: str,
    day: date,
    *,
    now: datetime | None = None,
    force_time: bool = False,
) -> Outcome:
    """Run automation `name` for `org`'s local `day`, at most once (see the module notes).

    Without `force_time` it only runs once its local time has come (the beat's tick).
    """
    automation = AUTOMATIONS.get(name)
    if automation is None:
        raise Invalid(f"No automation called {name}.", code="unknown_automation")
    enabled, at = setting_of(session, org, name)
    moment = now or clock.now()
    run = Day(org, day, moment)
    if not enabled:
        return Outcome(org.slug, name, day, 0, "off")
    if not _runs_on(automation, day):
        return Outcome(org.slug, name, day, 0, "not_today")
    if not force_time and moment < run.at(at):
        return Outcome(org.slug, name, day, 0, "not_yet")
    claimed = session.execute(
        insert(AutomationRun)
        .values(organization_id=org.id, name=name, day=day, started_at=moment, sent=0)
        .on_conflict_do_nothing(index_elements=["organization_id", "name", "day"])
        .returning(AutomationRun.id)
    ).scalar()
    row = session.scalar(
        select(AutomationRun)
        .where(
            AutomationRun.organization_id == org.id,
            AutomationRun.name == name,
            AutomationRun.day == day,
        )
        .with_for_update()
    )
    assert row is not None
    if claimed is None and row.finished_at is not None:
        return Outcome(org.slug, name, day, 0, "already_done")
    # Run by hand, a day is judged as of its scheduled moment, whenever the command runs.
    judged = Day(org, day, run.at(at)) if force_time else run
    sent = automation.job(session, judged)
    row.sent += sent
    row.finished_at = clock.now()
    session.flush()
    log.info("automation_ran org=%s name=%s day=%s sent=%s", org.slug, name, day, sent)
    return Outcome(org.slug, name, day, sent, "ran")


def organizations(session: Session, slug: str | None = None) -> list[Organization]:
    query = select(Organization).order_by(Organization.id)
    if slug is not None:
        query = query.where(Organization.slug == slug)
    found = list(session.scalars(query))
    if slug is not None and not found:
        raise Invalid(f"No organization {slug}.", code="unknown_organization")
    return found


def due(session: Session, now: datetime | None = None) -> Iterator[tuple[Organization, str, date]]:
    """Every (organization, automation, local day) whose time has come and is not done."""
    moment = now or clock.now()
    for org in organizations(session):
        day = moment.astimezone(ZoneInfo(org.timezone)).date()
        done = set(
            session.scalars(
                select(AutomationRun.name).where(
                    AutomationRun.organization_id == org.id,
                    AutomationRun.day == day,
                    AutomationRun.finished_at.is_not(None),
                )
            )
        )
        for name in AUTOMATIONS:
            if name not in done:
                yield org, name, day


def forget_balance_alerts(session: Session, organization_id: int) -> None:
    """Re-arm every low-balance alert of an organization (after a correction of balances)."""
    session.execute(delete(BalanceAlert).where(BalanceAlert.organization_id == organization_id))
