"""Yearly balance rows, what they hold as of a date, next year's carry-over and the roll-over.

The carry-over into a year is written by the year-end roll-over; until then it is
projected from the year before with the same function, so balances and requests for
next year count what the policy will give and the roll-over only makes it real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hrcore.audit import record
from hrcore.clock import local_today
from hrcore.db import rowcount
from hrcore.leave.models import LeaveBalance, LeaveRequest, LeaveStatus, LeaveType
from hrcore.leave.rules import (
    NO_CARRY,
    ZERO,
    Carry,
    Standing,
    carries,
    carry_over,
    is_unlimited,
    months_employed,
    relied_on,
    round_half,
    standing,
)
from hrcore.leave.schemas import BalanceView
from hrcore.people.models import Organization, User

OPEN = (LeaveStatus.PENDING, LeaveStatus.APPROVED)


def _get_or_create(
    session: Session, employee: User, leave_type: LeaveType, year: int
) -> tuple[LeaveBalance, bool]:
    if employee.organization_id != leave_type.organization_id:
        raise ValueError("employee and leave type belong to different organizations")
    where = (
        LeaveBalance.employee_id == employee.id,
        LeaveBalance.leave_type_id == leave_type.id,
        LeaveBalance.year == year,
    )
    balance = session.scalars(select(LeaveBalance).where(*where)).one_or_none()
    if balance is not None:
        return balance, False
    months = months_employed(employee.hire_date, year)
    entitled = round_half(Decimal(leave_type.days_per_year) * months / 12)
    # A concurrent first use may insert the same row; whichever wins, both read it back.
    inserted = session.execute(
        insert(LeaveBalance)
        .values(
            organization_id=employee.organization_id,
            employee_id=employee.id,
            leave_type_id=leave_type.id,
            year=year,
            entitled_days=entitled,
            carried_over_days=ZERO,
        )
        .on_conflict_do_nothing(index_elements=["employee_id", "leave_type_id", "year"])
    )
    balance = session.scalars(select(LeaveBalance).where(*where)).one()
    return balance, bool(rowcount(inserted))


def get_or_create_balance(
    session: Session, employee: User, leave_type: LeaveType, year: int
) -> LeaveBalance:
    """The employee's `leave_type` row for `year`, created (prorated for joiners) on first use."""
    return _get_or_create(session, employee, leave_type, year)[0]


def _open_requests(
    session: Session,
    employee_id: int,
    leave_type_id: int,
    first_year: int,
    last_year: int,
    *,
    exclude_id: int | None = None,
) -> dict[int, list[LeaveRequest]]:
    """Open requests per year they start in, `first_year` to `last_year`, in one query."""
    query = select(LeaveRequest).where(
        LeaveRequest.employee_id == employee_id,
        LeaveRequest.leave_type_id == leave_type_id,
        LeaveRequest.status.in_(OPEN),
        LeaveRequest.start_date >= date(first_year, 1, 1),
        LeaveRequest.start_date <= date(last_year, 12, 31),
    )
    if exclude_id is not None:
        query = query.where(LeaveRequest.id != exclude_id)
    by_year: dict[int, list[LeaveRequest]] = {y: [] for y in range(first_year, last_year + 1)}
    for request in session.scalars(query):
        by_year[request.start_date.year].append(request)
    return by_year


def _projects(
    leave_type: LeaveType, employee: User, year: int, today: date, balance: LeaveBalance
) -> bool:
    """Whether `year`'s carry-over is computed from last year's records instead of read.

    Next year's carry is always computed: this year's records can still change, so even a
    figure an early roll-over wrote is provisional. In January the roll-over runs daily
    (hrcore/worker.py); until it has settled this year's row, it is computed too. Later,
    an unsettled row is one the roll-over never covered (an employer that joined during
    the year) and counts no carry, rather than days from before the employer used Ajira.
    """
    if not carries(leave_type) or employee.hire_date.year >= year:
        return False
    if year == today.year + 1:
        return True
    return year == today.year and today.month == 1 and balance.carry_over_expires_on is None


