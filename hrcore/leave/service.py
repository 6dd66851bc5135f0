"""Leave: types, requests and their decisions, and balances as people ask for them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission, Scope
from hrcore.audit import audited
from hrcore.calendar import leave_days
from hrcore.clock import local_today, now
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.leave.balances import OPEN, balance_view, get_or_create_balance, load_ledger
from hrcore.leave.models import Accrual, LeaveBalance, LeaveRequest, LeaveStatus, LeaveType
from hrcore.leave.rules import ZERO, is_unlimited
from hrcore.leave.schemas import BalanceView
from hrcore.leave.statutory import standard_types
from hrcore.leave.texts import describe_request, not_enough, say
from hrcore.notifications.service import notify
from hrcore.people.models import Organization, User
from hrcore.people.service import get_organization, hr_contacts, visible_employee
from hrcore.tenancy import get_for_org

SICK = "sick"
#: Sick notes often come after the fact; other leave is planned ahead.
SICK_BACKDATE_DAYS = 30
MAX_LIMIT = 200
DECISIONS = ("approve", "reject")
#: A leave type's code: what `add_leave_type` accepts (the tools' schemas show the same).
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
MAX_CODE_LENGTH = 32
_CODE = re.compile(CODE_PATTERN)


# ---------------------------------------------------------------- leave types


def ensure_default_leave_types(session: Session, organization: Organization) -> list[LeaveType]:
    """Create the standard leave types the organization lacks; return the whole standard set.

    Their days are the law in force today (`hrcore.leave.statutory`).
    """
    existing = {
        lt.code: lt
        for lt in session.scalars(
            select(LeaveType).where(LeaveType.organization_id == organization.id)
        )
    }
    result = []
    today = local_today(organization.timezone)
    annual_days = organization.default_annual_leave_days
    for values in standard_types(organization.country, today, annual_days=annual_days):
        # An existing type is kept as it is: the employer may have changed its numbers.
        leave_type = existing.get(values["code"])
        if leave_type is None:
            leave_type = LeaveType(
                organization_id=organization.id,
                paid=values.pop("paid", True),
                requires_document=values.pop("requires_document", False),
                is_active=True,
                **values,
            )
            session.add(leave_type)
        result.append(leave_type)
    session.flush()
    return result


def list_leave_types(session: Session, actor: Actor) -> list[LeaveType]:
    """The active leave types of the actor's organization."""
    actor.require(Permission.LEAVE_READ)
    return list(
        session.scalars(
            select(LeaveType)
            .where(LeaveType.organization_id == actor.organization_id, LeaveType.is_active)
            .order_by(LeaveType.name, LeaveType.id)
        )
    )


def _check_days(value: Decimal, text: str, code: str) -> Decimal:
    value = Decimal(value)
    if value < 0 or value > 366 or (value * 2) % 1 != 0:
        raise Invalid(say(text), code=code)
    return value


@audited("leave_type.create", target_type="leave_type")
def create_leave_type(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    days_per_year: Decimal | int,
    accrual: Accrual | str = Accrual.UPFRONT,
    paid: bool = True,
    requires_document: bool = False,
    carry_over_cap: Decimal | int = 0,
    carry_over_expiry_months: int = 3,
) -> LeaveType:
    """Add an employer-specific leave type."""
    actor.require(Permission.LEAVE_MANAGE)
    code = code.strip().lower()
    if not _CODE.match(code):
        raise Invalid(say("invalid_code"), code="invalid_code")
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid(say("name_required"), code="name_required")
    days = _check_days(Decimal(days_per_year), "days_per_year_range", "invalid_days")
    cap = _check_days(Decimal(carry_over_cap), "carry_over_cap_range", "invalid_carry_over")
    if not 0 <= carry_over_expiry_months <= 24:
        raise Invalid(say("carry_over_expiry_range"), code="invalid_carry_over")
    try:
        accrual = Accrual(accrual)
    except ValueError as exc:
        raise Invalid(say("invalid_accrual"), code="invalid_accrual") from exc
    taken = session.scalar(
        select(LeaveType.id).where(
            LeaveType.organization_id == actor.organization_id, LeaveType.code == code
        )
    )
    if taken is not None:
        raise Conflict(say("leave_type_exists", code=code), code="leave_type_exists")
    leave_type = LeaveType(
        organization_id=actor.organization_id,
        code=code,
        name=name,
        days_per_year=days,
        accrual=accrual,
        paid=paid,
        requires_document=requires_document,
        carry_over_cap=cap,
        carry_over_expiry_months=carry_over_expiry_months,
        is_active=True,
    )
    session.add(leave_type)
    session.flush()
    return leave_type


