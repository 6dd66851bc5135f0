"""The figures behind the reports, built only from the attendance and wellness services.

Nothing here queries attendance or mood rows itself: who may see whose hours is
`monthly_work_report`'s rule, and what wellness data may be shown is
`wellness_summary`'s, so each rule stays in one place.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.attendance import service as attendance
from hrcore.attendance.schemas import WorkReportRow
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.errors import Invalid
from hrcore.people.models import User
from hrcore.people.service import get_organization
from hrcore.reports.words import LANGUAGES, Language
from hrcore.wellness import summary as wellness
from hrcore.wellness.service import MIN_GROUP_SIZE

#: The months `monthly_work_report` accepts.
FIRST_YEAR, LAST_YEAR = 2000, 2100
DEFAULT_MONTHS, MAX_MONTHS = 6, 24
DEFAULT_WEEKS, MAX_WEEKS = 12, 26


class WorkReport(BaseModel):
    """Hours, days present and lateness per person for one month, with the totals."""

    model_config = ConfigDict(frozen=True)

    year: int
    month: int
    people: int = Field(description="People with at least one day present.")
    hours_worked: Decimal
    days_present: int
    late_arrivals: int
    late_minutes_total: int
    rows: list[WorkReportRow] = Field(description="One row per person, by name.")


class MonthLateness(BaseModel):
    """Late arrivals of the people in view over one month."""

    model_config = ConfigDict(frozen=True)

    year: int
    month: int
    people: int = Field(description="People with at least one day present.")
    days_present: int
    late_arrivals: int
    late_minutes_total: int
    late_share: int = Field(description="Late arrivals per 100 days present, rounded.")


class LatenessTrend(BaseModel):
    """Lateness month by month, oldest first."""

    model_config = ConfigDict(frozen=True)

    months: list[MonthLateness]


class MoodPoint(BaseModel):
    """One week of one group; no figures when the group was too small that week."""

    model_config = ConfigDict(frozen=True)

    week_start: date
    average: Decimal | None = None
    responses: int | None = None


class MoodSeries(BaseModel):
    """A group's weekly averages (`key` as the wellness summary names groups)."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    points: list[MoodPoint]


class WellnessTrend(BaseModel):
    """Anonymous mood week by week: the organization and the groups big enough to show."""

    model_config = ConfigDict(frozen=True)

    weeks: list[date] = Field(description="The Mondays of the weeks covered, oldest first.")
    min_group_size: int
    total: MoodSeries
    groups: list[MoodSeries] = Field(description="Only groups shown in at least one week.")


def check_month(year: int, month: int) -> None:
    """Refuse a month outside the calendar or the years reports cover."""
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        raise Invalid(
            f"{year}-{month:02d} is not a month reports cover ({FIRST_YEAR}-01 to {LAST_YEAR}-12).",
            code="invalid_month",
            year=year,
            month=month,
        )


def current_month(session: Session, actor: Actor) -> tuple[int, int]:
    """The employer's current (year, month), in its own time zone."""
    today = local_today(get_organization(session, actor).timezone)
    return today.year, today.month


def preferred_language(session: Session, actor: Actor) -> Language:
    """The language the actor chose for Ajira (English unless it is one reports speak)."""
    user = session.get(User, actor.user_id)
    chosen = (user.language if user is not None else "en").lower()[:2]
    return next((lang for lang in LANGUAGES if lang == chosen), "en")


def _months_back(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """The `count` months ending with (year, month), oldest first."""
    index = year * 12 + month - 1
    return [divmod(i, 12) for i in range(index - count + 1, index + 1)]


@audited("reports.work_report")
def work_report(session: Session, actor: Actor, *, year: int, month: int) -> WorkReport:
    """The monthly work report of everyone the actor manages: a team, or the organization."""
    actor.require(Permission.REPORTS_READ)
    check_month(year, month)
    rows = attendance.monthly_work_report(session, actor, year=year, month=month)
    return WorkReport(
        year=year,
        month=month,
        people=sum(1 for r in rows if r.days_present),
        hours_worked=sum((r.hours_worked for r in rows), Decimal("0.00")),
        days_present=sum(r.days_present for r in rows),
        late_arrivals=sum(r.late_arrivals for r in rows),
        late_minutes_total=sum(r.late_minutes_total for r in rows),
        rows=rows,
    )


@audited("reports.lateness_trend")
def lateness_trend(
    session: Session,
    actor: Actor,
    *,
    months: int = DEFAULT_MONTHS,
    year: int | None = None,
    month: int | None = None,
) -> LatenessTrend:
    """Late arrivals per month for the `months` months ending with year-month (default: now)."""
    actor.require(Permission.REPORTS_READ)
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid(f"Show 1 to {MAX_MONTHS} months.", code="invalid_months")
    if year is None or month is None:
        year, month = current_month(session, actor)
    check_month(year, month)
    span = [(y, m + 1) for y, m in _months_back(year, month, months)]
    check_month(*span[0])
    trend = []
    for y, m in span:
        rows = attendance.monthly_work_report(session, actor, year=y, month=m)
        days = sum(r.days_present for r in rows)
        late = sum(r.late_arrivals for r in rows)
        trend.append(
            MonthLateness(
                year=y,
                month=m,
                people=sum(1 for r in rows if r.days_present),
                days_present=days,
                late_arrivals=late,
                late_minutes_total=sum(r.late_minutes_total for r in rows),
                late_share=min(100, round(100 * late / days)) if days else 0,
            )
        )
    return LatenessTrend(months=trend)


@audited("reports.wellness_trend")
def wellness_trend(session: Session, actor: Actor, *, weeks: int = DEFAULT_WEEKS) -> WellnessTrend:
    """Average mood for each of the last `weeks` weeks that have ended, as the summary allows.

    Each week is one summary of that week alone (`summarize`, checked and audited once
    here), so a week or a group appears exactly when the summary of that week would show it.
    """
    actor.require(Permission.WELLNESS_SUMMARY)
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid(f"Show 1 to {MAX_WEEKS} weeks.", code="invalid_weeks")
    last_sunday = wellness.last_closed_sunday()
    mondays = [last_sunday - timedelta(days=7 * n + 6) for n in reversed(range(weeks))]
    total: list[MoodPoint] = []
    names: dict[str, str] = {}
    points: dict[str, dict[date, MoodPoint]] = {}
    for monday in mondays:
        summary = wellness.summarize(
            session, actor, start=monday, end=monday + timedelta(days=6), group_by="department"
        )
        total.append(_point(monday, summary.total))
        for group in summary.groups:
            if group.suppressed:
                continue
            names.setdefault(group.key, group.name)
            points.setdefault(group.key, {})[monday] = _point(monday, group)
    groups = [
        MoodSeries(
            key=key,
            name=names[key],
            points=[points[key].get(m, MoodPoint(week_start=m)) for m in mondays],
        )
        for key in sorted(points, key=lambda k: (k == wellness.UNASSIGNED_GROUP, names[k], k))
    ]
    return WellnessTrend(
        weeks=mondays,
        min_group_size=MIN_GROUP_SIZE,
        total=MoodSeries(
            key=wellness.ORGANIZATION_GROUP,
            name=get_organization(session, actor).name,
            points=total,
        ),
        groups=groups,
    )


def _point(monday: date, group: wellness.GroupSummary) -> MoodPoint:
    if group.suppressed:
        return MoodPoint(week_start=monday)
    return MoodPoint(week_start=monday, average=group.average, responses=group.responses)