def _reserves(leave_type: LeaveType, employee: User, year: int, today: date) -> bool:
    """Whether `year`'s leave must leave room for the carry next year's requests count on."""
    return carries(leave_type) and year == today.year and employee.hire_date.year <= year


def _stored_carry(balance: LeaveBalance) -> Carry:
    days = Decimal(balance.carried_over_days)
    return Carry(days=days, expires=balance.carry_over_expires_on if days else None)


def _carry_in(
    session: Session,
    employee: User,
    leave_type: LeaveType,
    year: int,
    balance: LeaveBalance,
    country: str,
    today: date,
    *,
    previous: list[LeaveRequest] | None = None,
) -> Carry:
    """The carry-over counted in `year`: the roll-over's written figure, or its projection."""
    if year > today.year + 1:
        # Its days would come from a year that has not begun; they count once it has.
        return NO_CARRY
    if not _projects(leave_type, employee, year, today, balance):
        return _stored_carry(balance)
    carry = _projected_carry(
        session, employee, leave_type, year - 1, country, today, requests=previous
    )
    return replace(carry, projected=True)


def _projected_carry(
    session: Session,
    employee: User,
    leave_type: LeaveType,
    from_year: int,
    country: str,
    today: date,
    *,
    requests: list[LeaveRequest] | None = None,
) -> Carry:
    """What `from_year`'s unused days carry into the next year, as the roll-over writes it.

    The roll-over and every projection of next year's balance go through here, so the
    figure an employee was shown in December is the one the roll-over makes real.
    """
    if not carries(leave_type) or employee.hire_date.year > from_year:
        return NO_CARRY
    old = get_or_create_balance(session, employee, leave_type, from_year)
    if requests is None:
        requests = _open_requests(session, employee.id, leave_type.id, from_year, from_year)[
            from_year
        ]
    carry_in = _carry_in(session, employee, leave_type, from_year, old, country, today)
    return carry_over(
        leave_type,
        employee.hire_date,
        Decimal(old.entitled_days),
        carry_in,
        requests,
        from_year,
        country,
    )


@dataclass(frozen=True)
class Ledger:
    """The loaded records one balance view counts: one employee, one leave type, one year.

    Loaded once, it can be counted again with a request being filed added to it: that
    request cannot change the carry into its year (counted from the year before) nor what
    next year's bookings rely on, so the figures after it need no second trip.
    """

    employee: User
    leave_type: LeaveType
    year: int
    country: str
    limited: bool
    requests: tuple[LeaveRequest, ...]
    entitled: Decimal = ZERO
    carry: Carry = NO_CARRY
    reserved: Decimal = ZERO

    def view(self, as_of: date, *, adding: Sequence[LeaveRequest] = ()) -> BalanceView:
        """The standing as of `as_of`, counting `adding` as well as the loaded requests."""
        requests = [*self.requests, *adding]
        lt, employee = self.leave_type, self.employee
        if not self.limited:
            return BalanceView(
                employee_id=employee.id,
                leave_type=lt.code,
                name=lt.name,
                year=self.year,
                as_of=as_of,
                taken=sum((r.days for r in requests if r.status is LeaveStatus.APPROVED), ZERO),
                pending=sum((r.days for r in requests if r.status is LeaveStatus.PENDING), ZERO),
                limited=False,
                entitled=None,
                accrued=None,
                carried_over=None,
                carried_over_usable=None,
                carry_over_expires_on=None,
                available=None,
            )

        def on(day: date) -> Standing:
            return standing(
                lt, employee.hire_date, self.entitled, self.carry, requests, self.year, day,
                self.country,
            )  # fmt: skip

        figures = on(as_of)
        available = figures.available
        if self.reserved:
            # This year's leave may not shrink the carry below what next year's booked leave
            # was granted on: across both years nobody gets more days than the policy gives.
            year_end = on(date(self.year, 12, 31))
            available = min(available, max(year_end.available - self.reserved, ZERO))
        return BalanceView(
            employee_id=employee.id,
            leave_type=lt.code,
            name=lt.name,
            year=self.year,
            as_of=as_of,
            taken=figures.taken,
            pending=figures.pending,
            limited=True,
            entitled=self.entitled,
            accrued=figures.accrued,
            carried_over=self.carry.days,
            carried_over_usable=figures.usable,
            carry_over_expires_on=self.carry.expires if self.carry.days else None,
            carry_over_projected=self.carry.projected,
            reserved_for_next_year=self.reserved,
            available=available,
        )