def _type_by_code(session: Session, actor: Actor, code: str) -> LeaveType:
    wanted = code.strip().lower()
    types = session.scalars(
        select(LeaveType).where(
            LeaveType.organization_id == actor.organization_id, LeaveType.is_active
        )
    ).all()
    for leave_type in types:
        if leave_type.code == wanted:
            return leave_type
    known = ", ".join(sorted(lt.code for lt in types)) or say("no_leave_types")
    raise NotFound(say("leave_type_not_found", code=code, known=known), code="leave_type_not_found")


# ------------------------------------------------------------------ balances


@audited("leave.balance", target_type="user", target_arg="employee_id")
def leave_balance(
    session: Session,
    actor: Actor,
    *,
    leave_type: str | None = None,
    employee_id: int | None = None,
    year: int | None = None,
    as_of: date | None = None,
) -> list[BalanceView]:
    """Balances per leave type: entitled, accrued, carried over, taken, pending and available."""
    actor.require(Permission.LEAVE_READ)
    org = get_organization(session, actor)
    employee = visible_employee(
        session, actor, actor.user_id if employee_id is None else employee_id
    )
    today = local_today(org.timezone)
    if year is None:
        year = as_of.year if as_of is not None else today.year
    if not 2000 <= year <= 2100:
        raise Invalid(say("invalid_year"), code="invalid_year")
    if as_of is None:
        if year == today.year:
            as_of = today
        else:
            as_of = date(year, 12, 31) if year < today.year else date(year, 1, 1)
    elif as_of.year != year:
        raise Invalid(say("as_of_outside_year"), code="invalid_dates")
    if leave_type is not None:
        types = [_type_by_code(session, actor, leave_type)]
    else:
        types = list_leave_types(session, actor)
    views = []
    for lt in types:
        balance = None if is_unlimited(lt) else get_or_create_balance(session, employee, lt, year)
        views.append(
            balance_view(
                session, employee, lt, year, as_of, org.country, balance=balance, today=today
            )
        )
    session.flush()
    return views


# ------------------------------------------------------------------ requests


