"""Computing a run: every active employee's month through the statutory engine.

A run stores one payslip per employee, with every line and the rule that produced it.

Choices where the issue is silent:

- The salary structure used for a month is the one in force on the pay date,
  the month's last day.
- Proration, for mid-month joiners and approved unpaid leave (leave types with
  `paid=False`), by working days (weekdays that are not public holidays):
  `paid days = working days employed in the month - unpaid leave working days`, and every
  earning (basic pay and allowances; a percentage allowance is taken of the full basic)
  is `amount × paid days / working days in the month`, rounded to the cent.
  Fixed deductions are not prorated; percentage deductions are taken of the prorated basic.
- Employees without a salary structure for the month are skipped and listed in the
  run's `warnings` (code `missing_salary`), as are employees whose month cannot be
  computed (no paid day, deductions above pay); hr sees them before finalising.
  Leavers (inactive accounts) and people hired after the month are not paid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hrcore.clock import now
from hrcore.errors import Conflict, Invalid, NotFound
from hrcore.leave.unpaid import unpaid_leave_days
from hrcore.payroll import engine
from hrcore.payroll.engine import Deduction, Earning, Line, money
from hrcore.payroll.models import ISSUED, PayrollRun, Payslip, SalaryStructure
from hrcore.payroll.months import month_label, parse_month, working_days_between
from hrcore.payroll.structures import components_of, in_force
from hrcore.people.models import Department, Organization, User

#: Payslips are written in batches of this many employees; progress is stored after each.
BATCH = 1000


def finalized_error(run: PayrollRun) -> Conflict:
    """The refusal to change a finalised (or superseded) run."""
    return Conflict(
        f"The payroll for {month_label(run.month)} is finalised and cannot change; "
        "start a correction instead.",
        code="run_finalized",
        run_id=run.id,
    )


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    hire_date: date
    department: str | None


def compute_run(
    session: Session, run_id: int, *, on_batch: Callable[[PayrollRun], None] | None = None
) -> PayrollRun:
    """Compute every payslip of an open run, replacing any from an earlier computation.

    The caller has checked who may do this (`run_payroll`); the background task calls it
    with the run id only. `on_batch` runs after each batch of payslips (the task commits
    there, so progress is visible while a large run computes).
    """
    run = session.get(PayrollRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"No payroll run with id {run_id}.", code="payroll_run_not_found")
    if run.status in ISSUED:
        raise finalized_error(run)
    org = session.get(Organization, run.organization_id)
    assert org is not None
    first, last = parse_month(run.month)
    country = org.country
    month_days = working_days_between(first, last, country)

    people = [
        _Person(row.id, row.full_name, row.hire_date, row.department)
        for row in session.execute(
            select(User.id, User.full_name, User.hire_date, Department.name.label("department"))
            .outerjoin(Department, Department.id == User.department_id)
            .where(
                User.organization_id == org.id,
                User.is_active.is_(True),
                User.hire_date <= last,
            )
            .order_by(User.id)
        )
    ]
    structures = {s.employee_id: s for s in session.scalars(in_force(session, org.id, last))}
    unpaid = unpaid_leave_days(
        session, organization_id=org.id, country=country, first=first, last=last
    )

    session.execute(delete(Payslip).where(Payslip.run_id == run.id))
    run.working_days = Decimal(month_days)
    run.employees_total = len(people)
    run.employees_done = 0
    run.computing = True
    run.warnings = []
    totals = {"gross": Decimal(0), "deductions": Decimal(0), "net": Decimal(0), "cost": Decimal(0)}
    warnings: list[dict[str, Any]] = []
    count = 0
    session.flush()

    for start in range(0, len(people), BATCH):
        rows = []
        for person in people[start : start + BATCH]:
            structure = structures.get(person.id)
            if structure is None:
                warnings.append(
                    _warning(person, "missing_salary", "No salary structure for this month.")
                )
                continue
            try:
                row = _payslip_row(
                    org,
                    run,
                    person,
                    structure,
                    first,
                    last,
                    month_days,
                    unpaid.get(person.id, Decimal(0)),
                )
            except Invalid as exc:
                warnings.append(_warning(person, exc.code, exc.message))
                continue
            rows.append(row)
            totals["gross"] += row["gross"]
            totals["deductions"] += row["total_deductions"]
            totals["net"] += row["net_pay"]
            totals["cost"] += row["employer_cost"]
        if rows:
            session.execute(insert(Payslip), rows)
        count += len(rows)
        run.employees_done = min(start + BATCH, len(people))
        run.payslip_count = count
        session.flush()
        if on_batch is not None:
            on_batch(run)

    run.warnings = warnings
    run.payslip_count = count
    run.total_gross = money(totals["gross"])
    run.total_deductions = money(totals["deductions"])
    run.total_net = money(totals["net"])
    run.total_employer_cost = money(totals["cost"])
    run.employees_done = len(people)
    run.computing = False
    run.computed_at = now()
    session.flush()
    return run


def _warning(person: _Person, code: str, message: str) -> dict[str, Any]:
    return {
        "employee_id": person.id,
        "employee_name": person.name,
        "code": code,
        "message": message,
    }


def _payslip_row(
    org: Organization,
    run: PayrollRun,
    person: _Person,
    structure: SalaryStructure,
    first: date,
    last: date,
    month_days: int,
    unpaid_days: Decimal,
) -> dict[str, Any]:
    employed = (
        month_days
        if person.hire_date <= first
        else working_days_between(person.hire_date, last, org.country)
    )
    paid = max(Decimal(employed) - unpaid_days, Decimal(0))
    if month_days == 0 or paid == 0:
        raise Invalid("No paid working day in this month.", code="no_paid_days")

    def prorate(amount: Decimal) -> Decimal:
        return amount if paid == month_days else money(amount * paid / month_days)

    basic = prorate(structure.basic_pay)
    earnings = [Earning(code="basic", label="Basic salary", amount=basic)]
    deductions = []
    for item in components_of(structure):
        if item.kind == "allowance":
            earnings.append(
                Earning(
                    code=item.code,
                    label=item.label,
                    amount=prorate(item.value(structure.basic_pay)),
                    taxable=item.taxable,
                    pensionable=item.pensionable,
                )
            )
        else:
            deductions.append(
                Deduction(
                    code=item.code,
                    label=item.label,
                    amount=item.value(basic),
                    before_tax=item.before_tax,
                )
            )
    result = engine.compute(
        org.country,
        pay_date=last,
        earnings=earnings,
        deductions=deductions,
        employer_headcount=run.employees_total,
    )
    return {
        "organization_id": org.id,
        "run_id": run.id,
        "employee_id": person.id,
        "structure_id": structure.id,
        "month": run.month,
        "employee_name": person.name,
        "department": person.department,
        "bank_account": structure.bank_account,
        "currency": result.currency,
        "working_days": Decimal(month_days),
        "paid_days": paid,
        "gross": result.gross,
        "taxable_pay": result.taxable_pay,
        "paye": result.paye,
        "total_deductions": result.total_deductions,
        "net_pay": result.net_pay,
        "employer_contributions": result.employer_cost - result.gross,
        "employer_cost": result.employer_cost,
        "lines": [_line_json(line) for line in result.lines],
    }


def _line_json(line: Line) -> dict[str, Any]:
    # What `engine.to_jsonable` writes for a line, without its dataclass deep copies
    # (they were three quarters of a 10,000-employee run).
    return {
        "kind": line.kind,
        "code": line.code,
        "label": line.label,
        "amount": str(line.amount),
        "rule": line.rule,
        "basis": None if line.basis is None else str(line.basis),
        "rate": None if line.rate is None else str(line.rate),
    }