def load_ledger(
    session: Session,
    employee: User,
    leave_type: LeaveType,
    year: int,
    country: str,
    *,
    balance: LeaveBalance | None,
    today: date,
    exclude_id: int | None = None,
) -> Ledger:
    """The records of the employee's `leave_type` in `year` as seen on `today`."""
    projects = balance is not None and _projects(leave_type, employee, year, today, balance)
    reserves = balance is not None and _reserves(leave_type, employee, year, today)
    # Last year's or next year's requests come in the same query as this year's.
    by_year = _open_requests(
        session,
        employee.id,
        leave_type.id,
        year - 1 if projects else year,
        year + 1 if reserves else year,
        exclude_id=exclude_id,
    )
    requests = tuple(by_year[year])
    if balance is None:
        return Ledger(employee, leave_type, year, country, limited=False, requests=requests)
    carry = _carry_in(
        session,
        employee,
        leave_type,
        year,
        balance,
        country,
        today,
        previous=by_year.get(year - 1),
    )
    reserved = ZERO
    booked = by_year.get(year + 1) if reserves else None
    if booked:
        following = get_or_create_balance(session, employee, leave_type, year + 1)
        reserved = relied_on(
            leave_type,
            employee.hire_date,
            Decimal(following.entitled_days),
            booked,
            year + 1,
            country,
        )
    return Ledger(
        employee,
        leave_type,
        year,
        country,
        limited=True,
        requests=requests,
        entitled=Decimal(balance.entitled_days),
        carry=carry,
        reserved=reserved,
    )


def balance_view(
    session: Session,
    employee: User,
    leave_type: LeaveType,
    year: int,
    as_of: date,
    country: str,
    *,
    balance: LeaveBalance | None,
    today: date,
    exclude_id: int | None = None,
) -> BalanceView:
    """The employee's standing on one leave type in `year` as of `as_of`, seen on `today`."""
    ledger = load_ledger(
        session,
        employee,
        leave_type,
        year,
        country,
        balance=balance,
        today=today,
        exclude_id=exclude_id,
    )
    return ledger.view(as_of)


def roll_over_year(session: Session, organization: Organization, *, from_year: int) -> int:
    """Create next year's balances with capped carry-over; return how many rows changed.

    Idempotent: the carry is recomputed from `from_year` and only differences are
    written, so a second run changes nothing (and a rerun after a late decision on
    a `from_year` request corrects the carry). The figure is the one balances and
    requests for the next year were already counting (`_projected_carry`).
    """
    to_year = from_year + 1
    today = local_today(organization.timezone)
    types = [
        lt
        for lt in session.scalars(
            select(LeaveType)
            .where(LeaveType.organization_id == organization.id, LeaveType.is_active)
            .order_by(LeaveType.id)
        )
        if not is_unlimited(lt)
    ]
    employees = list(
        session.scalars(
            select(User)
            .where(User.organization_id == organization.id, User.is_active)
            .order_by(User.id)
        )
    )
    changed = 0
    for lt in types:
        for employee in employees:
            if employee.hire_date.year > to_year:
                continue
            carry = _projected_carry(session, employee, lt, from_year, organization.country, today)
            balance, created = _get_or_create(session, employee, lt, to_year)
            # The expiry is written even for a carry of nothing: it marks the row settled.
            if (
                balance.carried_over_days != carry.days
                or balance.carry_over_expires_on != carry.expires
            ):
                balance.carried_over_days = carry.days
                balance.carry_over_expires_on = carry.expires
                changed += 1
            elif created:
                changed += 1
    record(
        session,
        None,
        "leave.roll_over",
        organization_id=organization.id,
        target_type="organization",
        target_id=organization.id,
    )
    session.flush()
    return changed
