"""Reading payslips.

Employees and supervisors see only their own payslips, and only issued ones (of a
finalised or superseded run); hr and admin see their organization's, drafts included.
A month's payslip is the one of its finalised run: a superseded run's payslips are
history, reachable by id only.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission, Scope
from hrcore.audit import audited
from hrcore.errors import Forbidden, NotFound
from hrcore.payroll.models import ISSUED, PayrollRun, Payslip, RunStatus
from hrcore.payroll.months import month_label, parse_month
from hrcore.payroll.structures import not_configured, payroll_configured
from hrcore.people.service import get_organization, visible_employee
from hrcore.tenancy import get_for_org


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
