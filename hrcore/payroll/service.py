"""Salary structures, monthly payroll runs and payslips.

A run computes every active employee's month with the statutory engine
(`hrcore.payroll.engine.compute`) and stores one payslip each, with every line
and the rule that produced it.

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
  computed (no paid day, deductions above pay); hr sees them before finalising. An
  organization with no salary structure at all gets `payroll_not_configured`.
  Leavers (inactive accounts) and people hired after the month are not paid.
- Running a month again recomputes its open run (draft or review, which goes back to
  draft); a finalised month is immutable (`run_finalized`): a correction is a new run
  of kind "correction" which, once finalised, supersedes the original.
- Employees and supervisors see only their own payslips, and only issued ones (of a
  finalised or superseded run); hr and admin see their organization's, drafts included.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission, Scope
from hrcore.audit import audited
from hrcore.automations.texts import say
from hrcore.calendar import working_days
from hrcore.clock import local_today, now
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.leave.unpaid import unpaid_leave_days
from hrcore.notifications.service import notify_once
from hrcore.payroll import engine
from hrcore.payroll.engine import Deduction, Earning, Line, money
from hrcore.payroll.models import PayrollRun, Payslip, RunKind, RunStatus, SalaryStructure
from hrcore.people.models import Department, Organization, User
from hrcore.people.service import get_organization, visible_employee
from hrcore.tenancy import get_for_org

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: Codes the engine's own lines use: a component may not pass for a statutory figure.
RESERVED_CODES = frozenset(
    {"basic", "paye", "nssf", "shif", "nhif", "ahl", "sdl", "wcf", "gross", "net"}
)
MAX_COMPONENTS = 30
#: Payslips are written in batches of this many employees; progress is stored after each.
BATCH = 1000
ISSUED = (RunStatus.FINALIZED, RunStatus.SUPERSEDED)
OPEN = (RunStatus.DRAFT, RunStatus.REVIEW)
#: Organizations with more active employees than this get a draft run computed in the
#: background (progress on the run); smaller ones get the figures in the answer.
BACKGROUND_THRESHOLD = 500


# --------------------------------------------------------------------------- months


def parse_month(month: str) -> tuple[date, date]:
    """The first and last day of a `YYYY-MM` month; raise `Invalid` (`invalid_month`)."""
    match = MONTH_RE.match(month.strip()) if isinstance(month, str) else None
    if match is None:
        raise Invalid(f"{month!r} is not a month; write it as YYYY-MM.", code="invalid_month")
    year, number = int(match.group(1)), int(match.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def month_label(month: str) -> str:
    """The month's name: "October 2026" for "2026-10"."""
    first, _ = parse_month(month)
    return first.strftime("%B %Y")


def working_days_between(start: date, end: date, country: str) -> int:
    """Working days from `start` to `end` inclusive (0 when `end` is before `start`)."""
    return 0 if end < start else int(working_days(start, end, country=country))


# --------------------------------------------------------------------------- structures


@dataclass(frozen=True)
class Component:
    """An allowance or deduction of a salary structure: a fixed amount or a % of basic pay."""

    kind: str  # "allowance" or "deduction"
    code: str
    label: str
    amount: Decimal | None = None
    percent: Decimal | None = None
    taxable: bool = True
    pensionable: bool = True
    before_tax: bool = False

    def value(self, basic: Decimal) -> Decimal:
        """The monthly amount against a basic pay of `basic`."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return money(basic * self.percent / 100)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "label": self.label,
            "amount": None if self.amount is None else str(self.amount),
            "percent": None if self.percent is None else str(self.percent),
            "taxable": self.taxable,
            "pensionable": self.pensionable,
            "before_tax": self.before_tax,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Component:
        return cls(
            kind=data["kind"],
            code=data["code"],
            label=data["label"],
            amount=None if data.get("amount") is None else Decimal(data["amount"]),
            percent=None if data.get("percent") is None else Decimal(data["percent"]),
            taxable=bool(data.get("taxable", True)),
            pensionable=bool(data.get("pensionable", True)),
            before_tax=bool(data.get("before_tax", False)),
        )


def components_of(structure: SalaryStructure) -> list[Component]:
    """The structure's allowances and deductions."""
    return [Component.from_json(item) for item in structure.components or ()]


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise Invalid(f"{what}: money must be an exact decimal amount.", code="invalid_amount")
    try:
        result = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise Invalid(f"{what}: {value!r} is not an amount.", code="invalid_amount") from None
    if not result.is_finite():
        raise Invalid(f"{what}: the amount is not a number.", code="invalid_amount")
    return result


