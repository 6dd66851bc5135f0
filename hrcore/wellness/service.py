"""Anonymous wellness: daily moods and issue reports, and summaries that protect small groups.

Nothing stored here links back to a person. A mood row carries the
organization, the department, the day (no time) and the score; the "one mood a
day" rule is enforced by a keyed hash of (organization, person, day) kept in a
separate table. The audit log records that someone submitted, never what.

Small-group suppression (`wellness_summary`): a group with fewer than
`MIN_GROUP_SIZE` responses is shown as suppressed, without figures. Because
the organization total is shown next to the department groups, the suppressed
groups' combined figures could be recovered by subtracting the shown groups
from the total. So, while any group is suppressed and the suppressed groups
together hold fewer than `MIN_GROUP_SIZE` responses (which always includes the
case of exactly one suppressed group), the smallest group still shown is
suppressed as well. What subtraction can then reveal is the pooled figures of
at least `MIN_GROUP_SIZE` responses across two or more groups. Department
groups are listed only when they have responses, so an empty department never
counts as a suppressed group. Issue counts are per category with no total, so
a suppressed category cannot be recovered the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.config import get_settings
from hrcore.errors import Conflict, Invalid
from hrcore.notifications.service import notify
from hrcore.pagination import check_page
from hrcore.people.models import Department, User
from hrcore.people.service import get_organization, hr_contacts
from hrcore.tenancy import get_for_org
from hrcore.wellness.models import IssueReport, MoodDayKey, MoodEntry

MIN_GROUP_SIZE = 5
MAX_RANGE_DAYS = 366
MAX_NOTE = 1000
MIN_ISSUE_TEXT = 3
MAX_ISSUE_TEXT = 4000
ISSUE_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "safety",
    "workload",
    "pay",
    "discrimination",
    "facilities",
    "other",
)
SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
ORGANIZATION_GROUP = "organization"
UNASSIGNED_GROUP = "unassigned"

_MOOD_DAY_PK = "pk_mood_day_keys"

GroupBy = Literal["organization", "department"]


@dataclass(frozen=True, slots=True)
class MoodReceipt:
    """What the person gets back: the day and score only, nothing that names the stored row."""

    day: date
    score: int


@dataclass(frozen=True, slots=True)
class IssueReceipt:
    """What the reporter gets back: the category and day, nothing that names the stored row."""

    day: date
    category: str


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
    """Mood per group, the organization total and issue counts for a date range."""

    start: date
    end: date
    group_by: str
    min_group_size: int
    total: GroupSummary
    groups: list[GroupSummary] = field(default_factory=list)
    issues: list[IssueCount] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IssueView:
    """An issue report as hr sees it: what was reported and when, not by whom or from where."""

    id: uuid.UUID
    day: date
    category: str
    text: str
    status: str


def _mood_day_key(organization_id: int, user_id: int, day: date) -> bytes:
    """A keyed hash of (organization, person, day); meaningless without the secret key."""
    return hmac.new(
        get_settings().secret_key.encode(),
        f"mood:{organization_id}:{user_id}:{day.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()


def _acting_user(session: Session, actor: Actor) -> User:
    return get_for_org(session, actor, User, actor.user_id, what="employee")


# Not audited: an audit row (who, exact time) beside a department's only entry of
# the day would name its author. The entry is not personal data by construction.
def submit_mood(
    session: Session, actor: Actor, *, score: int, note: str | None = None
) -> MoodReceipt:
    """Record today's mood (1–5) anonymously; once per person per day."""
    actor.require(Permission.WELLNESS_SUBMIT)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise Invalid("A mood score is a whole number from 1 to 5.", code="invalid_score")
    cleaned_note = note.strip() if isinstance(note, str) else None
    if cleaned_note is not None and len(cleaned_note) > MAX_NOTE:
        raise Invalid(f"A note may be at most {MAX_NOTE} characters.", code="invalid_note")
    user = _acting_user(session, actor)
    day = local_today(get_organization(session, actor).timezone)
    try:
        # The primary key is the guard, so two concurrent submissions cannot both land.
        with session.begin_nested():
            session.add(
                MoodDayKey(
                    organization_id=actor.organization_id,
                    key=_mood_day_key(actor.organization_id, actor.user_id, day),
                    day=day,
                )
            )
            session.flush()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != _MOOD_DAY_PK:
            raise
        raise Conflict(
            "You have already shared your mood today. Come back tomorrow.",
            code="mood_already_submitted",
        ) from exc
    session.add(
        MoodEntry(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            department_id=user.department_id,
            day=day,
            score=score,
            note=cleaned_note or None,
        )
    )
    session.flush()
    return MoodReceipt(day=day, score=score)


