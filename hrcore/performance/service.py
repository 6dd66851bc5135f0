"""Performance reviews: written by a direct supervisor or hr, read within the usual reach."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission, Role, Scope
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.notifications.service import notify
from hrcore.pagination import check_page
from hrcore.people.models import User
from hrcore.people.service import get_organization, team_ids, visible_employee
from hrcore.performance.models import Review
from hrcore.tenancy import get_for_org

MAX_KPIS = 20
MAX_KPI_NAME = 100
MAX_GOALS = 20
MAX_GOAL_LENGTH = 200
MAX_FEEDBACK = 5000

_UNIQUE_REVIEW = "uq_reviews_employee_id_reviewer_id_period"
_PERIOD = re.compile(r"^(\d{4})(?:[-\s]?([HQ])([1-4])|-(\d{1,2}))?$")
_ONE_DECIMAL = Decimal("0.1")

Score = int | float | Decimal | str


def normalize_period(raw: str) -> tuple[str, date]:
    """Return the canonical form of a review period and the day it starts; raise `Invalid`.

    Accepted: a year ("2026"), a half ("2026-H1"), a quarter ("2026-Q3") or a
    month ("2026-11"); case and a missing dash ("2026q3") are forgiven.
    """
    match = _PERIOD.match(raw.strip().upper()) if isinstance(raw, str) else None
    if match is None:
        raise _bad_period(raw)
    year = int(match.group(1))
    kind, number, month = match.group(2), match.group(3), match.group(4)
    if year < 1900:
        raise _bad_period(raw)
    if kind == "H":
        if number not in {"1", "2"}:
            raise _bad_period(raw)
        return f"{year}-H{number}", date(year, 1 if number == "1" else 7, 1)
    if kind == "Q":
        return f"{year}-Q{number}", date(year, 3 * int(number) - 2, 1)
    if month is not None:
        if not 1 <= int(month) <= 12:
            raise _bad_period(raw)
        return f"{year}-{int(month):02d}", date(year, int(month), 1)
    return f"{year}", date(year, 1, 1)


def _bad_period(raw: object) -> Invalid:
    return Invalid(
        f"{raw!r} is not a review period. Use a year (2026), a half (2026-H1), "
        "a quarter (2026-Q1) or a month (2026-11).",
        code="invalid_period",
    )


def _score(value: object, *, code: str, what: str) -> Decimal:
    """A score from 1 to 5 with at most one decimal place."""
    # bool is an int subclass; True must not become a score of 1.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise Invalid(f"{what} must be a number from 1 to 5.", code=code)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise Invalid(f"{what} must be a number from 1 to 5.", code=code) from exc
    if not number.is_finite() or not Decimal(1) <= number <= Decimal(5):
        raise Invalid(f"{what} must be from 1 to 5.", code=code)
    if number != number.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP):
        raise Invalid(f"{what} may have at most one decimal place.", code=code)
    return number.quantize(_ONE_DECIMAL)


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _kpis(kpi_scores: dict[str, Score] | None) -> dict[str, int | float]:
    if kpi_scores is None:
        return {}
    if not isinstance(kpi_scores, dict):
        raise Invalid("KPI scores must map each KPI's name to a score.", code="invalid_kpi")
    if len(kpi_scores) > MAX_KPIS:
        raise Invalid(f"A review may score at most {MAX_KPIS} KPIs.", code="invalid_kpi")
    cleaned: dict[str, int | float] = {}
    seen: set[str] = set()
    for name, value in kpi_scores.items():
        label = name.strip() if isinstance(name, str) else ""
        if not label or len(label) > MAX_KPI_NAME:
            raise Invalid(
                f"Each KPI needs a name of 1 to {MAX_KPI_NAME} characters.", code="invalid_kpi"
            )
        if label.casefold() in seen:
            raise Invalid(f"The KPI {label!r} is scored twice.", code="invalid_kpi")
        seen.add(label.casefold())
        cleaned[label] = _json_number(
            _score(value, code="invalid_kpi", what=f"The score for {label!r}")
        )
    return cleaned


def _goals(goals: list[str] | None) -> list[str]:
    if goals is None:
        return []
    if not isinstance(goals, list | tuple) or len(goals) > MAX_GOALS:
        raise Invalid(f"A review may set at most {MAX_GOALS} goals.", code="invalid_goals")
    cleaned = []
    for goal in goals:
        text = goal.strip() if isinstance(goal, str) else ""
        if not text or len(text) > MAX_GOAL_LENGTH:
            raise Invalid(
                f"Each goal is a short text of 1 to {MAX_GOAL_LENGTH} characters.",
                code="invalid_goals",
            )
        cleaned.append(text)
    return cleaned


def _feedback(feedback: str | None) -> str | None:
    if feedback is None:
        return None
    text = feedback.strip()
    if len(text) > MAX_FEEDBACK:
        raise Invalid(
            f"Feedback may be at most {MAX_FEEDBACK} characters.", code="invalid_feedback"
        )
    return text or None


def _check_reviewer(actor: Actor, employee: User) -> None:
    """Only the direct supervisor or hr reviews; an admin only as someone's supervisor."""
    if employee.id == actor.user_id:
        raise Forbidden("Nobody reviews their own performance.", code="own_review")
    if employee.reports_to_id == actor.user_id:
        return
    if actor.role is Role.ADMIN:
        # Admins run the system; they do not hold REVIEW_WRITE and review only their reports.
        actor.require(Permission.REVIEW_WRITE)
    if actor.role is Role.HR:
        return
    raise Forbidden("You may only review people who report directly to you.", code="not_your_team")