def _check_money(value: object, what: str, *, allow_zero: bool = False) -> Decimal:
    amount = _decimal(value, what)
    if amount < 0:
        raise Invalid(f"{what}: the amount cannot be negative.", code="invalid_amount")
    if amount == 0 and not allow_zero:
        raise Invalid(f"{what}: the amount must be more than zero.", code="invalid_amount")
    if amount > engine.MAX_MONTHLY_AMOUNT:
        raise Invalid(
            f"{what}: {amount:,.2f} a month is not a plausible amount "
            f"(the limit is {engine.MAX_MONTHLY_AMOUNT:,.0f}).",
            code="invalid_amount",
        )
    if amount != amount.quantize(engine.CENT):
        raise Invalid(
            f"{what}: amounts are in cents at most (two decimals).", code="invalid_amount"
        )
    return amount.quantize(engine.CENT)


def _check_component(raw: Component | dict[str, Any], seen: set[str]) -> Component:
    data = raw.to_json() if isinstance(raw, Component) else dict(raw)
    kind = data.get("kind")
    if kind not in ("allowance", "deduction"):
        raise Invalid(
            f"A component is an allowance or a deduction, not {kind!r}.",
            code="invalid_component",
        )
    code = str(data.get("code") or "").strip().lower()
    if not CODE_RE.match(code) or code in RESERVED_CODES:
        raise Invalid(
            f"{code!r} cannot name a component: use lower-case letters, digits and _, "
            "and none of the statutory codes.",
            code="invalid_component",
        )
    if code in seen:
        raise Invalid(f"The component {code!r} is listed twice.", code="invalid_component")
    seen.add(code)
    label = str(data.get("label") or "").strip()
    if not label or len(label) > 100:
        raise Invalid(f"The component {code!r} needs a label.", code="invalid_component")
    amount, percent = data.get("amount"), data.get("percent")
    if (amount is None) == (percent is None):
        raise Invalid(
            f"The component {code!r} is either a fixed amount or a percentage of basic pay.",
            code="invalid_component",
        )
    if amount is not None:
        amount = _check_money(amount, label)
    if percent is not None:
        percent = _decimal(percent, label)
        if not Decimal(0) < percent <= Decimal(100) or percent != percent.quantize(
            Decimal("0.0001")
        ):
            raise Invalid(
                f"{label}: a percentage of basic pay is more than 0 and at most 100.",
                code="invalid_amount",
            )
    before_tax = bool(data.get("before_tax", False))
    if kind == "allowance" and before_tax:
        raise Invalid(
            f"{label}: only a deduction can be taken before tax.", code="invalid_component"
        )
    return Component(
        kind=kind,
        code=code,
        label=label,
        amount=amount,
        percent=percent,
        taxable=bool(data.get("taxable", True)),
        pensionable=bool(data.get("pensionable", True)),
        before_tax=before_tax,
    )