# Not audited, for the same reason as `submit_mood`.
def report_issue(session: Session, actor: Actor, *, category: str, text: str) -> IssueReceipt:
    """File an anonymous workplace issue report and tell hr that one arrived."""
    actor.require(Permission.WELLNESS_SUBMIT)
    cleaned_category = category.strip().lower() if isinstance(category, str) else ""
    if cleaned_category not in ISSUE_CATEGORIES:
        raise Invalid(
            f"{category!r} is not a report category. Choose one of: "
            + ", ".join(ISSUE_CATEGORIES)
            + ".",
            code="invalid_category",
        )
    cleaned_text = text.strip() if isinstance(text, str) else ""
    if not MIN_ISSUE_TEXT <= len(cleaned_text) <= MAX_ISSUE_TEXT:
        raise Invalid(
            f"Describe the issue in {MIN_ISSUE_TEXT} to {MAX_ISSUE_TEXT} characters.",
            code="invalid_text",
        )
    user = _acting_user(session, actor)
    day = local_today(get_organization(session, actor).timezone)
    session.add(
        IssueReport(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            department_id=user.department_id,
            day=day,
            category=cleaned_category,
            text=cleaned_text,
            status="open",
        )
    )
    # Every recipient gets the same words, whoever wrote the report (hr included).
    for recipient in hr_contacts(session, actor.organization_id):
        notify(
            session,
            recipient,
            kind="wellness.issue_reported",
            text="A new anonymous workplace report has arrived in Ajira. Please review it.",
        )
    session.flush()
    return IssueReceipt(day=day, category=cleaned_category)


def _check_range(start: date, end: date) -> None:
    if start > end:
        raise Invalid("The start date is after the end date.", code="invalid_range")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(f"A summary covers at most {MAX_RANGE_DAYS} days.", code="range_too_long")


def _figures(key: str, name: str, counts: dict[int, int]) -> GroupSummary:
    responses = sum(counts.values())
    if responses < MIN_GROUP_SIZE:
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


def _suppress_complements(groups: list[GroupSummary], responses: dict[str, int]) -> None:
    """Suppress more groups until subtracting from the total reveals no small group."""
    while True:
        hidden = [g for g in groups if g.suppressed]
        shown = [g for g in groups if not g.suppressed]
        if not hidden or not shown or sum(responses[g.key] for g in hidden) >= MIN_GROUP_SIZE:
            return
        smallest = min(shown, key=lambda g: (responses[g.key], g.name, g.key))
        groups[groups.index(smallest)] = GroupSummary(
            key=smallest.key, name=smallest.name, suppressed=True
        )


