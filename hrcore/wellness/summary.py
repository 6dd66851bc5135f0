"""Wellness summaries and the notes review, built only from whole weeks that have ended.

A summary must not change in a way that reveals one submission, or hr could read
it, let one more person submit, read again and subtract. So:

- The unit is a cell: one ISO week (Monday to Sunday) of one group. A summary is
  a sum of cells, and only of weeks that have ended (`last_closed_sunday`); the
  requested range is snapped inward to the whole closed weeks it covers. A closed
  week takes no new moods, so its cells never change, and two summaries differ
  only by whole cells.
- A cell counts only if it alone holds at least `MIN_GROUP_SIZE` distinct people
  (`MoodParticipation`, never responses: one person may answer every day). The
  organization total takes each week whose organization cell is big enough; a
  department takes its own big-enough cells of those weeks.
- Within each week, the organization cell minus the department cells shown is the
  pool of hidden cells; while that pool holds fewer than `MIN_GROUP_SIZE` people,
  the smallest shown cell (then the lowest department id, which never changes) is
  hidden too. What subtraction can reveal is a pool of at least that many people.
  A group with no cell shown is not listed, so not even its taking part is told.
- Notes appear in a summary only as a count over the counted weeks. Their texts
  come only from `review_wellness_notes`: explicit, audited, in an order that
  says nothing (the random row id), with no date, score or department.
- Issue reports are counted per category over the same weeks, small counts hidden;
  there is no issue total, so a hidden category cannot be recovered by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.errors import Invalid
from hrcore.pagination import check_page
from hrcore.people.models import Department
from hrcore.people.service import get_organization
from hrcore.wellness.models import IssueReport, MoodEntry, MoodParticipation
from hrcore.wellness.service import ISSUE_CATEGORIES, MIN_GROUP_SIZE, SCORES, week_of

MAX_RANGE_DAYS = 366
DEFAULT_WEEKS = 4
#: Dates outside these are refused (the same bounds as the tools' `Day`): far dates are
#: typing slips, and the week arithmetic stays far from the ends of the calendar.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2100, 12, 31)
ORGANIZATION_GROUP = "organization"
UNASSIGNED_GROUP = "unassigned"
UNASSIGNED_NAME = "Small or no department"
FORMER_DEPARTMENT_NAME = "Former department"

# UTC-12, the last zone where a day ends. A week counts as closed only once it has ended
# there, so no later change of the organization's time zone can put a new mood into it.
_LAST_ZONE = "Etc/GMT+12"

GroupBy = Literal["organization", "department"]
# A week's group: a department id, or None for small departments and no department.
_Group = int | None
_Counts = dict[int, int]


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """Mood figures for one group; every figure is None when the group is suppressed."""

    key: str
    name: str
    suppressed: bool
    responses: int | None = None
    average: Decimal | None = None
    distribution: dict[int, int] | None = None


@dataclass(frozen=True, slots=True)
class IssueCount:
    """Anonymous issue reports in one category; the count is None when suppressed."""

    category: str
    suppressed: bool
    count: int | None = None


@dataclass(frozen=True, slots=True)
class WellnessSummary:
    """Mood per group, the organization total, a note count and issue counts over closed weeks."""

    start: date
    end: date
    covered_start: date | None
    covered_end: date | None
    group_by: str
    min_group_size: int
    total: GroupSummary
    groups: list[GroupSummary] = field(default_factory=list)
    notes: int = 0
    issues: list[IssueCount] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NotesReview:
    """Note texts of the counted weeks, one page, with nothing that dates or places them."""

    start: date
    end: date
    covered_start: date | None
    covered_end: date | None
    total: int
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Week:
    """One closed week's cells: distinct people, score counts and notes per group."""

    people: dict[_Group, int] = field(default_factory=lambda: defaultdict(int))
    scores: dict[_Group, _Counts] = field(default_factory=lambda: defaultdict(dict))
    notes: int = 0

    @property
    def everyone(self) -> int:
        return sum(self.people.values())


def last_closed_sunday() -> date:
    """The last day of the latest week that has ended everywhere on Earth."""
    return week_of(local_today(_LAST_ZONE)) - timedelta(days=1)


def whole_closed_weeks(start: date, end: date) -> tuple[date, date] | None:
    """The first Monday and last Sunday of the closed weeks inside [start, end], if any."""
    # Ordinals cannot overflow, and the result lies inside [start, end], so it is a valid date.
    first = start.toordinal() + (-start.weekday()) % 7
    last_day = min(end, last_closed_sunday())
    last = last_day.toordinal() - (last_day.weekday() + 1) % 7
    if first > last:
        return None
    return date.fromordinal(first), date.fromordinal(last)