def _clean_text(value: str | None, too_long: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 1000:
        raise Invalid(say(too_long), code="text_too_long")
    return value


def _lock_employee_balance(
    session: Session, employee_id: int, leave_type: LeaveType, year: int
) -> tuple[User, LeaveBalance | None]:
    """Serialize one employee's leave changes: the person's row, then the balance row.

    The person's row covers overlap checks across leave types (and the first creation of
    a balance row); FOR NO KEY UPDATE still lets others insert rows that reference them.
    Every caller takes the locks in this order, so they cannot deadlock each other.
    """
    employee = session.scalars(
        select(User)
        .where(User.id == employee_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    if is_unlimited(leave_type):
        return employee, None
    balance = get_or_create_balance(session, employee, leave_type, year)
    session.refresh(balance, with_for_update=True)
    return employee, balance


def approvers(session: Session, employee: User) -> list[User]:
    """The direct supervisor, else every active hr user (else the admins)."""
    if employee.reports_to_id is not None:
        supervisor = session.get(User, employee.reports_to_id)
        if supervisor is not None and supervisor.is_active:
            return [supervisor]
    return hr_contacts(session, employee.organization_id, exclude_id=employee.id)


def _insufficient(view: BalanceView, leave_type: LeaveType, needed: Decimal) -> Conflict:
    available = view.available if view.available is not None else ZERO
    details: dict[str, Any] = {"available": float(available), "requested": float(needed)}
    if view.carry_usable_until is not None and view.carried_over_usable:
        details["carried_over"] = float(view.carried_over_usable)
    if view.reserved_for_next_year:
        details["reserved_for_next_year"] = float(view.reserved_for_next_year)
    return Conflict(not_enough(view, leave_type, needed), code="insufficient_balance", **details)


@audited("leave.request", target_type="leave_request")
def request_leave(
    session: Session,
    actor: Actor,
    *,
    leave_type: str,
    start_date: date,
    end_date: date,
    half_day: bool = False,
    reason: str | None = None,
) -> LeaveRequest:
    """File a leave request for the acting employee; dates are inclusive.

    The request carries `available_after`, the balance of its type once it is counted.
    """
    actor.require(Permission.LEAVE_REQUEST)
    org = get_organization(session, actor)
    lt = _type_by_code(session, actor, leave_type)
    if end_date < start_date:
        raise Invalid(say("end_before_start"), code="invalid_dates")
    if half_day and start_date != end_date:
        raise Invalid(say("half_day_one_date"), code="invalid_half_day")
    # Calendar-day leave (maternity) runs across the new year and is charged to the year
    # it starts in; working-day leave is split by the employee so each year's balance holds.
    if start_date.year != end_date.year and not lt.counts_calendar_days:
        raise Invalid(
            say("spans_years", first=start_date.year, second=end_date.year), code="spans_years"
        )
    days = leave_days(
        start_date,
        end_date,
        country=org.country,
        half_day=half_day,
        calendar_days=lt.counts_calendar_days,
    )
    if days == 0:
        raise Invalid(say("no_working_days"), code="no_working_days")
    today = local_today(org.timezone)
    backdate = SICK_BACKDATE_DAYS if lt.code == SICK else 0
    if start_date < today - timedelta(days=backdate):
        text = say("past_sick", days=backdate) if backdate else say("past")
        raise Invalid(text, code="date_in_past")
    reason = _clean_text(reason, "reason_too_long")

    employee, balance = _lock_employee_balance(session, actor.user_id, lt, start_date.year)
    clash = session.scalars(
        select(LeaveRequest)
        .where(
            LeaveRequest.employee_id == employee.id,
            LeaveRequest.status.in_(OPEN),
            LeaveRequest.start_date <= end_date,
            LeaveRequest.end_date >= start_date,
        )
        .order_by(LeaveRequest.start_date)
        .limit(1)
    ).first()
    if clash is not None:
        raise Conflict(
            say("overlapping", request=describe_request(clash)),
            code="overlapping_request",
            request_id=clash.id,
        )
    ledger = None
    if balance is not None:
        ledger = load_ledger(
            session, employee, lt, start_date.year, org.country, balance=balance, today=today
        )
        # Monthly accrual: what will have been earned by the month the leave starts.
        view = ledger.view(start_date)
        if view.available is None or days > view.available:
            raise _insufficient(view, lt, days)

    request = LeaveRequest(
        organization_id=actor.organization_id,
        employee_id=employee.id,
        leave_type_id=lt.id,
        leave_type=lt,
        start_date=start_date,
        end_date=end_date,
        half_day=half_day,
        days=days,
        reason=reason,
        status=LeaveStatus.PENDING,
    )
    session.add(request)
    session.flush()
    if ledger is not None:
        # Counted again rather than subtracted: with carried-over days that lapse, or days
        # kept back for next year, the new request can change more than its own days.
        request.available_after = ledger.view(start_date, adding=[request]).available
    text = say(
        "requested", name=employee.full_name, request=describe_request(request), id=request.id
    )
    for approver in approvers(session, employee):
        notify(session, approver, kind="leave.requested", text=text)
    session.flush()
    return request


@audited("leave.decide", target_type="leave_request", target_arg="request_id")
def approve_leave(
    session: Session,
    actor: Actor,
    *,
    request_id: int,
    decision: str,
    comment: str | None = None,
) -> LeaveRequest:
    """Approve or reject a pending request of a direct report (or anyone, for hr and admin)."""
    actor.require(Permission.LEAVE_APPROVE)
    if decision not in DECISIONS:
        raise Invalid(say("invalid_decision"), code="invalid_decision")
    request = get_for_org(session, actor, LeaveRequest, request_id, what="leave request", lock=True)
    if request.employee_id == actor.user_id:
        raise Forbidden(say("own_request"), code="own_request")
    employee = get_for_org(session, actor, User, request.employee_id, what="employee")
    if actor.scope is not Scope.ORGANIZATION and employee.reports_to_id != actor.user_id:
        raise Forbidden(say("not_your_team"), code="not_your_team")
    if request.status is not LeaveStatus.PENDING:
        raise Conflict(say("not_pending_decide", status=request.status), code="not_pending")
    comment = _clean_text(comment, "comment_too_long")
    if decision == "reject" and comment is None:
        raise Invalid(say("comment_required"), code="comment_required")
    if decision == "approve":
        lt = request.leave_type
        _, balance = _lock_employee_balance(session, employee.id, lt, request.start_date.year)
        if balance is not None:
            org = get_organization(session, actor)
            view = balance_view(
                session,
                employee,
                lt,
                request.start_date.year,
                request.start_date,
                org.country,
                balance=balance,
                today=local_today(org.timezone),
                exclude_id=request.id,
            )
            if view.available is None or request.days > view.available:
                raise _insufficient(view, lt, request.days)
        request.status = LeaveStatus.APPROVED
    else:
        request.status = LeaveStatus.REJECTED
    request.decided_by_id = actor.user_id
    request.decided_at = now()
    request.decision_comment = comment
    session.flush()
    decider = session.get(User, actor.user_id)
    if decider is not None:
        text = say("decided_by", request=describe_request(request), name=decider.full_name)
    else:
        text = say("decided", request=describe_request(request))
    if comment:
        text += say("decision_comment", comment=comment)
    notify(session, employee, kind=f"leave.{request.status}", text=text)
    session.flush()
    return request


@audited("leave.cancel", target_type="leave_request", target_arg="request_id")
def cancel_leave(
    session: Session, actor: Actor, *, request_id: int, reason: str | None = None
) -> LeaveRequest:
    """Withdraw one of the acting employee's own requests while it is still pending."""
    actor.require(Permission.LEAVE_REQUEST)
    request = get_for_org(session, actor, LeaveRequest, request_id, what="leave request", lock=True)
    if request.employee_id != actor.user_id:
        raise Forbidden(say("not_your_request"), code="not_your_request")
    if request.status is not LeaveStatus.PENDING:
        text = say("not_pending_cancel", status=request.status)
        if request.status is LeaveStatus.APPROVED:
            text += say("ask_to_change_approved")
        raise Conflict(text, code="not_pending")
    request.status = LeaveStatus.CANCELLED
    # The employee's withdrawal is recorded like a decision: who, when and why.
    request.decided_by_id = actor.user_id
    request.decided_at = now()
    request.decision_comment = _clean_text(reason, "reason_too_long")
    session.flush()
    employee = get_for_org(session, actor, User, actor.user_id, what="employee")
    text = say(
        "withdrawn", name=employee.full_name, id=request.id, request=describe_request(request)
    )
    for approver in approvers(session, employee):
        notify(session, approver, kind="leave.cancelled", text=text)
    session.flush()
    return request


@audited("leave.list", target_type="user", target_arg="employee_id")
def list_leave_requests(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    employee_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[LeaveRequest]:
    """Requests the actor may see (own; own and direct reports'; or the organization's)."""
    actor.require(Permission.LEAVE_READ)
    query = select(LeaveRequest).where(LeaveRequest.organization_id == actor.organization_id)
    if status is not None:
        try:
            query = query.where(LeaveRequest.status == LeaveStatus(status))
        except ValueError as exc:
            known = ", ".join(s.value for s in LeaveStatus)
            raise Invalid(
                say("invalid_status", status=status, known=known), code="invalid_status"
            ) from exc
    if employee_id is not None:
        query = query.where(
            LeaveRequest.employee_id == visible_employee(session, actor, employee_id).id
        )
    elif actor.scope is Scope.SELF:
        query = query.where(LeaveRequest.employee_id == actor.user_id)
    elif actor.scope is Scope.TEAM:
        reports = select(User.id).where(
            User.organization_id == actor.organization_id, User.reports_to_id == actor.user_id
        )
        query = query.where(
            or_(LeaveRequest.employee_id == actor.user_id, LeaveRequest.employee_id.in_(reports))
        )
    limit = max(1, min(limit, MAX_LIMIT))
    return list(
        session.scalars(
            query.order_by(LeaveRequest.start_date.desc(), LeaveRequest.id.desc())
            .limit(limit)
            .offset(max(0, offset))
        )
    )
