"""Payroll tools: payslips, payroll runs and the salary calculator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hrcore.actor import Permission
from hrcore.clock import local_today
from hrcore.pagination import MAX_PAGE
from hrcore.payroll import payslips, runs
from hrcore.payroll.engine import MAX_MONTHLY_AMOUNT, Line, preview
from hrcore.payroll.models import PayrollRun as RunRow
from hrcore.payroll.models import Payslip as PayslipRow
from hrcore.payroll.models import RunStatus
from hrcore.payroll.months import month_label
from hrcore.payroll.rules import COUNTRIES
from hrcore.people.service import get_organization
from tools.menus import Sms, Ussd, View
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import MONTH_PATTERN, Day, Year

PAYSLIP_KINDS = ("earning", "deduction", "employer_contribution")


def pdf_url(payslip_id: int) -> str:
    """Where a payslip is downloaded as PDF."""
    return f"/api/v1/payslips/{payslip_id}/pdf"


def money_text(currency: str, amount: Decimal) -> str:
    """KES 85,000 or KES 67,754.60: short enough for an SMS."""
    amount = Decimal(amount)
    shown = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{currency} {shown}"


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
    rule: str | None = Field(
        default=None,
        description='The dated statutory rule behind the figure, e.g. "KE/PAYE/2023-07-01"; '
        '"input" for figures from the salary structure.',
    )


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
    employer_contributions: Decimal | None = Field(
        default=None, description="Paid by the employer on top of gross pay (not deducted)."
    )
    paid_days: Decimal | None = Field(
        default=None, description="Working days paid, below working_days when prorated."
    )
    working_days: Decimal | None = Field(default=None, description="Working days in the month.")


@tool_spec(
    name="fetch_payslip",
    permission=Permission.PAYSLIP_READ,
    ussd=Ussd(
        label={"en": "Payslip", "sw": "Hati ya mshahara"},
        order=50,
        pin=True,
        done=View(
            {
                "en": "Payslip {period:month}\nGross {gross_pay:money}\nNet {net_pay:money}\n"
                "The full payslip is on its way by SMS.",
                "sw": "Mshahara {period:month}\nJumla {gross_pay:money}\nHalisi {net_pay:money}\n"
                "Hati kamili inakuja kwa SMS.",
            }
        ),
        sms=Sms(
            kind="payslip.sms",
            view=View(
                {
                    "en": "Payslip {period:month}, {employee_name}\n{items}\nGross "
                    "{gross_pay:money}, deductions {total_deductions:money}, net pay "
                    "{net_pay:money}.",
                    "sw": "Hati ya mshahara {period:month}, {employee_name}\n{items}\nJumla "
                    "{gross_pay:money}, makato {total_deductions:money}, mshahara halisi "
                    "{net_pay:money}.",
                },
                each="lines",
                item={"en": "{label}: {amount:money}", "sw": "{label}: {amount:money}"},
            ),
        ),
    ),
)
def fetch_payslip(ctx: ToolContext, args: FetchPayslipArgs) -> Payslip:
    """Fetch one payslip: gross pay, each earning and deduction (PAYE, pension, health), net pay.

    Use it for "send my October payslip" or "how much tax did I pay". Without a month
    it returns the latest. Hr and admin may name another employee.
    """
    row = payslips.find_payslip(
        ctx.session, ctx.actor, employee_id=args.employee_id, month=args.month
    )
    return payslip_result(row, own=row.employee_id == ctx.actor.user_id)


def payslip_result(row: PayslipRow, *, own: bool = True) -> Payslip:
    """The tool's view of a stored payslip."""
    whose = "" if own else f"{row.employee_name}'s "
    summary = (
        f"{whose}{month_label(row.month)} payslip: "
        f"gross {money_text(row.currency, row.gross)}, "
        f"deductions {money_text(row.currency, row.total_deductions)}, "
        f"net {money_text(row.currency, row.net_pay)}."
    )
    return Payslip(
        summary=summary[:1].upper() + summary[1:],
        payslip_id=row.id,
        employee_id=row.employee_id,
        employee_name=row.employee_name,
        period=row.month,
        currency=row.currency,
        gross_pay=row.gross,
        total_deductions=row.total_deductions,
        net_pay=row.net_pay,
        lines=[
            PayslipLine(
                kind=line["kind"],
                code=line["code"],
                label=line["label"],
                amount=Decimal(line["amount"]),
                rule=line["rule"],
            )
            for line in row.lines
            if line["kind"] in PAYSLIP_KINDS
        ],
        pdf_url=pdf_url(row.id),
        employer_contributions=row.employer_contributions,
        paid_days=row.paid_days,
        working_days=row.working_days,
    )


class ListPayslipsArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "limit": 12}]})

    employee_id: int | None = Field(
        default=None,
        gt=0,
        description="Only for hr and admin: whose payslips. Leave empty for the user's own; "
        "employees and supervisors can only list their own.",
    )
    year: Year | None = Field(default=None, description="Only payslips of this year.")
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
    rows = payslips.list_payslips(
        ctx.session,
        ctx.actor,
        employee_id=args.employee_id,
        year=args.year,
        limit=args.limit,
        offset=args.offset,
    )
    headers = [
        PayslipHeader(
            payslip_id=row.id,
            period=row.month,
            currency=row.currency,
            gross_pay=row.gross,
            net_pay=row.net_pay,
            pdf_url=pdf_url(row.id),
        )
        for row in rows
    ]
    if not rows:
        summary = "No payslips yet." if args.year is None else f"No payslips in {args.year}."
    else:
        latest = rows[0]
        count = f"{len(rows)} payslip{'' if len(rows) == 1 else 's'}"
        summary = (
            f"{count}; the latest, {month_label(latest.month)}: "
            f"net {money_text(latest.currency, latest.net_pay)}."
        )
    return PayslipList(summary=summary, payslips=headers)


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


class PayrollWarning(BaseModel):
    employee_id: int | None
    employee_name: str | None
    code: str = Field(description="Why they were left out, e.g. missing_salary.")
    message: str


class PayrollRun(ToolResult):
    run_id: int
    month: str = Field(pattern=MONTH_PATTERN)
    status: Literal["draft", "review", "finalized", "superseded"] = Field(
        description="draft → review → finalized; superseded once a correction is finalized."
    )
    currency: str
    employee_count: int = Field(description="Payslips in the run.")
    totals: PayrollTotals
    computing: bool = Field(
        default=False, description="True while the payslips are computed in the background."
    )
    employees_done: int = Field(default=0, description="Progress: employees computed so far.")
    employees_total: int = Field(default=0, description="Employees the run considers.")
    warnings: list[PayrollWarning] = Field(
        default_factory=list, description="Employees left out of the run and why."
    )


@tool_spec(name="run_payroll", permission=Permission.PAYROLL_RUN, changes_state=True, confirm=True)
def run_payroll(ctx: ToolContext, args: RunPayrollArgs) -> PayrollRun:
    """Compute the organization's payroll for one month (hr and admin): a draft, or final.

    Confirm the month, and whether to finalize, with the user before calling.
    """
    run = runs.run_payroll(
        ctx.session,
        ctx.actor,
        month=args.month,
        finalize=args.finalize,
        background=runs.runs_in_background(ctx.session, ctx.actor, finalize=args.finalize),
    )
    return run_result(run)


