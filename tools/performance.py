"""Performance tools: submit a review, list the reviews the user may read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from hrcore.actor import Permission
from hrcore.pagination import MAX_PAGE
from hrcore.people.service import names_of
from hrcore.performance import service as performance
from hrcore.performance.models import Review
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import YEAR_PATTERN

# The forms `hrcore.performance.service.normalize_period` accepts; it has the last word.
PERIOD_PATTERN = rf"^{YEAR_PATTERN}(?:[-\s]?[HhQq][1-4]|-\d{{1,2}})?$"

ReviewScore = Annotated[Decimal, Field(ge=1, le=5, decimal_places=1)]
KpiName = Annotated[str, StringConstraints(min_length=1, max_length=performance.MAX_KPI_NAME)]
Goal = Annotated[str, StringConstraints(min_length=1, max_length=performance.MAX_GOAL_LENGTH)]


class SubmitReviewArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employee_id": 4,
                    "period": "2026-Q3",
                    "overall_score": 4.5,
                    "kpi_scores": {"Sales": 4, "Punctuality": 4.5},
                    "feedback": "Strong quarter; opened two new routes.",
                    "goals": ["Open the Kisumu route", "Mentor a new hire"],
                }
            ]
        }
    )

    employee_id: int = Field(
        gt=0,
        description="The employee being reviewed: a direct report of the user (hr may review "
        "anyone in the organization). Nobody reviews themselves.",
    )
    period: str = Field(
        max_length=16,
        pattern=PERIOD_PATTERN,
        description="The period reviewed: a year (2026), a half (2026-H2), a quarter (2026-Q3) "
        "or a month (2026-11). It must already have started.",
    )
    overall_score: ReviewScore = Field(
        description="Overall rating from 1 (poor) to 5 (excellent), at most one decimal, e.g. 4.5."
    )
    kpi_scores: dict[KpiName, ReviewScore] | None = Field(
        default=None,
        max_length=performance.MAX_KPIS,
        description="Optional scores per KPI: the KPI's name mapped to a rating from 1 to 5 "
        '(one decimal at most), e.g. {"Sales": 4, "Punctuality": 4.5}.',
    )
    feedback: str | None = Field(
        default=None,
        max_length=performance.MAX_FEEDBACK,
        description="Optional written feedback for the employee.",
    )
    goals: list[Goal] | None = Field(
        default=None,
        max_length=performance.MAX_GOALS,
        description="Optional goals for the next period, one short sentence each.",
    )


class ReviewItem(ToolResult):
    review_id: int
    employee_id: int
    employee_name: str
    reviewer_name: str | None = Field(description="Who wrote it; null if they have left.")
    period: str = Field(description="Canonical period: 2026, 2026-H2, 2026-Q3 or 2026-11.")
    overall_score: Decimal = Field(description="Overall rating from 1 to 5.")
    kpi_scores: dict[str, Decimal] = Field(description="Rating per KPI, each from 1 to 5.")
    feedback: str | None
    goals: list[str]
    created_at: datetime = Field(description="When the review was written (UTC).")


def _item(review: Review, names: dict[int, str]) -> ReviewItem:
    return ReviewItem(
        summary=f"{names.get(review.employee_id, 'Employee')}: "
        + performance.describe_review(review),
        review_id=review.id,
        employee_id=review.employee_id,
        employee_name=names.get(review.employee_id, ""),
        reviewer_name=names.get(review.reviewer_id) if review.reviewer_id else None,
        period=review.period,
        overall_score=review.overall_score,
        kpi_scores={name: Decimal(str(value)) for name, value in review.kpi_scores.items()},
        feedback=review.feedback,
        goals=list(review.goals),
        created_at=review.created_at,
    )


@tool_spec(
    name="submit_review",
    permission=Permission.REVIEW_WRITE,
    changes_state=True,
    confirm=True,
)
def submit_review(ctx: ToolContext, args: SubmitReviewArgs) -> ReviewItem:
    """Record a performance review of one employee for one period; the employee is notified.

    Use it when a supervisor (for a direct report) or hr gives a rating. Each reviewer
    writes one review per employee and period. Read the review back to the user and
    get their yes before calling.
    """
    review = performance.submit_review(ctx.session, ctx.actor, **args.model_dump())
    return _item(review, names_of(ctx.session, ctx.actor, [review.employee_id, review.reviewer_id]))


class ListReviewsArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"period": "2026-Q3", "limit": 10}]})

    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Whose reviews: leave empty for all the user may read (their own; "
        "supervisors also their direct reports'; hr and admin everyone's).",
    )
    period: str | None = Field(
        default=None,
        max_length=16,
        pattern=PERIOD_PATTERN,
        description="Only this period: a year (2026), half (2026-H2), quarter (2026-Q3) "
        "or month (2026-11).",
    )
    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description="At most this many reviews.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many reviews.")


class ReviewList(ToolResult):
    reviews: list[ReviewItem]


@tool_spec(name="list_reviews", permission=Permission.REVIEW_READ)
def list_reviews(ctx: ToolContext, args: ListReviewsArgs) -> ReviewList:
    """List performance reviews, newest first, with scores, KPIs, feedback and goals.

    Employees see their own reviews, supervisors also their direct reports', hr and
    admin everyone's.
    """
    reviews = performance.list_reviews(ctx.session, ctx.actor, **args.model_dump())
    names = names_of(
        ctx.session, ctx.actor, [r.employee_id for r in reviews] + [r.reviewer_id for r in reviews]
    )
    items = [_item(r, names) for r in reviews]
    if not items:
        return ReviewList(summary="No reviews found.", reviews=[])
    head = f"{len(items)} review{'s' if len(items) != 1 else ''}:"
    return ReviewList(summary="\n".join([head, *(i.summary for i in items)]), reviews=items)