@audited("review.submit", target_type="user", target_arg="employee_id")
def submit_review(
    session: Session,
    actor: Actor,
    *,
    employee_id: int,
    period: str,
    overall_score: Score,
    kpi_scores: dict[str, Score] | None = None,
    feedback: str | None = None,
    goals: list[str] | None = None,
) -> Review:
    """Record a performance review of one employee for one period and tell them it is ready."""
    if actor.role is not Role.ADMIN:
        actor.require(Permission.REVIEW_WRITE)
    employee = get_for_org(session, actor, User, employee_id, what="employee")
    _check_reviewer(actor, employee)

    canonical, starts = normalize_period(period)
    org = get_organization(session, actor)
    if starts > local_today(org.timezone):
        raise Invalid(f"The period {canonical} has not started yet.", code="period_in_future")
    score = _score(overall_score, code="invalid_score", what="The overall score")
    review = Review(
        organization_id=actor.organization_id,
        employee_id=employee.id,
        reviewer_id=actor.user_id,
        period=canonical,
        overall_score=score,
        kpi_scores=_kpis(kpi_scores),
        feedback=_feedback(feedback),
        goals=_goals(goals),
    )
    try:
        # The unique constraint decides, so two concurrent submissions cannot both win.
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != _UNIQUE_REVIEW:
            raise
        raise Conflict(
            f"You have already reviewed this employee for {canonical}.", code="review_exists"
        ) from exc
    notify(
        session,
        employee,
        kind="review.ready",
        text=f"Your performance review for {canonical} is ready. Ask Ajira to show your reviews.",
    )
    session.flush()
    return review


@audited("review.list", target_type="user", target_arg="employee_id")
def list_reviews(
    session: Session,
    actor: Actor,
    *,
    employee_id: int | None = None,
    period: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Review]:
    """The reviews the actor may read, newest first: their own, their reports', or all (hr)."""
    actor.require(Permission.REVIEW_READ)
    check_page(limit, offset)
    query = select(Review).where(Review.organization_id == actor.organization_id)
    if employee_id is not None:
        visible_employee(session, actor, employee_id)
        query = query.where(Review.employee_id == employee_id)
    elif actor.scope is Scope.SELF:
        query = query.where(Review.employee_id == actor.user_id)
    elif actor.scope is Scope.TEAM:
        query = query.where(
            or_(
                Review.employee_id == actor.user_id,
                Review.employee_id.in_(team_ids(session, actor)),
            )
        )
    if period is not None:
        query = query.where(Review.period == normalize_period(period)[0])
    return list(
        session.scalars(
            query.order_by(Review.created_at.desc(), Review.id.desc()).limit(limit).offset(offset)
        )
    )


@audited("review.read", target_type="review", target_arg="review_id")
def get_review(session: Session, actor: Actor, *, review_id: int) -> Review:
    """One review, if the actor may see the employee it is about."""
    actor.require(Permission.REVIEW_READ)
    review = get_for_org(session, actor, Review, review_id, what="review")
    visible_employee(session, actor, review.employee_id)
    return review


def _fmt(value: Decimal | float | int) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def describe_review(review: Review) -> str:
    """A short human summary of a review, for chat and SMS replies."""
    parts = [f"{review.period} review: overall {_fmt(review.overall_score)}/5."]
    if review.kpi_scores:
        kpis = ", ".join(f"{name} {_fmt(value)}/5" for name, value in review.kpi_scores.items())
        parts.append(f"KPIs: {kpis}.")
    if review.goals:
        label = "Goal" if len(review.goals) == 1 else "Goals"
        parts.append(f"{label}: " + "; ".join(review.goals) + ".")
    if review.feedback:
        parts.append(f"Feedback: {review.feedback}")
    return " ".join(parts)
