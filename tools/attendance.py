"""Attendance tools: clock in and out, history, the monthly work report."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import ConfigDict, Field

from hrcore.actor import Permission
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus
from hrcore.clock import local_today
from hrcore.dates import month_name
from hrcore.people.service import get_organization
from tools.menus import Ussd, View
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import Day, Year


class ClockArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"latitude": -1.308, "longitude": 36.853, "accuracy_m": 15}]
        }
    )

    latitude: float | None = Field(
        default=None, ge=-90, le=90, description="GPS latitude in decimal degrees, if shared."
    )
    longitude: float | None = Field(
        default=None, ge=-180, le=180, description="GPS longitude in decimal degrees, if shared."
    )
    accuracy_m: float | None = Field(
        default=None, ge=0, description="Reported GPS accuracy in metres, if known."
    )
    note: str | None = Field(
        default=None, max_length=500, description="Optional note, e.g. 'at the Mombasa depot'."
    )


class Shift(ToolResult):
    record_id: int
    clock_in_at: datetime = Field(description="When the shift started (UTC).")
    clock_out_at: datetime | None = Field(description="When it ended (UTC); null while open.")
    late_minutes: int = Field(description="Minutes late against the employer's start time.")
    geofence_status: GeofenceStatus


def _shift(record: AttendanceRecord, summary: str) -> Shift:
    return Shift(
        summary=summary,
        record_id=record.id,
        clock_in_at=record.clock_in_at,
        clock_out_at=record.clock_out_at,
        late_minutes=record.late_minutes,
        geofence_status=record.geofence_status,
    )


@tool_spec(
    name="clock_in",
    permission=Permission.ATTENDANCE_CLOCK,
    changes_state=True,
    ussd=Ussd(
        label={"en": "Clock in", "sw": "Ingia kazini"},
        order=10,
        done=View(
            {
                "en": "Clocked in at {clock_in_at:time}.[ {late_minutes:pos} min late.]",
                "sw": "Umeingia kazini saa {clock_in_at:time}.[ Umechelewa dakika "
                "{late_minutes:pos}.]",
            }
        ),
    ),
)
def clock_in(ctx: ToolContext, args: ClockArgs) -> Shift:
    """Clock the user in now, starting a shift. Pass the location if the user shared it."""
    record = attendance.clock_in(ctx.session, ctx.actor, **args.model_dump())
    org = get_organization(ctx.session, ctx.actor)
    return _shift(record, attendance.describe_clock_in(record, org))


@tool_spec(
    name="clock_out",
    permission=Permission.ATTENDANCE_CLOCK,
    changes_state=True,
    ussd=Ussd(
        label={"en": "Clock out", "sw": "Toka kazini"},
        order=20,
        done=View(
            {
                "en": "Clocked out at {clock_out_at:time}. Safe journey home.",
                "sw": "Umetoka kazini saa {clock_out_at:time}. Safari njema.",
            }
        ),
    ),
)
def clock_out(ctx: ToolContext, args: ClockArgs) -> Shift:
    """Clock the user out now, ending their open shift."""
    record = attendance.clock_out(ctx.session, ctx.actor, **args.model_dump())
    org = get_organization(ctx.session, ctx.actor)
    return _shift(record, attendance.describe_clock_out(record, org))


class HistoryArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 10}]})

    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Whose history: leave empty for the user's own. Supervisors may name a "
        "direct report, hr and admin anyone in the organization.",
    )
    start: Day | None = Field(default=None, description="First local date to include.")
    end: Day | None = Field(default=None, description="Last local date to include.")
    limit: int = Field(default=20, ge=1, le=200, description="At most this many shifts.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many shifts.")


class AttendanceHistory(ToolResult):
    shifts: list[Shift]


@tool_spec(name="attendance_history", permission=Permission.ATTENDANCE_READ)
def attendance_history(ctx: ToolContext, args: HistoryArgs) -> AttendanceHistory:
    """List recent shifts (clock-in and clock-out times, lateness), newest first."""
    records = attendance.attendance_history(ctx.session, ctx.actor, **args.model_dump())
    org = get_organization(ctx.session, ctx.actor)
    shifts = [
        _shift(
            r,
            attendance.describe_clock_out(r, org)
            if r.clock_out_at
            else attendance.describe_clock_in(r, org),
        )
        for r in records
    ]
    summary = f"{len(shifts)} shift{'s' if len(shifts) != 1 else ''}."
    if shifts:
        summary += " Latest: " + shifts[0].summary
    return AttendanceHistory(summary=summary, shifts=shifts)


class MonthlyReportArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "month": 10}]})

    year: Year | None = Field(default=None, description="Year; default: now.")
    month: int | None = Field(default=None, ge=1, le=12, description="Month 1-12; default: now.")
    employee_id: int | None = Field(
        default=None, gt=0, description="Narrow the report to one employee the user may see."
    )


class WorkReportLine(ToolResult):
    employee_id: int
    full_name: str
    hours_worked: Decimal
    days_present: int
    late_arrivals: int
    late_minutes_total: int


class MonthlyWorkReport(ToolResult):
    year: int
    month: int
    rows: list[WorkReportLine]


@tool_spec(name="monthly_work_report", permission=Permission.ATTENDANCE_READ)
def monthly_work_report(ctx: ToolContext, args: MonthlyReportArgs) -> MonthlyWorkReport:
    """Hours worked, days present and late arrivals per employee for one month.

    Employees see their own row, supervisors their team's, hr and admin everyone's.
    """
    today = local_today(get_organization(ctx.session, ctx.actor).timezone)
    year, month = args.year or today.year, args.month or today.month
    rows = attendance.monthly_work_report(
        ctx.session, ctx.actor, year=year, month=month, employee_id=args.employee_id
    )
    lines = [
        WorkReportLine(
            summary=(
                f"{r.full_name}: {r.hours_worked} h over {r.days_present} days, "
                f"{r.late_arrivals} late"
            ),
            **r.model_dump(),
        )
        for r in rows
    ]
    label = month_name(year, month, "en")
    summary = f"Work report for {label}: " + (
        "; ".join(line.summary for line in lines) if lines else "no one to report on."
    )
    return MonthlyWorkReport(summary=summary, year=year, month=month, rows=lines)
