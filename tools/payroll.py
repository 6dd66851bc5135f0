"""Payroll tools: payslips and payroll runs.

The schemas are final; until the payroll domain exists in hrcore every call ends,
after its permission and object checks, in a clear "not set up yet" error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hrcore.actor import Permission, Scope
from hrcore.errors import Conflict, Forbidden
from hrcore.people.service import get_organization, visible_employee
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_PAGE = 100


def _not_configured(ctx: ToolContext) -> Conflict:
    org = get_organization(ctx.session, ctx.actor)
    return Conflict(f"Payroll is not set up for {org.name} yet.", code="payroll_not_configured")


def _check_payslip_owner(ctx: ToolContext, employee_id: int | None) -> None:
    """Only hr and admin read other people's payslips; supervisors see only their own."""
    if employee_id is None or employee_id == ctx.actor.employee_id:
        return
    if ctx.actor.scope is not Scope.ORGANIZATION:
        raise Forbidden("You may only see your own payslips.", code="own_payslips_only")
    # Another employer's employee is "not found", like everywhere else.
    visible_employee(ctx.session, ctx.actor, employee_id)


class FetchPayslipArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"month": "2026-10"}]})

    month: str | None = Field(
        default=None,
        pattern=MONTH_PATTERN,
        description="The pay month as YYYY-MM, e.g. 2026-10; leave empty for the latest payslip.",
    )
    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Only for hr and admin: whose payslip. Leave empty for the user's own; "
        "employees and supervisors can only fetch their own.",
    )


PayslipLineKind = Literal["earning", "deduction", "employer_contribution"]


class PayslipLine(BaseModel):
    kind: PayslipLineKind = Field(
        description="earning (adds to gross), deduction (taken from pay) or "
        "employer_contribution (paid by the employer on top, not deducted)."
    )
    code: str = Field(description="Stable code, e.g. basic, paye, nssf, shif, housing_levy.")
    label: str = Field(description="What the payslip calls it.")
    amount: Decimal = Field(description="Amount in the payslip's currency.")


class Payslip(ToolResult):
    payslip_id: int
    employee_id: int
    employee_name: str
    period: str = Field(pattern=MONTH_PATTERN, description="The pay month, YYYY-MM.")
    currency: str = Field(description="ISO 4217 code, e.g. KES or TZS.")
    gross_pay: Decimal
    total_deductions: Decimal
    net_pay: Decimal = Field(description="What the employee receives: gross minus deductions.")
    lines: list[PayslipLine]
    pdf_url: str = Field(description="Where the payslip can be downloaded as PDF.")


@tool_spec(name="fetch_payslip", permission=Permission.PAYSLIP_READ)
def fetch_payslip(ctx: ToolContext, args: FetchPayslipArgs) -> Payslip:
    """Fetch one payslip: gross pay, each earning and deduction (PAYE, pension, health), net pay.

    Use it for "send my October payslip" or "how much tax did I pay". Without a month
    it returns the latest. Hr and admin may name another employee.
    """
    _check_payslip_owner(ctx, args.employee_id)
    raise _not_configured(ctx)


class ListPayslipsArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "limit": 12}]})

    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Only for hr and admin: whose payslips. Leave empty for the user's own; "
        "employees and supervisors can only list their own.",
    )
    year: int | None = Field(
        default=None, ge=2000, le=2100, description="Only payslips of this year."
    )
    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description="At most this many payslips.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many payslips.")


class PayslipHeader(BaseModel):
    payslip_id: int
    period: str = Field(pattern=MONTH_PATTERN, description="The pay month, YYYY-MM.")
    currency: str
    gross_pay: Decimal
    net_pay: Decimal
    pdf_url: str


class PayslipList(ToolResult):
    payslips: list[PayslipHeader] = Field(description="Newest month first.")


@tool_spec(name="list_payslips", permission=Permission.PAYSLIP_READ)
def list_payslips(ctx: ToolContext, args: ListPayslipsArgs) -> PayslipList:
    """List payslips, newest month first, with gross and net pay and a PDF link for each."""
    _check_payslip_owner(ctx, args.employee_id)
    raise _not_configured(ctx)


class RunPayrollArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"month": "2026-10", "finalize": False}]}
    )

    month: str = Field(pattern=MONTH_PATTERN, description="The pay month to run, YYYY-MM.")
    finalize: bool = Field(
        default=False,
        description="False (default) computes a draft to review; true finalizes it and issues "
        "payslips, which cannot be undone.",
    )


class PayrollTotals(BaseModel):
    gross: Decimal
    deductions: Decimal
    net: Decimal
    employer_cost: Decimal = Field(description="Gross pay plus employer contributions.")


class PayrollRun(ToolResult):
    run_id: int
    month: str = Field(pattern=MONTH_PATTERN)
    status: Literal["draft", "review", "finalized"]
    currency: str
    employee_count: int
    totals: PayrollTotals


@tool_spec(name="run_payroll", permission=Permission.PAYROLL_RUN, changes_state=True, confirm=True)
def run_payroll(ctx: ToolContext, args: RunPayrollArgs) -> PayrollRun:
    """Compute the organization's payroll for one month (hr and admin): a draft, or final.

    Confirm the month, and whether to finalize, with the user before calling.
    """
    raise _not_configured(ctx)