@audited("payroll.salary_set", target_type="user", target_arg="employee_id")
def set_salary_structure(
    session: Session,
    actor: Actor,
    *,
    employee_id: int,
    basic_pay: Decimal | int | str,
    effective_from: date,
    components: Sequence[Component | dict[str, Any]] = (),
    currency: str | None = None,
    bank_account: str | None = None,
) -> SalaryStructure:
    """Give an employee a salary from `effective_from`; the previous one ends the day before."""
    actor.require(Permission.PAYROLL_RUN)
    org = get_organization(session, actor)
    employee = get_for_org(session, actor, User, employee_id, what="employee")
    wanted = (currency or org.currency).strip().upper()
    if wanted != org.currency:
        raise Invalid(
            f"{org.name} pays in {org.currency}; a salary in {wanted} cannot be run.",
            code="currency_mismatch",
            currency=wanted,
            expected=org.currency,
        )
    basic = _check_money(basic_pay, "Basic pay")
    if len(components) > MAX_COMPONENTS:
        raise Invalid(
            f"At most {MAX_COMPONENTS} allowances and deductions.", code="invalid_component"
        )
    seen: set[str] = set()
    checked = [_check_component(item, seen) for item in components]
    if bank_account is not None:
        bank_account = bank_account.strip() or None
        if bank_account and len(bank_account) > 64:
            raise Invalid("A bank account is at most 64 characters.", code="invalid_bank_account")
    if effective_from < employee.hire_date.replace(day=1):
        raise Invalid(
            "A salary cannot start before the month the employee was hired.",
            code="before_hire_date",
        )

    history = list(
        session.scalars(
            select(SalaryStructure)
            .where(
                SalaryStructure.organization_id == actor.organization_id,
                SalaryStructure.employee_id == employee.id,
            )
            .order_by(SalaryStructure.effective_from)
            .with_for_update()
        )
    )
    if any(s.effective_from == effective_from for s in history):
        raise Conflict(
            f"A salary starting on {effective_from.isoformat()} already exists; "
            "start the change on another day.",
            code="structure_exists",
        )
    previous = [s for s in history if s.effective_from < effective_from]
    following = [s for s in history if s.effective_from > effective_from]
    if previous:
        previous[-1].effective_to = effective_from - timedelta(days=1)
    structure = SalaryStructure(
        organization_id=actor.organization_id,
        employee_id=employee.id,
        effective_from=effective_from,
        effective_to=following[0].effective_from - timedelta(days=1) if following else None,
        currency=org.currency,
        basic_pay=basic,
        components=[c.to_json() for c in checked],
        bank_account=bank_account,
        created_by_id=actor.user_id,
    )
    session.add(structure)
    session.flush()
    return structure


def _in_force(session: Session, organization_id: int, on: date) -> Select[SalaryStructure]:
    return select(SalaryStructure).where(
        SalaryStructure.organization_id == organization_id,
        SalaryStructure.effective_from <= on,
        or_(SalaryStructure.effective_to.is_(None), SalaryStructure.effective_to >= on),
    )


def _check_salary_reader(session: Session, actor: Actor, employee_id: int) -> User:
    if employee_id != actor.user_id:
        actor.require(Permission.PAYROLL_RUN)
    else:
        actor.require(Permission.PAYSLIP_READ)
    return visible_employee(session, actor, employee_id)


@audited("payroll.salary_read", target_type="user", target_arg="employee_id")
def get_salary_structure(
    session: Session, actor: Actor, *, employee_id: int, on: date | None = None
) -> SalaryStructure:
    """The salary in force for an employee on `on` (default: today); own, or hr and admin."""
    employee = _check_salary_reader(session, actor, employee_id)
    if on is None:
        on = local_today(get_organization(session, actor).timezone)
    found = session.scalar(
        _in_force(session, actor.organization_id, on).where(
            SalaryStructure.employee_id == employee.id
        )
    )
    if found is None:
        raise NotFound(
            f"{employee.full_name} has no salary on {on.isoformat()}.",
            code="salary_structure_not_found",
        )
    return found


@audited("payroll.salary_history", target_type="user", target_arg="employee_id")
def list_salary_structures(
    session: Session, actor: Actor, *, employee_id: int
) -> list[SalaryStructure]:
    """An employee's salaries, oldest first; own, or hr and admin."""
    employee = _check_salary_reader(session, actor, employee_id)
    return list(
        session.scalars(
            select(SalaryStructure)
            .where(
                SalaryStructure.organization_id == actor.organization_id,
                SalaryStructure.employee_id == employee.id,
            )
            .order_by(SalaryStructure.effective_from)
        )
    )


def payroll_configured(session: Session, organization_id: int) -> bool:
    """Whether the organization has given anyone a salary yet."""
    return bool(
        session.scalar(select(exists().where(SalaryStructure.organization_id == organization_id)))
    )


