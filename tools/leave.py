"""Leave tools: request, cancel and decide leave, balances, requests and leave types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from hrcore.actor import Permission
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.leave.rules import is_unlimited
from hrcore.leave.schemas import BalanceView
from hrcore.leave.texts import describe_balance, describe_request, plural_days
from hrcore.people.service import names_of
from tools.menus import Choose, EnterDate, EnterDays, EnterText, Options, Ussd, View
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import Day, Year

MAX_LIST = 100

#: The service's rule for leave type codes, so the schema shows it.
LeaveTypeCode = Annotated[str, Field(max_length=leave.MAX_CODE_LENGTH, pattern=leave.CODE_PATTERN)]
StatusName = Literal["pending", "approved", "rejected", "cancelled"]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ------------------------------------------------------------------ requests


class LeaveRequestItem(ToolResult):
    request_id: int
    employee_id: int
    employee_name: str
    leave_type: str = Field(description="The leave type's code, e.g. 'annual'.")
    leave_type_name: str
    start_date: date = Field(description="First day of leave (inclusive).")
    end_date: date = Field(description="Last day of leave (inclusive).")
    half_day: bool
    days: Decimal = Field(
        description="Days charged: working days, or calendar days for types counted that way."
    )
    status: LeaveStatus
    decided_by_id: int | None = Field(
        description="Who approved, rejected or cancelled it; null while pending."
    )
    decided_by_name: str | None
    decided_at: datetime | None = Field(description="When it was decided (UTC).")
    comment: str | None = Field(description="The approver's comment or the cancellation reason.")


def _items(ctx: ToolContext, requests: list[LeaveRequest]) -> list[LeaveRequestItem]:
    names = names_of(
        ctx.session,
        ctx.actor,
        [r.employee_id for r in requests] + [r.decided_by_id for r in requests],
    )
    items = []
    for r in requests:
        employee_name = names.get(r.employee_id, f"Employee #{r.employee_id}")
        items.append(
            LeaveRequestItem(
                summary=f"#{r.id} {employee_name}: {describe_request(r)}",
                request_id=r.id,
                employee_id=r.employee_id,
                employee_name=employee_name,
                leave_type=r.leave_type.code,
                leave_type_name=r.leave_type.name,
                start_date=r.start_date,
                end_date=r.end_date,
                half_day=r.half_day,
                days=r.days,
                status=r.status,
                decided_by_id=r.decided_by_id,
                decided_by_name=names.get(r.decided_by_id) if r.decided_by_id else None,
                decided_at=r.decided_at,
                comment=r.decision_comment,
            )
        )
    return items


class RequestLeaveArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "leave_type": "annual",
                    "start_date": "2026-12-07",
                    "end_date": "2026-12-08",
                    "half_day": False,
                    "reason": "Family visit upcountry",
                }
            ]
        }
    )

    leave_type: LeaveTypeCode = Field(
        description="The leave type's code, lower case: annual, sick, maternity, paternity, "
        "compassionate, unpaid, or one of the employer's own (list_leave_types shows them)."
    )
    start_date: Day = Field(description="First day of leave, ISO date YYYY-MM-DD.")
    end_date: Day = Field(
        description="Last day of leave, ISO date YYYY-MM-DD, inclusive (same as start_date for "
        "a single day)."
    )
    half_day: bool = Field(
        default=False, description="True for half a day; start_date and end_date must be equal."
    )
    reason: str | None = Field(
        default=None, max_length=1000, description="Optional reason the user gave."
    )


class LeaveRequestResult(LeaveRequestItem):
    available_after: Decimal | None = Field(
        description="Days of this type left after this request, counting what will have accrued "
        "by the month the leave starts; null for leave without a limit (unpaid)."
    )


@tool_spec(
    name="request_leave",
    permission=Permission.LEAVE_REQUEST,
    changes_state=True,
    confirm=True,
    ussd=Ussd(
        label={"en": "Request leave", "sw": "Omba likizo"},
        order=30,
        steps=(
            Choose(
                "leave_type",
                prompt={"en": "Type of leave:", "sw": "Aina ya likizo:"},
                options=Options(
                    tool="list_leave_types",
                    items="leave_types",
                    value="code",
                    label={"en": "{code:term|name}", "sw": "{code:term|name}"},
                    keep=("counts_calendar_days",),
                ),
            ),
            EnterDate(
                "start_date",
                prompt={
                    "en": "First day of leave as DDMM (e.g. {example} for {example_day}):",
                    "sw": "Siku ya kwanza ya likizo kama DDMM (mf. {example} kwa {example_day}):",
                },
            ),
            EnterDays(
                "end_date",
                start="start_date",
                prompt={"en": "Number of days (1-{most}):", "sw": "Idadi ya siku (1-{most}):"},
                most=60,
                calendar=("leave_type", "counts_calendar_days"),
            ),
        ),
        confirm=View(
            {
                "en": "{leave_type:term|leave_type_name}: {start_date:date} to {end_date:date}, "
                "{days:days}.[ {available_after:num} left after this.]",
                "sw": "{leave_type:term|leave_type_name}: {start_date:date} hadi {end_date:date}, "
                "{days:days}.[ Zitabaki {available_after:num}.]",
            }
        ),
        done=View(
            {
                "en": "Request #{request_id} sent for approval. You will get an SMS when it "
                "is decided.",
                "sw": "Ombi #{request_id} limetumwa ili likubaliwe. Utapata SMS likishaamuliwa.",
            }
        ),
    ),
)
def request_leave(ctx: ToolContext, args: RequestLeaveArgs) -> LeaveRequestResult:
    """File a leave request for the user; it goes to their supervisor (or hr) for approval.

    Dates are inclusive; weekends and public holidays are not charged (except for leave
    counted in calendar days, such as maternity). Check leave_balance first if unsure.
    """
    request = leave.request_leave(ctx.session, ctx.actor, **args.model_dump())
    (item,) = _items(ctx, [request])
    summary = describe_request(request) + "."
    if request.available_after is not None:
        summary += f" {plural_days(request.available_after)} left after this."
    return LeaveRequestResult(
        **item.model_dump(exclude={"summary"}),
        summary=summary,
        available_after=request.available_after,
    )


class CancelLeaveArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"request_id": 1, "reason": "Plans changed"}]}
    )

    request_id: int = Field(gt=0, description="The id of the user's own pending leave request.")
    reason: str | None = Field(
        default=None, max_length=1000, description="Optional reason for withdrawing it."
    )


@tool_spec(
    name="cancel_leave", permission=Permission.LEAVE_REQUEST, changes_state=True, confirm=True
)
def cancel_leave(ctx: ToolContext, args: CancelLeaveArgs) -> LeaveRequestItem:
    """Withdraw one of the user's own leave requests while it is still pending.

    Approved leave cannot be cancelled here: the user should ask their supervisor or hr.
    """
    request = leave.cancel_leave(ctx.session, ctx.actor, **args.model_dump())
    (item,) = _items(ctx, [request])
    return item


class ApproveLeaveArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"request_id": 1, "decision": "approve", "comment": "Enjoy your break"}]
        }
    )

    request_id: int = Field(gt=0, description="The id of the pending leave request to decide.")
    decision: Literal["approve", "reject"] = Field(description="'approve' or 'reject'.")
    comment: str | None = Field(
        default=None,
        max_length=1000,
        description="A note for the employee; required when rejecting (say why).",
    )


@tool_spec(
    name="approve_leave",
    permission=Permission.LEAVE_APPROVE,
    changes_state=True,
    confirm=True,
    ussd=Ussd(
        label={"en": "Pending requests", "sw": "Maombi yanayosubiri"},
        order=80,
        pin=True,
        steps=(
            Choose(
                "request_id",
                prompt={"en": "Leave waiting for you:", "sw": "Likizo zinazokusubiri:"},
                options=Options(
                    tool="list_leave_requests",
                    args={"status": "pending", "limit": 50},
                    items="requests",
                    value="request_id",
                    label={
                        "en": "{employee_name:short} {start_date:dm} {days:days}",
                        "sw": "{employee_name:short} {start_date:dm} {days:days}",
                    },
                    keep=(
                        "employee_name",
                        "leave_type",
                        "leave_type_name",
                        "start_date",
                        "end_date",
                        "days",
                    ),
                    exclude_own="employee_id",
                    empty={
                        "en": "No leave requests are waiting for you.",
                        "sw": "Hakuna maombi ya likizo yanayokusubiri.",
                    },
                ),
            ),
            Choose(
                "decision",
                prompt={
                    "en": "{employee_name}: {leave_type:term|leave_type_name}, {start_date:date}"
                    " to {end_date:date} ({days:days})",
                    "sw": "{employee_name}: {leave_type:term|leave_type_name}, {start_date:date}"
                    " hadi {end_date:date} ({days:days})",
                },
                labels={
                    "approve": {"en": "Approve", "sw": "Kubali"},
                    "reject": {"en": "Reject", "sw": "Kataa"},
                },
            ),
            EnterText(
                "comment",
                prompt={"en": "Reason for rejecting:", "sw": "Sababu ya kukataa:"},
                when={"decision": "reject"},
            ),
        ),
        confirm=View(
            {
                "en": "{@decision} {employee_name:short}: {leave_type:term|leave_type_name} "
                "{start_date:date} to {end_date:date}, {days:days}?",
                "sw": "{@decision} {employee_name:short}: {leave_type:term|leave_type_name} "
                "{start_date:date} hadi {end_date:date}, {days:days}?",
            }
        ),
        done=View(
            {
                "en": "{employee_name:short}: {leave_type:term|leave_type_name} from "
                "{start_date:date} {status:term}. They will get an SMS.",
                "sw": "{employee_name:short}: {leave_type:term|leave_type_name} kuanzia "
                "{start_date:date} {status:term}. Atapata SMS.",
            }
        ),
        again={"en": "Next request", "sw": "Ombi linalofuata"},
    ),
)
def approve_leave(ctx: ToolContext, args: ApproveLeaveArgs) -> LeaveRequestItem:
    """Approve or reject a pending leave request; the employee is notified.

    Supervisors decide for their direct reports, hr and admin for anyone; nobody decides
    their own request. Find request ids with list_leave_requests (status 'pending').
    """
    request = leave.approve_leave(ctx.session, ctx.actor, **args.model_dump())
    (item,) = _items(ctx, [request])
    return item


class ListLeaveRequestsArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "pending", "limit": 10}]})

    status: StatusName | None = Field(
        default=None, description="Only requests with this status; empty for all."
    )
    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Only this employee's requests: supervisors may name a direct report, hr "
        "and admin anyone. Leave empty for everything the user may see.",
    )
    limit: int = Field(default=20, ge=1, le=MAX_LIST, description="At most this many requests.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many requests.")


class LeaveRequestList(ToolResult):
    requests: list[LeaveRequestItem]


@tool_spec(name="list_leave_requests", permission=Permission.LEAVE_READ)
def list_leave_requests(ctx: ToolContext, args: ListLeaveRequestsArgs) -> LeaveRequestList:
    """List leave requests, latest start date first, with their status and decision.

    Employees see their own; supervisors their own and their direct reports'; hr and admin
    the whole organization's. Use status 'pending' to find requests awaiting a decision.
    """
    requests = leave.list_leave_requests(ctx.session, ctx.actor, **args.model_dump())
    items = _items(ctx, requests)
    summary = _plural(len(items), "leave request") + (":" if items else ".")
    if items:
        summary += "\n" + "\n".join(item.summary for item in items)
    return LeaveRequestList(summary=summary, requests=items)


# ------------------------------------------------------------------ balances


class LeaveBalanceArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"leave_type": "annual"}]})

    leave_type: LeaveTypeCode | None = Field(
        default=None,
        description="A leave type code such as 'annual' or 'sick'; leave empty for all types.",
    )
    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Whose balance: leave empty for the user's own. Supervisors may name a "
        "direct report, hr and admin anyone in the organization.",
    )
    year: Year | None = Field(default=None, description="Calendar year; default: the current year.")


class BalanceItem(ToolResult):
    leave_type: str = Field(description="The leave type's code.")
    name: str
    year: int
    entitled: Decimal | None = Field(description="Days granted for the year; null if unlimited.")
    accrued: Decimal | None = Field(description="Days earned so far; null if unlimited.")
    carried_over_usable: Decimal | None = Field(
        description="Days carried over from last year that can still be used."
    )
    taken: Decimal = Field(description="Days of approved leave this year.")
    pending: Decimal = Field(description="Days in requests awaiting approval.")
    available: Decimal | None = Field(
        description="Days that can still be requested now; null when unlimited."
    )


class LeaveBalances(ToolResult):
    employee_id: int
    balances: list[BalanceItem]


def _balance_item(view: BalanceView) -> BalanceItem:
    return BalanceItem(
        summary=describe_balance(view),
        leave_type=view.leave_type,
        name=view.name,
        year=view.year,
        entitled=view.entitled,
        accrued=view.accrued,
        carried_over_usable=view.carried_over_usable,
        taken=view.taken,
        pending=view.pending,
        available=view.available,
    )


@tool_spec(
    name="leave_balance",
    permission=Permission.LEAVE_READ,
    ussd=Ussd(
        label={"en": "Leave balance", "sw": "Salio la likizo"},
        order=40,
        done=View(
            {"en": "Days you can take:\n{items}", "sw": "Siku unazoweza kuchukua:\n{items}"},
            each="balances",
            item={
                "en": "[{leave_type:term|name}: {available:num}]",
                "sw": "[{leave_type:term|name}: {available:num}]",
            },
        ),
    ),
)
def leave_balance(ctx: ToolContext, args: LeaveBalanceArgs) -> LeaveBalances:
    """Show how many leave days are left, per leave type: entitled, accrued, taken, pending.

    Annual leave accrues monthly; carried-over days expire after a few months.
    """
    views = leave.leave_balance(ctx.session, ctx.actor, **args.model_dump())
    employee_id = args.employee_id or ctx.actor.user_id
    items = [_balance_item(view) for view in views]
    lines = [item.summary for item in items]
    if employee_id != ctx.actor.user_id:
        name = names_of(ctx.session, ctx.actor, [employee_id]).get(employee_id, "")
        year = views[0].year if views else args.year
        lines.insert(0, f"Leave balances of {name} for {year}:")
    return LeaveBalances(summary="\n".join(lines), employee_id=employee_id, balances=items)


# --------------------------------------------------------------- leave types


class ListLeaveTypesArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class LeaveTypeItem(ToolResult):
    code: str = Field(description="The code to pass as leave_type to other tools.")
    name: str
    days_per_year: Decimal = Field(
        description="Days granted per year; 0 with paid=false: no limit."
    )
    paid: bool
    counts_calendar_days: bool = Field(
        description="True when weekends and holidays count (e.g. maternity); else working days."
    )
    requires_document: bool = Field(description="A supporting document (e.g. sick note) is needed.")


class LeaveTypeList(ToolResult):
    leave_types: list[LeaveTypeItem]


@tool_spec(name="list_leave_types", permission=Permission.LEAVE_READ)
def list_leave_types(ctx: ToolContext, args: ListLeaveTypesArgs) -> LeaveTypeList:
    """List the employer's leave types with their codes and yearly days.

    Use it to find the right leave_type code before request_leave or leave_balance.
    """
    items = []
    for lt in leave.list_leave_types(ctx.session, ctx.actor):
        if is_unlimited(lt):
            terms = "unpaid, no yearly limit"
        else:
            unit = "calendar day" if lt.counts_calendar_days else "working day"
            terms = f"{plural_days(lt.days_per_year, unit)} a year"
            if not lt.paid:
                terms += ", unpaid"
        items.append(
            LeaveTypeItem(
                summary=f"{lt.name} ({lt.code}): {terms}",
                code=lt.code,
                name=lt.name,
                days_per_year=lt.days_per_year,
                paid=lt.paid,
                counts_calendar_days=lt.counts_calendar_days,
                requires_document=lt.requires_document,
            )
        )
    summary = "Leave types:\n" + "\n".join(i.summary for i in items) if items else "No leave types."
    return LeaveTypeList(summary=summary, leave_types=items)
