"""Wellness tools: anonymous mood and issue reports, and the protected summary for hr."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from hrcore.actor import Permission
from hrcore.clock import local_today
from hrcore.people.service import get_organization
from hrcore.wellness import service as wellness
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

# Must equal `wellness.ISSUE_CATEGORIES` (a test checks); a Literal shows the model the choices.
IssueCategory = Literal[
    "harassment", "safety", "workload", "pay", "discrimination", "facilities", "other"
]
DEFAULT_SUMMARY_DAYS = 30


class SubmitMoodArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"score": 4, "note": "Busy but good week."}]}
    )

    score: int = Field(
        ge=1, le=5, description="Today's mood from 1 (very bad) to 5 (very good), a whole number."
    )
    note: str | None = Field(
        default=None,
        max_length=wellness.MAX_NOTE,
        description="Optional words about how the user feels. Stored without their name.",
    )


class MoodReceipt(ToolResult):
    day: date = Field(description="The local day the mood counts for.")
    score: int


@tool_spec(name="submit_mood", permission=Permission.WELLNESS_SUBMIT, changes_state=True)
def submit_mood(ctx: ToolContext, args: SubmitMoodArgs) -> MoodReceipt:
    """Record how the user feels today (1-5), anonymously: nobody can see who gave which score.

    Once per person per day. Use it when the user shares their mood or answers a check-in.
    """
    receipt = wellness.submit_mood(ctx.session, ctx.actor, score=args.score, note=args.note)
    return MoodReceipt(
        summary=wellness.describe_mood_receipt(receipt), day=receipt.day, score=receipt.score
    )


class ReportIssueArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"category": "safety", "text": "The loading bay light has been broken a week."}
            ]
        }
    )

    category: IssueCategory = Field(description="What kind of issue it is.")
    text: str = Field(
        min_length=wellness.MIN_ISSUE_TEXT,
        max_length=wellness.MAX_ISSUE_TEXT,
        description="What happened, in the user's words (3 to 4000 characters).",
    )


class IssueReceipt(ToolResult):
    day: date = Field(description="The local day the report was filed.")
    category: IssueCategory


@tool_spec(name="report_issue", permission=Permission.WELLNESS_SUBMIT, changes_state=True)
def report_issue(ctx: ToolContext, args: ReportIssueArgs) -> IssueReceipt:
    """File an anonymous workplace issue report (harassment, safety, workload, pay...) for hr.

    The report is stored without the user's name, and hr is only told that a report
    arrived. Tell the user it is anonymous; use it when they want to raise a problem
    without being identified.
    """
    receipt = wellness.report_issue(ctx.session, ctx.actor, category=args.category, text=args.text)
    return IssueReceipt(
        summary=wellness.describe_issue_receipt(receipt),
        day=receipt.day,
        category=cast(IssueCategory, receipt.category),
    )


class WellnessSummaryArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start": "2026-11-01", "end": "2026-11-20", "group_by": "department"}]
        }
    )

    start: date | None = Field(
        default=None,
        description="First day (YYYY-MM-DD) to include; default: 30 days before the end.",
    )
    end: date | None = Field(
        default=None, description="Last day (YYYY-MM-DD) to include; default: today."
    )
    group_by: Literal["organization", "department"] = Field(
        default="department",
        description="Show the organization as a whole, or each department too.",
    )


class MoodGroup(BaseModel):
    key: str = Field(description="'organization', a department id, or 'unassigned'.")
    name: str
    suppressed: bool = Field(description="True when too few responses to show figures.")
    responses: int | None = None
    average: Decimal | None = Field(default=None, description="Average mood, 1 to 5.")
    distribution: dict[int, int] | None = Field(
        default=None, description="How many responses gave each score 1 to 5."
    )


class IssueCount(BaseModel):
    category: str
    suppressed: bool = Field(description="True when too few reports to show the count.")
    count: int | None = None


class WellnessSummary(ToolResult):
    start: date
    end: date
    group_by: Literal["organization", "department"]
    min_group_size: int = Field(description="Groups with fewer responses show no figures.")
    total: MoodGroup
    groups: list[MoodGroup]
    issues: list[IssueCount]


def _group(group: wellness.GroupSummary) -> MoodGroup:
    return MoodGroup(
        key=group.key,
        name=group.name,
        suppressed=group.suppressed,
        responses=group.responses,
        average=group.average,
        distribution=group.distribution,
    )


@tool_spec(name="wellness_summary", permission=Permission.WELLNESS_SUMMARY)
def wellness_summary(ctx: ToolContext, args: WellnessSummaryArgs) -> WellnessSummary:
    """Anonymous mood figures and issue-report counts for a date range (hr and admin).

    Groups with too few responses are suppressed so nobody can be singled out.
    Without dates it covers the last 30 days.
    """
    end = args.end or local_today(get_organization(ctx.session, ctx.actor).timezone)
    start = args.start or end - timedelta(days=DEFAULT_SUMMARY_DAYS - 1)
    result = wellness.wellness_summary(
        ctx.session, ctx.actor, start=start, end=end, group_by=args.group_by
    )
    return WellnessSummary(
        summary=wellness.describe_summary(result),
        start=result.start,
        end=result.end,
        group_by=args.group_by,
        min_group_size=result.min_group_size,
        total=_group(result.total),
        groups=[_group(g) for g in result.groups],
        issues=[
            IssueCount(category=i.category, suppressed=i.suppressed, count=i.count)
            for i in result.issues
        ],
    )