def not_configured(org: Organization) -> Conflict:
    """The error for an organization that has no salaries yet."""
    return Conflict(f"Payroll is not set up for {org.name} yet.", code="payroll_not_configured")


# --------------------------------------------------------------------------- runs


def _lock_org(session: Session, actor: Actor) -> Organization:
    # One payroll operation at a time per employer: two "run October" clicks must not race.
    org = session.get(Organization, actor.organization_id, with_for_update=True)
    if org is None:
        raise NotFound("Organization not found.", code="organization_not_found")
    return org


def _check_month(org: Organization, month: str) -> tuple[date, date]:
    first, last = parse_month(month)
    today = local_today(org.timezone)
    if first > today.replace(day=1):
        raise Invalid(
            f"{month_label(month)} has not started yet; payroll runs for this month or earlier.",
            code="future_month",
        )
    # The engine refuses dates before its rules; say so once for the whole run.
    engine.preview(org.country, gross=Decimal(1000), pay_date=last)
    return first, last


def _runs_of(session: Session, organization_id: int, month: str) -> list[PayrollRun]:
    return list(
        session.scalars(
            select(PayrollRun)
            .where(PayrollRun.organization_id == organization_id, PayrollRun.month == month)
            .order_by(PayrollRun.id)
            .with_for_update()
        )
    )


def _finalized_error(run: PayrollRun) -> Conflict:
    return Conflict(
        f"The payroll for {month_label(run.month)} is finalised and cannot change; "
        "start a correction instead.",
        code="run_finalized",
        run_id=run.id,
    )


def _new_run(
    org: Organization,
    actor: Actor,
    month: str,
    last: date,
    *,
    kind: RunKind = RunKind.REGULAR,
    corrects: PayrollRun | None = None,
    reason: str | None = None,
) -> PayrollRun:
    return PayrollRun(
        organization_id=org.id,
        month=month,
        kind=kind,
        status=RunStatus.DRAFT,
        corrects_run_id=corrects.id if corrects else None,
        reason=reason,
        currency=org.currency,
        pay_date=last,
        created_by_id=actor.user_id,
        warnings=[],
    )


def runs_in_background(session: Session, actor: Actor, *, finalize: bool) -> bool:
    """Whether a run asked for now is computed in the background: a large employer's draft."""
    if finalize:
        return False  # a final run needs its figures now
    headcount = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.organization_id == actor.organization_id, User.is_active.is_(True))
    )
    return (headcount or 0) > BACKGROUND_THRESHOLD


@audited("payroll.run", target_type="payroll_run")
def run_payroll(
    session: Session,
    actor: Actor,
    *,
    month: str,
    finalize: bool = False,
    background: bool = False,
) -> PayrollRun:
    """Compute (or recompute) the month's draft payroll, and finalise it if asked.

    With `background`, the draft is created now and computed by the `payroll.compute_run`
    task after the commit (progress on the run); it cannot be finalised in the same call.
    """
    actor.require(Permission.PAYROLL_RUN)
    org = _lock_org(session, actor)
    if not payroll_configured(session, org.id):
        raise not_configured(org)
    _, last = _check_month(org, month)
    if finalize and background:
        raise Invalid(
            "A run computed in the background is finalised once it is reviewed.",
            code="finalize_needs_result",
        )
    runs = _runs_of(session, org.id, month)
    run = next((r for r in runs if r.status in OPEN), None)
    if run is None:
        final = next((r for r in runs if r.status is RunStatus.FINALIZED), None)
        if final is not None:
            raise _finalized_error(final)
        run = _new_run(org, actor, month, last)
        session.add(run)
    run.status = RunStatus.DRAFT
    run.submitted_at = None
    session.flush()
    if background:
        from hrcore.payroll.tasks import compute_run_task
        from hrcore.worker import enqueue_after_commit

        run.computing = True
        run.employees_done = 0
        session.flush()
        enqueue_after_commit(session, compute_run_task, run.id)
        return run
    compute_run(session, run.id)
    if finalize:
        _finalize(session, actor, run)
    return run


