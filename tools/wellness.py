"""Wellness tools: anonymous mood and issue reports, the protected summary and notes review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from hrcore.actor import Permission
from hrcore.pagination import MAX_PAGE
from hrcore.wellness import service as wellness
from hrcore.wellness import summary as wellness_summaries
from tools.menus import Choose, EnterText, Ussd, View
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import Day

# Must equal `wellness.ISSUE_CATEGORIES` (a test checks); a Literal shows the model the choices.
IssueCategory = Literal[
    "harassment", "safety", "workload", "pay", "discrimination", "facilities", "other"
]


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


@tool_spec(
    name="submit_mood",
    permission=Permission.WELLNESS_SUBMIT,
    changes_state=True,
    ussd=Ussd(
        label={"en": "Today's mood", "sw": "Hali yako leo"},
        order=60,
        steps=(
            Choose(
                "score",
                prompt={
                    "en": "How do you feel today? No one sees who answered:",
                    "sw": "Unajisikiaje leo? Hakuna atakayejua ni wewe:",
                },
                labels={
                    1: {"en": "Very bad", "sw": "Vibaya sana"},
                    2: {"en": "Bad", "sw": "Vibaya"},
                    3: {"en": "Okay", "sw": "Kawaida"},
                    4: {"en": "Good", "sw": "Vizuri"},
                    5: {"en": "Very good", "sw": "Vizuri sana"},
                },
            ),
        ),
        done=View(
            {
                "en": "Thank you. Your mood is recorded without your name.",
                "sw": "Asante. Hali yako imehifadhiwa bila jina lako.",
            }
        ),
    ),
)
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


@tool_spec(
    name="report_issue",
    permission=Permission.WELLNESS_SUBMIT,
    changes_state=True,
    ussd=Ussd(
        label={"en": "Report an issue", "sw": "Ripoti tatizo"},
        order=70,
        steps=(
            Choose(
                "category",
                prompt={
                    "en": "Report without your name. What is it about?",
                    "sw": "Ripoti bila jina lako. Inahusu nini?",
                },
                labels={
                    "harassment": {"en": "Harassment", "sw": "Unyanyasaji"},
                    "safety": {"en": "Safety", "sw": "Usalama"},
                    "workload": {"en": "Workload", "sw": "Mzigo wa kazi"},
                    "pay": {"en": "Pay", "sw": "Malipo"},
                    "discrimination": {"en": "Discrimination", "sw": "Ubaguzi"},
                    "facilities": {"en": "Facilities", "sw": "Vifaa na mazingira"},
                    "other": {"en": "Something else", "sw": "Jambo jingine"},
                },
            ),
            EnterText(
                "text",
                prompt={
                    "en": "Say what happened in a few words:",
                    "sw": "Eleza kilichotokea kwa maneno machache:",
                },
            ),
        ),
        done=View(
            {
                "en": "Thank you. Your report went to HR without your name.",
                "sw": "Asante. Ripoti yako imetumwa kwa HR bila jina lako.",
            }
        ),
    ),
)
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


# Shared by the summary and the notes review, which snap a range to the same weeks.
RangeStart = Annotated[
    Day | None,
    Field(
        description="First day (YYYY-MM-DD) of the range; only whole Monday-to-Sunday weeks "
        "that have ended inside the range are used. Default: four weeks before the end."
    ),
]
RangeEnd = Annotated[
    Day | None,
    Field(
        description="Last day (YYYY-MM-DD) of the range. Default: the Sunday that ended the "
        "last whole week."
    ),
]


class WellnessSummaryArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start": "2026-10-05", "end": "2026-11-01", "group_by": "department"}]
        }
    )

    start: RangeStart = None
    end: RangeEnd = None
    group_by: Literal["organization", "department"] = Field(
        default="department",
        description="Show the organization as a whole, or each department too.",
    )


class MoodGroup(BaseModel):
    key: str = Field(description="'organization', a department id, or 'unassigned'.")
    name: str
    suppressed: bool = Field(
        description="True when too few people to show figures (only ever the total: a "
        "department without figures is left out of the list)."
    )
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
    start: date = Field(description="The first day asked for.")
    end: date = Field(description="The last day asked for.")
    covered_start: date | None = Field(
        description="The Monday of the first whole week that has ended in the range; "
        "null when no such week lies in it."
    )
    covered_end: date | None = Field(
        description="The Sunday of the last whole week that has ended in the range; "
        "null when no such week lies in it."
    )
    group_by: Literal["organization", "department"]
    min_group_size: int = Field(
        description="A week of a group counts only with at least this many different people."
    )
    total: MoodGroup
    groups: list[MoodGroup]
    notes: int = Field(
        description="How many responses in the counted weeks carry a note; read them with "
        "review_wellness_notes."
    )
    issues: list[IssueCount]


def _group(group: wellness_summaries.GroupSummary) -> MoodGroup:
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
    """Anonymous mood figures and issue-report counts for hr and admin, by whole weeks.

    Only whole weeks (Monday to Sunday) that have ended count, never the current one, and
    a week of a group only when at least 5 different people answered in it, so nobody can
    be singled out. Without dates it covers the last four weeks that have ended.
    """
    result = wellness_summaries.wellness_summary(
        ctx.session, ctx.actor, start=args.start, end=args.end, group_by=args.group_by
    )
    return WellnessSummary(
        summary=wellness_summaries.describe_summary(result),
        start=result.start,
        end=result.end,
        covered_start=result.covered_start,
        covered_end=result.covered_end,
        group_by=args.group_by,
        min_group_size=result.min_group_size,
        total=_group(result.total),
        groups=[_group(g) for g in result.groups],
        notes=result.notes,
        issues=[
            IssueCount(category=i.category, suppressed=i.suppressed, count=i.count)
            for i in result.issues
        ],
    )


class ReviewWellnessNotesArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start": "2026-10-05", "end": "2026-11-01"}]}
    )

    start: RangeStart = None
    end: RangeEnd = None
    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description="At most this many notes.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many notes.")


class WellnessNotes(ToolResult):
    start: date = Field(description="The first day asked for.")
    end: date = Field(description="The last day asked for.")
    covered_start: date | None = Field(
        description="The Monday of the first whole week that has ended in the range."
    )
    covered_end: date | None = Field(
        description="The Sunday of the last whole week that has ended in the range."
    )
    total: int = Field(description="How many notes the counted weeks hold in all.")
    notes: list[str] = Field(
        description="Note texts in no particular order, without date, score or department."
    )


@tool_spec(name="review_wellness_notes", permission=Permission.WELLNESS_SUMMARY)
def review_wellness_notes(ctx: ToolContext, args: ReviewWellnessNotesArgs) -> WellnessNotes:
    """Read the words people added to their anonymous moods (hr and admin); every read is audited.

    Use it only when hr explicitly asks to read the notes. It returns note texts from
    whole weeks that have ended and had at least 5 different people, in no particular
    order and without dates, scores or departments. A note may still describe its author:
    quote them as they are and never guess who wrote one.
    """
    result = wellness_summaries.review_wellness_notes(
        ctx.session,
        ctx.actor,
        start=args.start,
        end=args.end,
        limit=args.limit,
        offset=args.offset,
    )
    return WellnessNotes(
        summary=wellness_summaries.describe_notes_review(result, offset=args.offset),
        start=result.start,
        end=result.end,
        covered_start=result.covered_start,
        covered_end=result.covered_end,
        total=result.total,
        notes=result.notes,
    )
