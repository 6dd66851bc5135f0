"""Report charts: the monthly work report and the wellness trend, as links to images."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field

from hrcore.actor import Permission
from hrcore.dates import month_name, short_day
from hrcore.reports import service as reports
from hrcore.reports.links import LINK_LIFETIME, ChartRequest, chart_link
from hrcore.reports.service import WellnessTrend, WorkReport
from hrcore.reports.words import Language, number
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import Year

_MINUTES = int(LINK_LIFETIME.total_seconds() // 60)
_LANGUAGE = Field(
    default=None,
    description="The language of the chart's words: the one the user writes in ('en' "
    "English, 'sw' Swahili); leave empty for the user's chosen language.",
)


class WorkChartArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "month": 10}]})

    year: Year | None = Field(default=None, description="Year; default: the current month's.")
    month: int | None = Field(
        default=None, ge=1, le=12, description="Month 1-12; default: the current month."
    )
    language: Literal["en", "sw"] | None = _LANGUAGE


class WorkChart(ToolResult):
    year: int
    month: int
    people: int = Field(description="People with at least one day present.")
    hours_worked: Decimal = Field(description="Hours worked by everyone in the report.")
    late_arrivals: int
    chart_url: str = Field(
        description=f"Link to a PNG chart of hours per person, valid {_MINUTES} minutes; "
        "give it to the user as it is."
    )
    lateness_chart_url: str = Field(
        description=f"Link to a PNG chart of late arrivals over the last "
        f"{reports.DEFAULT_MONTHS} months up to this one, valid {_MINUTES} minutes."
    )


def _work_summary(report: WorkReport) -> str:
    label = month_name(report.year, report.month, "en")
    if not report.rows:
        return f"Work report chart for {label}: no one to report on."
    top = max(report.rows, key=lambda r: (r.hours_worked, r.full_name))
    return (
        f"Work report chart for {label}: {report.people} people present, "
        f"{number(report.hours_worked)} h worked in all, {report.late_arrivals} late "
        f"arrivals. Most hours: {top.full_name} ({number(top.hours_worked)} h). "
        f"The links show the chart and lateness over the last {reports.DEFAULT_MONTHS} months "
        f"for {_MINUTES} minutes."
    )


@tool_spec(name="work_report_chart", permission=Permission.REPORTS_READ)
def work_report_chart(ctx: ToolContext, args: WorkChartArgs) -> WorkChart:
    """A chart of hours worked per person for one month, with a lateness trend chart.

    For supervisors (their team), hr and admin (everyone). Use it when the user asks to
    see the attendance or work report as a chart, graph or picture; send the links.
    """
    year, month = reports.current_month(ctx.session, ctx.actor)
    if args.year is not None or args.month is not None:
        year, month = args.year or year, args.month or month
    report = reports.work_report(ctx.session, ctx.actor, year=year, month=month)
    language: Language = args.language or reports.preferred_language(ctx.session, ctx.actor)
    work = ChartRequest(kind="work", language=language, year=year, month=month)
    lateness = ChartRequest(
        kind="lateness",
        language=language,
        year=year,
        month=month,
        months=reports.DEFAULT_MONTHS,
    )
    return WorkChart(
        summary=_work_summary(report),
        year=year,
        month=month,
        people=report.people,
        hours_worked=report.hours_worked,
        late_arrivals=report.late_arrivals,
        chart_url=chart_link(ctx.actor, work),
        lateness_chart_url=chart_link(ctx.actor, lateness),
    )


class WellnessChartArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"weeks": 12}]})

    weeks: int | None = Field(
        default=None,
        ge=1,
        le=reports.MAX_WEEKS,
        description=f"How many weeks that have ended; default {reports.DEFAULT_WEEKS}.",
    )
    language: Literal["en", "sw"] | None = _LANGUAGE


class WellnessChart(ToolResult):
    first_week: date = Field(description="Monday of the first week covered.")
    last_week: date = Field(description="Monday of the last week covered.")
    latest_average: Decimal | None = Field(
        description="The most recent week's average mood (1-5) that may be shown, if any."
    )
    groups: list[str] = Field(description="The departments shown in at least one week.")
    chart_url: str = Field(
        description=f"Link to a PNG chart of average mood by week, valid {_MINUTES} minutes; "
        "give it to the user as it is."
    )


def _wellness_summary(trend: WellnessTrend) -> tuple[str, Decimal | None]:
    first, last = short_day(trend.weeks[0], "en"), short_day(trend.weeks[-1], "en")
    head = (
        f"Average mood by week over {len(trend.weeks)} weeks ({first} to the week of {last}; "
        f"anonymous, weeks and groups with fewer than {trend.min_group_size} people left out)"
    )
    shown = [p for p in trend.total.points if p.average is not None]
    if not shown:
        return head + ": no week has enough answers to show.", None
    averages = [p.average for p in shown if p.average is not None]
    latest = shown[-1]
    text = (
        f"{head}: latest {latest.average}/5 (week of {short_day(latest.week_start, 'en')}), "
        f"lowest {min(averages)}, highest {max(averages)}."
    )
    if trend.groups:
        text += " Departments shown: " + ", ".join(g.name for g in trend.groups) + "."
    return text, latest.average


@tool_spec(name="wellness_chart", permission=Permission.WELLNESS_SUMMARY)
def wellness_chart(ctx: ToolContext, args: WellnessChartArgs) -> WellnessChart:
    """A chart of the staff's anonymous average mood week by week, for hr and admin.

    Use it when the user asks how the mood or morale has been lately as a chart or graph.
    It never shows a person's score, nor a week or group with fewer than 5 people.
    """
    weeks = args.weeks or reports.DEFAULT_WEEKS
    trend = reports.wellness_trend(ctx.session, ctx.actor, weeks=weeks)
    language: Language = args.language or reports.preferred_language(ctx.session, ctx.actor)
    summary, latest = _wellness_summary(trend)
    return WellnessChart(
        summary=summary,
        first_week=trend.weeks[0],
        last_week=trend.weeks[-1],
        latest_average=latest,
        groups=[g.name for g in trend.groups],
        chart_url=chart_link(
            ctx.actor, ChartRequest(kind="wellness", language=language, weeks=weeks)
        ),
    )
