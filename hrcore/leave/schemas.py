"""Read models of the leave domain."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class BalanceView(BaseModel):
    """One employee's standing on one leave type in one year, as of a date.

    For a type without a limit (unpaid leave) the day counts that depend on an
    entitlement are `None`; taken and pending are still reported.

    `carry_over_projected` says the carry-over is computed from last year's records
    because the year-end roll-over has not written it yet (the roll-over writes the same
    figure). `reserved_for_next_year` is how much of this year's unused leave next year's
    booked requests count on as carry-over; `available` already leaves it out.
    """

    model_config = ConfigDict(frozen=True)

    employee_id: int
    leave_type: str
    name: str
    year: int
    as_of: date
    limited: bool
    entitled: Decimal | None
    accrued: Decimal | None
    carried_over: Decimal | None
    carried_over_usable: Decimal | None
    carry_over_expires_on: date | None
    taken: Decimal
    pending: Decimal
    available: Decimal | None
    carry_over_projected: bool = False
    reserved_for_next_year: Decimal | None = None

    @property
    def carry_usable_until(self) -> date | None:
        """The last day the carried-over days can be used, if they still count on `as_of`."""
        expires = self.carry_over_expires_on
        if not self.carried_over_usable or expires is None or self.as_of >= expires:
            return None
        return expires - timedelta(days=1)
