"""Approved unpaid leave in a period: what payroll prorates a month's pay by."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.calendar import working_days
from hrcore.leave.models import LeaveRequest, LeaveStatus, LeaveType


def unpaid_leave_days(
    session: Session, *, organization_id: int, country: str, first: date, last: date
) -> dict[int, Decimal]:
    """Working days of approved unpaid leave from `first` to `last`, per employee.

    Unpaid leave is leave of a type with `paid=False`; a request running past the period
    counts only its days inside it, and a half day counts 0.5. Employees without any are
    left out. One statement for the whole organization, however many people it has.
    """
    rows = session.execute(
        select(
            LeaveRequest.employee_id,
            LeaveRequest.start_date,
            LeaveRequest.end_date,
            LeaveRequest.half_day,
        )
        .join(LeaveType, LeaveType.id == LeaveRequest.leave_type_id)
        .where(
            LeaveRequest.organization_id == organization_id,
            LeaveRequest.status == LeaveStatus.APPROVED,
            LeaveType.paid.is_(False),
            LeaveRequest.start_date <= last,
            LeaveRequest.end_date >= first,
        )
    )
    days: dict[int, Decimal] = {}
    for employee_id, start, end, half_day in rows:
        # A half day is a single date, so the clipping leaves it as it is.
        taken = working_days(max(start, first), min(end, last), country=country, half_day=half_day)
        days[employee_id] = days.get(employee_id, Decimal(0)) + taken
    return days