@audited("payroll.correct", target_type="payroll_run")
def start_correction(
    session: Session, actor: Actor, *, month: str, reason: str, finalize: bool = False
) -> PayrollRun:
    """Open (and compute) a correction of a finalised month; it supersedes it once finalised."""
    actor.require(Permission.PAYROLL_RUN)
    org = _lock_org(session, actor)
    _, last = _check_month(org, month)
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why the month is corrected.", code="reason_required")
    runs = _runs_of(session, org.id, month)
    final = next((r for r in runs if r.status is RunStatus.FINALIZED), None)
    if final is None:
        raise Conflict(
            f"{month_label(month)} has no finalised payroll to correct; run it instead.",
            code="nothing_to_correct",
        )
    if any(r.status in OPEN for r in runs):
        raise Conflict(
            f"A payroll for {month_label(month)} is already being prepared; "
            "recompute or finalise it.",
            code="run_in_progress",
        )
    run = _new_run(
        org, actor, month, last, kind=RunKind.CORRECTION, corrects=final, reason=reason[:500]
    )
    session.add(run)
    session.flush()
    compute_run(session, run.id)
    if finalize:
        _finalize(session, actor, run)
    return run


def _open_run(session: Session, actor: Actor, run_id: int) -> PayrollRun:
    actor.require(Permission.PAYROLL_RUN)
    _lock_org(session, actor)
    run = get_for_org(session, actor, PayrollRun, run_id, what="payroll run", lock=True)
    if run.status in ISSUED:
        raise _finalized_error(run)
    if run.computing:
        raise Conflict(
            "The payroll is still being computed; try again in a moment.", code="run_computing"
        )
    return run