def _resolve_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The requested range with its defaults: the last `DEFAULT_WEEKS` weeks that have ended."""
    for value in (start, end):
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise Invalid(
                f"Dates must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}.",
                code="date_out_of_range",
            )
    if end is None:
        end = last_closed_sunday() if start is None else max(start, last_closed_sunday())
    if start is None:
        start = max(EARLIEST_DAY, end - timedelta(days=7 * DEFAULT_WEEKS - 1))
    if start > end:
        raise Invalid("The start date is after the end date.", code="invalid_range")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(f"A summary covers at most {MAX_RANGE_DAYS} days.", code="range_too_long")
    return start, end


def _weeks(session: Session, actor: Actor, first: date, last: date) -> dict[date, _Week]:
    """Every week in [first, last] that has mood data, cell by cell."""
    weeks: dict[date, _Week] = defaultdict(_Week)
    people = session.execute(
        select(MoodParticipation.week, MoodParticipation.department_id, func.count())
        .where(
            MoodParticipation.organization_id == actor.organization_id,
            MoodParticipation.week.between(first, last),
        )
        .group_by(MoodParticipation.week, MoodParticipation.department_id)
    ).all()
    for week, group, n in people:
        weeks[week].people[group] = n
    scores = session.execute(
        select(
            MoodEntry.week,
            MoodEntry.department_id,
            MoodEntry.score,
            func.count(),
            func.count(MoodEntry.note),
        )
        .where(
            MoodEntry.organization_id == actor.organization_id,
            MoodEntry.week.between(first, last),
        )
        .group_by(MoodEntry.week, MoodEntry.department_id, MoodEntry.score)
    ).all()
    for week, group, score, n, notes in scores:
        weeks[week].scores[group][score] = n
        weeks[week].notes += notes
    return weeks


def _counted(weeks: dict[date, _Week]) -> dict[date, _Week]:
    """The weeks whose organization cell alone holds enough distinct people."""
    return {week: cells for week, cells in weeks.items() if cells.everyone >= MIN_GROUP_SIZE}


def _shown_groups(cells: _Week) -> set[_Group]:
    """The department cells of one week that may be shown beside that week's total."""
    # Entries without participation (rows older than participation counting) are a
    # group of unknown, so zero, people: they stay hidden and pull in another group.
    groups = set(cells.people) | set(cells.scores)
    shown = {g for g in groups if cells.people.get(g, 0) >= MIN_GROUP_SIZE}
    while True:
        hidden = groups - shown
        pooled = sum(cells.people.get(g, 0) for g in hidden)
        if not hidden or not shown or pooled >= MIN_GROUP_SIZE:
            return shown
        # Ties go by department id, not name: a rename must not change what is shown.
        shown.remove(min(shown, key=lambda g: (cells.people[g], -1 if g is None else g)))


def _add(into: _Counts, counts: _Counts) -> None:
    for score, n in counts.items():
        into[score] = into.get(score, 0) + n


def _figures(key: str, name: str, counts: _Counts) -> GroupSummary:
    responses = sum(counts.values())
    if not responses:
        return GroupSummary(key=key, name=name, suppressed=True)
    average = Decimal(sum(score * n for score, n in counts.items())) / Decimal(responses)
    return GroupSummary(
        key=key,
        name=name,
        suppressed=False,
        responses=responses,
        average=average.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        distribution={score: counts.get(score, 0) for score in SCORES},
    )


def _department_groups(
    session: Session, actor: Actor, counted: dict[date, _Week]
) -> list[GroupSummary]:
    """One summary per group with a cell shown in the counted weeks, built from those cells.

    A group with no cell shown is not listed at all: even "suppressed" would say that
    someone in it took part, and the pool of small and no departments may be one person.
    """
    totals: dict[_Group, _Counts] = {}
    for cells in counted.values():
        for group in _shown_groups(cells):
            _add(totals.setdefault(group, {}), cells.scores.get(group, {}))
    names = dict(
        session.execute(
            select(Department.id, Department.name).where(
                Department.organization_id == actor.organization_id,
                Department.id.in_([g for g in totals if g is not None]),
            )
        ).all()
    )
    # Departments are stored without a foreign key, so a deleted one keeps its own group.
    named = sorted((names.get(g, FORMER_DEPARTMENT_NAME), g) for g in totals if g is not None)
    groups = [_figures(str(g), name, totals[g]) for name, g in named]
    if None in totals:
        groups.append(_figures(UNASSIGNED_GROUP, UNASSIGNED_NAME, totals[None]))
    return groups


def _issue_counts(
    session: Session, actor: Actor, covered: tuple[date, date] | None
) -> list[IssueCount]:
    rows: dict[str, int] = {}
    if covered is not None:
        rows = dict(
            session.execute(
                select(IssueReport.category, func.count())
                .where(
                    IssueReport.organization_id == actor.organization_id,
                    IssueReport.day.between(*covered),
                )
                .group_by(IssueReport.category)
            ).all()
        )
    counts = []
    for category in ISSUE_CATEGORIES:
        n = rows.get(category, 0)
        if n < MIN_GROUP_SIZE:
            counts.append(IssueCount(category=category, suppressed=True))
        else:
            counts.append(IssueCount(category=category, suppressed=False, count=n))
    return counts


@audited("wellness.summary")
def wellness_summary(
    session: Session,
    actor: Actor,
    *,
    start: date | None = None,
    end: date | None = None,
    group_by: GroupBy = "department",
) -> WellnessSummary:
    """Anonymous mood figures over the whole closed weeks in a range, small cells left out."""
    actor.require(Permission.WELLNESS_SUMMARY)
    return summarize(session, actor, start=start, end=end, group_by=group_by)