def run_result(run: RunRow) -> PayrollRun:
    """The tool's view of a payroll run."""
    label = month_label(run.month)
    if run.computing:
        summary = (
            f"Computing the {label} payroll in the background: "
            f"{run.employees_done} of {run.employees_total} employees done."
        )
    else:
        state = {
            RunStatus.DRAFT: "Draft payroll",
            RunStatus.REVIEW: "Payroll in review",
            RunStatus.FINALIZED: "Finalised payroll",
            RunStatus.SUPERSEDED: "Superseded payroll",
        }.get(run.status, "Payroll")
        people = f"{run.payslip_count} employee{'' if run.payslip_count == 1 else 's'}"
        summary = (
            f"{state} for {label}: {people}, gross {money_text(run.currency, run.total_gross)}, "
            f"net {money_text(run.currency, run.total_net)}, "
            f"cost to the employer {money_text(run.currency, run.total_employer_cost)}."
        )
        if run.warnings:
            skipped = ", ".join(
                f"{w.get('employee_name') or 'the run'} ({w['code'].replace('_', ' ')})"
                for w in run.warnings[:5]
            )
            more = f" and {len(run.warnings) - 5} more" if len(run.warnings) > 5 else ""
            summary += f" Left out: {skipped}{more}."
        if run.status is RunStatus.DRAFT:
            summary += " Review it, then finalize to issue the payslips."
    return PayrollRun(
        summary=summary,
        run_id=run.id,
        month=run.month,
        status=run.status.value,
        currency=run.currency,
        employee_count=run.payslip_count,
        totals=PayrollTotals(
            gross=run.total_gross,
            deductions=run.total_deductions,
            net=run.total_net,
            employer_cost=run.total_employer_cost,
        ),
        computing=run.computing,
        employees_done=run.employees_done,
        employees_total=run.employees_total,
        warnings=[PayrollWarning(**w) for w in run.warnings],
    )


# ------------------------------------------------------------------ the calculator


class SalaryPreviewArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"gross": "120000"}]})

    gross: Decimal = Field(
        gt=0,
        le=MAX_MONTHLY_AMOUNT,
        decimal_places=2,
        description="Monthly gross pay in the organization's currency, e.g. 120000.",
    )
    pay_date: Day | None = Field(
        default=None,
        description="Whose rules: the pay date as YYYY-MM-DD; leave empty for today.",
    )


class PreviewLine(BaseModel):
    kind: Literal["earning", "deduction", "employer_contribution", "relief", "info"]
    code: str
    label: str
    amount: Decimal
    rule: str = Field(description="The dated rule behind the figure.")


class SalaryPreview(ToolResult):
    country: str
    currency: str
    pay_date: date
    gross_pay: Decimal
    paye: Decimal
    total_deductions: Decimal
    net_pay: Decimal
    employer_cost: Decimal
    lines: list[PreviewLine]


def _line(line: Line) -> PreviewLine:
    return PreviewLine(
        kind=line.kind, code=line.code, label=line.label, amount=line.amount, rule=line.rule
    )


@tool_spec(name="salary_preview", permission=Permission.PAYSLIP_READ)
def salary_preview(ctx: ToolContext, args: SalaryPreviewArgs) -> SalaryPreview:
    """Work out net pay for a monthly gross salary under the statutory rules (PAYE, pension,
    health, levies) of the user's country. Nothing is stored and no real payslip is read.

    Use it for "what would my net be on 120,000?" or "how much tax on 80k?".
    """
    org = get_organization(ctx.session, ctx.actor)
    pay_date = args.pay_date or local_today(org.timezone)
    result = preview(org.country, gross=args.gross, pay_date=pay_date)
    country = COUNTRIES[result.country].name
    summary = (
        f"On a gross of {money_text(result.currency, result.gross)} a month "
        f"({country} rules for {pay_date.isoformat()}): "
        f"PAYE {money_text(result.currency, result.paye)}, "
        f"total deductions {money_text(result.currency, result.total_deductions)}, "
        f"net pay {money_text(result.currency, result.net_pay)}."
    )
    return SalaryPreview(
        summary=summary,
        country=result.country,
        currency=result.currency,
        pay_date=pay_date,
        gross_pay=result.gross,
        paye=result.paye,
        total_deductions=result.total_deductions,
        net_pay=result.net_pay,
        employer_cost=result.employer_cost,
        lines=[_line(line) for line in result.lines],
    )