@audited("payroll.submit", target_type="payroll_run", target_arg="run_id")
def submit_for_review(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """Move a computed draft to review."""
    run = _open_run(session, actor, run_id)
    if run.status is RunStatus.REVIEW:
        return run
    run.status = RunStatus.REVIEW
    run.submitted_at = now()
    session.flush()
    return run


@audited("payroll.finalize", target_type="payroll_run", target_arg="run_id")
def finalize_run(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """Finalise a draft or reviewed run: its payslips are issued and it can no longer change."""
    run = _open_run(session, actor, run_id)
    _finalize(session, actor, run)
    return run


def _finalize(session: Session, actor: Actor, run: PayrollRun) -> None:
    if run.payslip_count == 0:
        raise Conflict(
            f"The payroll for {month_label(run.month)} has no payslip to issue.",
            code="empty_run",
        )
    if run.kind is RunKind.CORRECTION:
        original = session.get(PayrollRun, run.corrects_run_id, with_for_update=True)
        if original is not None and original.status is RunStatus.FINALIZED:
            original.status = RunStatus.SUPERSEDED
            original.superseded_by_id = run.id
            # The original must leave "finalized" before the correction takes its place.
            session.flush()
    run.status = RunStatus.FINALIZED
    run.finalized_at = now()
    run.finalized_by_id = actor.user_id
    session.flush()
    _tell_payslips_ready(session, run)


def _tell_payslips_ready(session: Session, run: PayrollRun) -> None:
    """ "Your payslip is ready", once per person and run (a correction is told again)."""
    label = month_label(run.month)
    for payslip in session.scalars(select(Payslip).where(Payslip.run_id == run.id)):
        employee = session.get(User, payslip.employee_id)
        if employee is None or not employee.is_active:
            continue
        text = say("payslip_ready", employee.language, month=label)
        key = f"payslip_ready:{run.id}:{employee.id}"
        notify_once(session, employee, key=key, kind="payslip_ready", text=text)


@audited("payroll.run_read", target_type="payroll_run", target_arg="run_id")
def get_run(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """One payroll run of the actor's organization (hr and admin)."""
    actor.require(Permission.PAYROLL_RUN)
    return get_for_org(session, actor, PayrollRun, run_id, what="payroll run")


# --------------------------------------------------------------------------- computation


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
        raise _finalized_error(run)
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
    structures = {s.employee_id: s for s in session.scalars(_in_force(session, org.id, last))}
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


# --------------------------------------------------------------------------- payslips


def _issued_only(actor: Actor) -> bool:
    return actor.scope is not Scope.ORGANIZATION


@audited("payslip.read", target_type="payslip", target_arg="payslip_id")
def get_payslip(session: Session, actor: Actor, *, payslip_id: int) -> Payslip:
    """One payslip: the employee's own, or any of the organization's for hr and admin."""
    actor.require(Permission.PAYSLIP_READ)
    payslip = get_for_org(session, actor, Payslip, payslip_id, what="payslip")
    if _issued_only(actor):
        if payslip.employee_id != actor.user_id:
            raise Forbidden("You may only see your own payslips.", code="own_payslips_only")
        run = session.get(PayrollRun, payslip.run_id)
        if run is None or run.status not in ISSUED:
            # Not issued yet: for its employee it does not exist.
            raise NotFound(f"No payslip with id {payslip_id}.", code="payslip_not_found")
    return payslip


def _whose(session: Session, actor: Actor, employee_id: int | None) -> int:
    if employee_id is None or employee_id == actor.user_id:
        return actor.user_id
    if actor.scope is not Scope.ORGANIZATION:
        raise Forbidden("You may only see your own payslips.", code="own_payslips_only")
    return visible_employee(session, actor, employee_id).id


def _issued_payslips(actor: Actor, employee_id: int) -> Select[Payslip]:
    # The payslip in force for a month is the one of its finalised run: a superseded
    # run's payslips are history, reachable by id only.
    return (
        select(Payslip)
        .join(PayrollRun, PayrollRun.id == Payslip.run_id)
        .where(
            Payslip.organization_id == actor.organization_id,
            Payslip.employee_id == employee_id,
            PayrollRun.status == RunStatus.FINALIZED,
        )
    )


@audited("payslip.find", target_type="payslip")
def find_payslip(
    session: Session, actor: Actor, *, employee_id: int | None = None, month: str | None = None
) -> Payslip:
    """The issued payslip of `month` (default: the latest) for the actor or, for hr, anyone."""
    actor.require(Permission.PAYSLIP_READ)
    whose = _whose(session, actor, employee_id)
    query = _issued_payslips(actor, whose)
    if month is not None:
        parse_month(month)
        query = query.where(Payslip.month == month)
    payslip = session.scalar(query.order_by(Payslip.month.desc(), Payslip.id.desc()).limit(1))
    if payslip is None:
        if not payroll_configured(session, actor.organization_id):
            raise not_configured(get_organization(session, actor))
        when = f" for {month_label(month)}" if month else ""
        raise NotFound(f"There is no payslip{when} yet.", code="payslip_not_found")
    return payslip


@audited("payslip.list", target_type="user", target_arg="employee_id")
def list_payslips(
    session: Session,
    actor: Actor,
    *,
    employee_id: int | None = None,
    year: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Payslip]:
    """Issued payslips, newest month first, for the actor or, for hr and admin, anyone."""
    actor.require(Permission.PAYSLIP_READ)
    whose = _whose(session, actor, employee_id)
    if not payroll_configured(session, actor.organization_id):
        raise not_configured(get_organization(session, actor))
    query = _issued_payslips(actor, whose)
    if year is not None:
        query = query.where(Payslip.month.like(f"{year:04d}-%"))
    return list(
        session.scalars(
            query.order_by(Payslip.month.desc(), Payslip.id.desc()).limit(limit).offset(offset)
        )
    )


def run_payslips(session: Session, actor: Actor, run: PayrollRun) -> list[Payslip]:
    """The payslips of a run the caller has already loaded with its permission checked."""
    return list(
        session.scalars(
            select(Payslip)
            .where(Payslip.organization_id == actor.organization_id, Payslip.run_id == run.id)
            .order_by(Payslip.employee_name, Payslip.employee_id)
        )
    )


def run_of(session: Session, payslip: Payslip) -> PayrollRun:
    """The run a payslip belongs to."""
    run = session.get(PayrollRun, payslip.run_id)
    assert run is not None
    return run
