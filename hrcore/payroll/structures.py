"""Salary structures: an employee's basic pay, allowances and deductions over time.

An employee has one structure at a time: a new one starts on its `effective_from` and
ends the one before the day before. Amounts are exact decimals in the employer's
currency, to the cent, and every component is checked here, before any run uses it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.clock import local_today
from hrcore.errors import Conflict, Invalid, NotFound
from hrcore.payroll import engine
from hrcore.payroll.engine import money
from hrcore.payroll.models import SalaryStructure
from hrcore.people.models import Organization, User
from hrcore.people.service import get_organization, visible_employee
from hrcore.tenancy import get_for_org

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: Codes the engine's own lines use: a component may not pass for a statutory figure.
RESERVED_CODES = frozenset(
    {"basic", "paye", "nssf", "shif", "nhif", "ahl", "sdl", "wcf", "gross", "net"}
)
MAX_COMPONENTS = 30


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


def in_force(session: Session, organization_id: int, on: date) -> Select[SalaryStructure]:
    """The organization's salary structures in force on `on`, one per employee at most."""
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
        in_force(session, actor.organization_id, on).where(
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