def summarize(
    session: Session,
    actor: Actor,
    *,
    start: date | None = None,
    end: date | None = None,
    group_by: GroupBy = "department",
) -> WellnessSummary:
    """`wellness_summary`'s figures, for a service that has checked and audits the call itself.

    The wellness trend is one summary per week: through `wellness_summary` a single
    request made a dozen permission checks and wrote a dozen audit entries.
    """
    start, end = _resolve_range(start, end)
    if group_by not in ("organization", "department"):
        raise Invalid(
            "Group the summary by 'organization' or 'department'.", code="invalid_group_by"
        )
    org = get_organization(session, actor)
    covered = whole_closed_weeks(start, end)
    counted = _counted(_weeks(session, actor, *covered)) if covered else {}
    overall: _Counts = {}
    for cells in counted.values():
        for counts in cells.scores.values():
            _add(overall, counts)
    total = _figures(ORGANIZATION_GROUP, org.name, overall)
    by_department = group_by == "department"
    groups = _department_groups(session, actor, counted) if by_department else [total]
    return WellnessSummary(
        start=start,
        end=end,
        covered_start=covered[0] if covered else None,
        covered_end=covered[1] if covered else None,
        group_by=group_by,
        min_group_size=MIN_GROUP_SIZE,
        total=total,
        groups=groups,
        notes=sum(cells.notes for cells in counted.values()),
        issues=_issue_counts(session, actor, covered),
    )


@audited("wellness.review_notes", target_type="wellness_notes")
def review_wellness_notes(
    session: Session,
    actor: Actor,
    *,
    start: date | None = None,
    end: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> NotesReview:
    """The texts of mood notes from counted closed weeks: no dates, scores or departments."""
    actor.require(Permission.WELLNESS_SUMMARY)
    check_page(limit, offset)
    start, end = _resolve_range(start, end)
    covered = whole_closed_weeks(start, end)
    weeks = list(_counted(_weeks(session, actor, *covered))) if covered else []
    if not weeks:
        return NotesReview(
            start=start,
            end=end,
            covered_start=covered[0] if covered else None,
            covered_end=covered[1] if covered else None,
            total=0,
        )
    assert covered is not None  # weeks come only from a covered range
    noted = select(MoodEntry.note).where(
        MoodEntry.organization_id == actor.organization_id,
        MoodEntry.week.in_(weeks),
        MoodEntry.note.is_not(None),
    )
    total = session.scalar(select(func.count()).select_from(noted.subquery())) or 0
    # The random row id is an order that says nothing about who wrote first, and it is
    # stable, so pages do not overlap.
    page = session.scalars(noted.order_by(MoodEntry.id).limit(limit).offset(offset))
    return NotesReview(
        start=start,
        end=end,
        covered_start=covered[0],
        covered_end=covered[1],
        total=total,
        notes=[note for note in page if note is not None],
    )


def _weeks_phrase(first: date, last: date) -> str:
    return f"the weeks {first.isoformat()} to {last.isoformat()} (Monday to Sunday)"


def _nothing_closed(start: date, end: date) -> str:
    return (
        f"No whole week that has ended lies between {start.isoformat()} and {end.isoformat()}, "
        "so there is nothing to show yet: figures cover only whole weeks (Monday to Sunday) "
        "that are over."
    )


def describe_summary(summary: WellnessSummary) -> str:
    """A short human summary of a wellness summary, for chat replies."""
    if summary.covered_start is None or summary.covered_end is None:
        return _nothing_closed(summary.start, summary.end)

    def line(group: GroupSummary) -> str:
        if group.suppressed:
            return f"{group.name}: too few people to show"
        return f"{group.name}: {group.responses} responses, average {group.average}/5"

    lines = [f"Wellness for {_weeks_phrase(summary.covered_start, summary.covered_end)}."]
    lines.append(line(summary.total))
    if summary.group_by == "department":
        lines.extend(line(group) for group in summary.groups)
    if summary.group_by == "department":
        lines.append(
            f"Groups with fewer than {summary.min_group_size} people in a week are left out "
            "of that week."
        )
    lines.append(f"Notes written: {summary.notes}.")
    shown = [f"{i.category} {i.count}" for i in summary.issues if not i.suppressed]
    lines.append("Issue reports: " + (", ".join(shown) if shown else "none to show") + ".")
    return "\n".join(lines)


def describe_notes_review(review: NotesReview, *, offset: int = 0) -> str:
    """The notes as quotes, for chat replies; the notes carry no date, score or department."""
    if review.covered_start is None or review.covered_end is None:
        return _nothing_closed(review.start, review.end)
    where = _weeks_phrase(review.covered_start, review.covered_end)
    if not review.notes:
        return f"No notes to show from {where}."
    shown = f"{offset + 1}–{offset + len(review.notes)} of {review.total}"
    quotes = "\n".join(f"- “{note}”" for note in review.notes)
    return f"Notes {shown} from {where}, in no particular order:\n{quotes}"
