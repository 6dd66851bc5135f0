"""Working-day arithmetic: weekdays that are not public holidays of the employer's country."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays

from hrcore.errors import Invalid

HALF = Decimal("0.5")


@lru_cache(maxsize=128)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """The public holidays (observed substitutes included) of `country` in `year`."""
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError as exc:
        raise Invalid(f"Unknown country code {country!r}.", code="invalid_country") from exc
    # The calendar grows itself on lookups outside `years`; keep only the year asked for.
    return frozenset(day for day in calendar if day.year == year)


def is_working_day(day: date, *, country: str) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and day not in holiday_dates(country, day.year)


def working_days(start: date, end: date, *, country: str, half_day: bool = False) -> Decimal:
    """Working days from `start` to `end` inclusive; a half day counts 0.5 and is a single day."""
    if end < start:
        raise Invalid("The end date is before the start date.", code="invalid_dates")
    if half_day:
        if start != end:
            raise Invalid(
                "A half day must start and end on the same date.", code="invalid_half_day"
            )
        return HALF if is_working_day(start, country=country) else Decimal(0)
    count = 0
    day = start
    while day <= end:
        if is_working_day(day, country=country):
            count += 1
        day += timedelta(days=1)
    return Decimal(count)


def leave_days(
    start: date, end: date, *, country: str, half_day: bool = False, calendar_days: bool = False
) -> Decimal:
    """Days a leave from `start` to `end` uses: working days, or calendar days for types
    the law counts that way (maternity)."""
    if calendar_days and not half_day:
        if end < start:
            raise Invalid("The end date is before the start date.", code="invalid_dates")
        return Decimal((end - start).days + 1)
    return working_days(start, end, country=country, half_day=half_day)
