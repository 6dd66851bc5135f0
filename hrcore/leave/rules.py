"""Leave counting rules for one employee, one leave type and one year, over loaded rows.

No session here: the service fetches the balance rows and requests, these functions
count. Keeping the carry-over rule in one pure function is what lets the year-end
roll-over and the projection of next year's balance never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from hrcore.calendar import leave_days
from hrcore.leave.models import Accrual, LeaveRequest, LeaveStatus, LeaveType

ZERO = Decimal(0)


def round_half(value: Decimal) -> Decimal:
    """To the nearest half day."""
    return (value * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def floor_half(value: Decimal) -> Decimal:
    """Down to a whole half day."""
    return (value * 2).quantize(Decimal(1), rounding=ROUND_FLOOR) / 2


def months_employed(hire_date: date, year: int, through_month: int = 12) -> int:
    """Months of `year` up to `through_month` in which the person was employed.

    The month of hire counts as a month employed.
    """
    if hire_date.year > year:
        return 0
    first = hire_date.month if hire_date.year == year else 1
    return max(0, through_month - first + 1)


def accrued(
    leave_type: LeaveType, hire_date: date, entitled: Decimal, year: int, as_of: date
) -> Decimal:
    """Days of `year`'s entitlement earned by `as_of` (all of them for upfront types)."""
    if leave_type.accrual is Accrual.UPFRONT:
        return entitled
    months_in_year = months_employed(hire_date, year)
    if months_in_year == 0 or as_of.year < year:
        return ZERO
    so_far = months_in_year if as_of.year > year else months_employed(hire_date, year, as_of.month)
    # Rounded down: a half day is only available once it has been fully earned.
    return floor_half(entitled * so_far / months_in_year)


def days_before(request: LeaveRequest, cutoff: date, country: str) -> Decimal:
    """The request's days that fall before `cutoff`."""
    if request.start_date >= cutoff:
        return ZERO
    if request.end_date < cutoff:
        return Decimal(request.days)
    return leave_days(
        request.start_date,
        cutoff - timedelta(days=1),
        country=country,
        calendar_days=request.leave_type.counts_calendar_days,
    )


def first_of_month_after(start: date, months: int) -> date:
    """The first day of the month `months` after `start`'s month."""
    years, month0 = divmod(start.month - 1 + months, 12)
    return date(start.year + years, month0 + 1, 1)


def is_unlimited(leave_type: LeaveType) -> bool:
    """Unpaid leave with no yearly figure is not limited by a balance."""
    return not leave_type.paid and leave_type.days_per_year == 0


def carries(leave_type: LeaveType) -> bool:
    """Whether unused days of this type carry into the next year at all."""
    return leave_type.carry_over_cap > 0 and leave_type.carry_over_expiry_months > 0


@dataclass(frozen=True)
class Carry:
    """Days carried into a year and the first day they no longer count.

    `projected` means the figure was computed from the previous year's records because
    the roll-over has not written it yet.
    """

    days: Decimal = ZERO
    expires: date | None = None
    projected: bool = False


NO_CARRY = Carry()


@dataclass(frozen=True)
class Standing:
    """One year's figures as of one date."""

    accrued: Decimal
    usable: Decimal
    taken: Decimal
    pending: Decimal

    @property
    def available(self) -> Decimal:
        return self.accrued + self.usable - self.taken - self.pending


def standing(
    leave_type: LeaveType,
    hire_date: date,
    entitled: Decimal,
    carry: Carry,
    requests: Sequence[LeaveRequest],
    year: int,
    as_of: date,
    country: str,
) -> Standing:
    """What `year` holds as of `as_of`, given its open (pending or approved) requests."""
    taken = sum((r.days for r in requests if r.status is LeaveStatus.APPROVED), ZERO)
    pending = sum((r.days for r in requests if r.status is LeaveStatus.PENDING), ZERO)
    usable = carry.days
    if carry.days and carry.expires is not None and as_of >= carry.expires:
        # After expiry only the carried days already spent before it still count; the
        # rest lapse. Without this, leave taken from the carry would eat this year's days.
        used = sum((days_before(r, carry.expires, country) for r in requests), ZERO)
        usable = min(carry.days, used)
    return Standing(
        accrued=accrued(leave_type, hire_date, entitled, year, as_of),
        usable=usable,
        taken=taken,
        pending=pending,
    )


def carry_over(
    leave_type: LeaveType,
    hire_date: date,
    entitled: Decimal,
    carry_in: Carry,
    requests: Sequence[LeaveRequest],
    from_year: int,
    country: str,
) -> Carry:
    """What `from_year`'s unused days carry into the next year: the roll-over's rule.

    Unused is the whole year's entitlement plus its own carry still usable at the year's
    end, less approved and pending leave; it is capped by the type and lapses
    `carry_over_expiry_months` into the new year. The expiry is given even when nothing
    is left to carry, so that a written row shows the roll-over has settled it.
    """
    if not carries(leave_type) or hire_date.year > from_year:
        return NO_CARRY
    year_end = standing(
        leave_type,
        hire_date,
        entitled,
        carry_in,
        requests,
        from_year,
        date(from_year, 12, 31),
        country,
    )
    days = min(max(year_end.available, ZERO), Decimal(leave_type.carry_over_cap))
    expires = first_of_month_after(date(from_year + 1, 1, 1), leave_type.carry_over_expiry_months)
    return Carry(days=days, expires=expires)


def relied_on(
    leave_type: LeaveType,
    hire_date: date,
    entitled: Decimal,
    requests: Sequence[LeaveRequest],
    year: int,
    country: str,
) -> Decimal:
    """Carried-over days that `year`'s open requests count on, at most the type's cap.

    A request is judged (and judged again on approval) against what the year will have
    accrued by its start plus the usable carry, less all the year's open requests; this
    is the smallest carry that keeps every one of those checks whole.
    """
    if not requests:
        return ZERO
    expires = first_of_month_after(date(year, 1, 1), leave_type.carry_over_expiry_months)
    total = sum((r.days for r in requests), ZERO)
    # After the expiry the carry counts only as far as it was spent before it.
    spent_before = sum((days_before(r, expires, country) for r in requests), ZERO)
    need = ZERO
    for start in {r.start_date for r in requests}:
        short = total - accrued(leave_type, hire_date, entitled, year, start)
        if start >= expires:
            short = min(short, spent_before)
        need = max(need, short)
    return min(need, Decimal(leave_type.carry_over_cap))
