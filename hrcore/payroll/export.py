"""A finalised payroll run as CSV: for the bank, and for statutory filing.

Both files end with a TOTAL row. Money is written as plain decimals with two places
(no thousands separators), as bank and tax portals import it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.errors import Conflict, Invalid
from hrcore.payroll.models import PayrollRun, Payslip, RunStatus
from hrcore.payroll.months import month_label
from hrcore.payroll.payslips import run_payslips
from hrcore.payroll.pdf import staff_number
from hrcore.people.service import get_organization
from hrcore.spreadsheet import safe_cell, write_csv
from hrcore.tenancy import get_for_org

ExportFormat = Literal["bank", "statutory"]

BANK_COLUMNS = ("staff_number", "employee_name", "bank_account", "currency", "net_pay", "reference")


def _line_sum(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[Payslip], Decimal]:
    def total(payslip: Payslip) -> Decimal:
        return sum(
            (Decimal(line["amount"]) for line in payslip.lines if predicate(line)), Decimal(0)
        )

    return total


def _deduction(*prefixes: str) -> Callable[[Payslip], Decimal]:
    return _line_sum(lambda line: line["kind"] == "deduction" and line["code"].startswith(prefixes))


def _employer(*prefixes: str) -> Callable[[Payslip], Decimal]:
    return _line_sum(
        lambda line: line["kind"] == "employer_contribution" and line["code"].startswith(prefixes)
    )


#: Statutory columns per country: (column, amount of one payslip).
STATUTORY_COLUMNS: dict[str, tuple[tuple[str, Callable[[Payslip], Decimal]], ...]] = {
    "KE": (
        ("gross_pay", lambda p: p.gross),
        ("taxable_pay", lambda p: p.taxable_pay),
        ("paye", lambda p: p.paye),
        ("nssf_employee", _deduction("nssf")),
        ("nssf_employer", _employer("nssf")),
        # Before October 2024 the health contribution was NHIF; the column takes either.
        ("shif", _deduction("shif", "nhif")),
        ("ahl_employee", _deduction("ahl")),
        ("ahl_employer", _employer("ahl")),
    ),
    "TZ": (
        ("gross_pay", lambda p: p.gross),
        ("taxable_pay", lambda p: p.taxable_pay),
        ("paye", lambda p: p.paye),
        ("nssf_employee", _deduction("nssf")),
        ("nssf_employer", _employer("nssf")),
        ("sdl", _employer("sdl")),
        ("wcf", _employer("wcf")),
    ),
}


def reference(run: PayrollRun, payslip: Payslip) -> str:
    """The payment reference the bank shows the employee, e.g. "SAL 2026-10 EMP-00004"."""
    return f"SAL {run.month} {staff_number(payslip.employee_id)}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def bank_csv(run: PayrollRun, payslips: list[Payslip]) -> str:
    """One payment per employee: staff number, name, bank account, net pay, reference."""
    rows = [
        [
            staff_number(p.employee_id),
            safe_cell(p.employee_name),
            safe_cell(p.bank_account),
            p.currency,
            _money(p.net_pay),
            reference(run, p),
        ]
        for p in payslips
    ]
    total = sum((p.net_pay for p in payslips), Decimal(0))
    rows.append(["TOTAL", f"{len(payslips)} employees", "", run.currency, _money(total), ""])
    return write_csv(list(BANK_COLUMNS), rows)


def statutory_csv(country: str, payslips: list[Payslip]) -> str:
    """Per employee: gross, PAYE and each statutory contribution of `country`, with totals."""
    columns = STATUTORY_COLUMNS[country]
    header = ["staff_number", "employee_name", *(name for name, _ in columns)]
    totals = [Decimal(0)] * len(columns)
    rows = []
    for payslip in payslips:
        values = [get(payslip) for _, get in columns]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        rows.append(
            [
                staff_number(payslip.employee_id),
                safe_cell(payslip.employee_name),
                *map(_money, values),
            ]
        )
    rows.append(["TOTAL", f"{len(payslips)} employees", *map(_money, totals)])
    return write_csv(header, rows)


@audited("payroll.export", target_type="payroll_run", target_arg="run_id")
def export_run(
    session: Session, actor: Actor, *, run_id: int, export_format: ExportFormat
) -> tuple[str, str]:
    """A finalised run as CSV; returns (filename, text). Hr and admin only."""
    actor.require(Permission.PAYROLL_RUN)
    if export_format not in ("bank", "statutory"):
        raise Invalid("Export as bank or statutory.", code="invalid_export_format")
    run = get_for_org(session, actor, PayrollRun, run_id, what="payroll run")
    if run.status is not RunStatus.FINALIZED:
        raise Conflict(
            f"The payroll for {month_label(run.month)} is {run.status}: only a finalised "
            "run is exported for payment and filing.",
            code="run_not_final",
        )
    payslips = run_payslips(session, actor, run)
    org = get_organization(session, actor)
    if export_format == "bank":
        text = bank_csv(run, payslips)
    else:
        text = statutory_csv(org.country, payslips)
    return f"{org.slug}-payroll-{run.month}-{export_format}.csv", text