@audited("wellness.summary")
def wellness_summary(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    group_by: GroupBy = "department",
) -> WellnessSummary:
    """Anonymous mood figures and issue counts for a date range, small groups suppressed."""
    actor.require(Permission.WELLNESS_SUMMARY)
    _check_range(start, end)
    if group_by not in ("organization", "department"):
        raise Invalid(
            "Group the summary by 'organization' or 'department'.", code="invalid_group_by"
        )
    org = get_organization(session, actor)
    rows = session.execute(
        select(MoodEntry.department_id, MoodEntry.score, func.count())
        .where(
            MoodEntry.organization_id == actor.organization_id,
            MoodEntry.day.between(start, end),
        )
        .group_by(MoodEntry.department_id, MoodEntry.score)
    ).all()
    by_department: dict[int | None, dict[int, int]] = {}
    overall: dict[int, int] = {}
    for department_id, score, n in rows:
        by_department.setdefault(department_id, {})[score] = n
        overall[score] = overall.get(score, 0) + n
    total = _figures(ORGANIZATION_GROUP, org.name, overall)

    groups: list[GroupSummary]
    if group_by == "organization":
        groups = [total]
    else:
        # Only departments with responses are listed: an empty one would count as a
        # suppressed group and needlessly hide a real one, and its absence reveals nobody.
        departments = session.execute(
            select(Department.id, Department.name)
            .where(
                Department.organization_id == actor.organization_id,
                Department.id.in_([d for d in by_department if d is not None]),
            )
            .order_by(Department.name, Department.id)
        ).all()
        named: list[tuple[str, str, dict[int, int]]] = [
            (str(dept_id), name, by_department[dept_id]) for dept_id, name in departments
        ]
        if None in by_department:
            named.append((UNASSIGNED_GROUP, "No department", by_department[None]))
        groups = [_figures(key, name, counts) for key, name, counts in named]
        _suppress_complements(groups, {key: sum(c.values()) for key, _, c in named})

    issue_rows = dict(
        session.execute(
            select(IssueReport.category, func.count())
            .where(
                IssueReport.organization_id == actor.organization_id,
                IssueReport.day.between(start, end),
            )
            .group_by(IssueReport.category)
        ).all()
    )
    # No issue total is given, so a suppressed category cannot be recovered by subtraction.
    issues = []
    for category in ISSUE_CATEGORIES:
        count = issue_rows.get(category, 0)
        if count < MIN_GROUP_SIZE:
            issues.append(IssueCount(category=category, suppressed=True))
        else:
            issues.append(IssueCount(category=category, suppressed=False, count=count))
    return WellnessSummary(
        start=start,
        end=end,
        group_by=group_by,
        min_group_size=MIN_GROUP_SIZE,
        total=total,
        groups=groups,
        issues=issues,
    )


@audited("wellness.list_issues")
def list_issue_reports(
    session: Session,
    actor: Actor,
    *,
    category: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[IssueView]:
    """Anonymous issue reports for hr to act on, newest day first."""
    actor.require(Permission.WELLNESS_SUMMARY)
    check_page(limit, offset)
    query = select(IssueReport).where(IssueReport.organization_id == actor.organization_id)
    if category is not None:
        wanted = category.strip().lower()
        if wanted not in ISSUE_CATEGORIES:
            raise Invalid(f"{category!r} is not a report category.", code="invalid_category")
        query = query.where(IssueReport.category == wanted)
    # Ordered by day then the random id, so the order says nothing about who filed first.
    reports = session.scalars(
        query.order_by(IssueReport.day.desc(), IssueReport.id).limit(limit).offset(offset)
    )
    return [
        IssueView(id=r.id, day=r.day, category=r.category, text=r.text, status=r.status)
        for r in reports
    ]


def describe_mood_receipt(receipt: MoodReceipt) -> str:
    """The reply after a mood is recorded."""
    return "Thanks — your mood for today is recorded anonymously."


def describe_issue_receipt(receipt: IssueReceipt) -> str:
    """The reply after an issue report is filed."""
    return (
        f"Thank you. Your {receipt.category} report has been passed to hr anonymously; "
        "your name is not attached to it."
    )


def describe_summary(summary: WellnessSummary) -> str:
    """A short human summary of a wellness summary, for chat replies."""

    def line(group: GroupSummary) -> str:
        if group.suppressed:
            return f"{group.name}: too few responses to show"
        return f"{group.name}: {group.responses} responses, average {group.average}/5"

    lines = [f"Wellness {summary.start.isoformat()} to {summary.end.isoformat()}."]
    lines.append(line(summary.total))
    if summary.group_by == "department":
        lines.extend(line(group) for group in summary.groups)
    shown = [f"{i.category} {i.count}" for i in summary.issues if not i.suppressed]
    lines.append("Issue reports: " + (", ".join(shown) if shown else "none to show") + ".")
    return "\n".join(lines)
