"""Anonymous wellness: daily moods and issue reports, stored so that nothing names a person.

A mood row carries the organization, the ISO week (its Monday, in the
organization's time zone; no day, no time) and the score, plus the department
only when that department had at least `MIN_GROUP_SIZE` active members at
submission; smaller departments are stored as no department, so no stored
attribute narrows a group below that size. The "one mood a day" rule is a keyed
hash of (organization, person, day) in a separate table, and the number of
distinct people per week and department is kept as keyed pseudonyms without
scores (`MoodParticipation`). The audit log records that someone submitted,
never what. Summaries and the notes review live in `hrcore.wellness.summary`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.errors import Conflict, Invalid
from hrcore.keys import mood_key
from hrcore.notifications.service import notify
from hrcore.pagination import check_page
from hrcore.people.models import User
from hrcore.people.service import get_organization, hr_contacts
from hrcore.tenancy import get_for_org
from hrcore.wellness.models import IssueReport, MoodDayKey, MoodEntry, MoodParticipation

MIN_GROUP_SIZE = 5
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

_MOOD_DAY_PK = "pk_mood_day_keys"


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
class IssueView:
    """An issue report as hr sees it: what was reported and when, not by whom or from where."""

    id: uuid.UUID
    day: date
    category: str
    text: str
    status: str


def week_of(day: date) -> date:
    """The Monday of `day`'s ISO week (never overflows: 0001-01-01 is a Monday)."""
    return day - timedelta(days=day.weekday())


def _mood_day_key(organization_id: int, user_id: int, day: date) -> bytes:
    """A keyed hash of (organization, person, day); meaningless without the secret key."""
    return hmac.new(
        mood_key(),
        f"mood:{organization_id}:{user_id}:{day.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()


def _mood_week_pseudonym(organization_id: int, user_id: int, week: date) -> bytes:
    """A keyed hash of (organization, person, week): counts a person once a week, unnamed."""
    return hmac.new(
        mood_key(),
        f"mood-week:{organization_id}:{user_id}:{week.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()


def _hiding_department(session: Session, user: User) -> int | None:
    """The user's department if at least `MIN_GROUP_SIZE` active people share it, else None."""
    if user.department_id is None:
        return None
    members = session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.organization_id == user.organization_id,
            User.department_id == user.department_id,
            User.is_active.is_(True),
        )
    )
    return user.department_id if (members or 0) >= MIN_GROUP_SIZE else None


def _acting_user(session: Session, actor: Actor) -> User:
    return get_for_org(session, actor, User, actor.user_id, what="employee")


# Not audited: an audit row (who, exact time) beside a small group's only entry of the
# week would name its author. The entry is not personal data by construction.
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
    week = week_of(day)
    department_id = _hiding_department(session, user)
    # The first mood of the week counts the person (with that day's department); later
    # days find the pseudonym taken. Either way nothing here links back to the score.
    session.execute(
        insert(MoodParticipation)
        .values(
            pseudonym=_mood_week_pseudonym(actor.organization_id, actor.user_id, week),
            organization_id=actor.organization_id,
            week=week,
            department_id=department_id,
        )
        .on_conflict_do_nothing(index_elements=[MoodParticipation.pseudonym])
    )
    session.add(
        MoodEntry(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            department_id=department_id,
            week=week,
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
            department_id=_hiding_department(session, user),
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
