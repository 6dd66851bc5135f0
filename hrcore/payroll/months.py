"""Payroll months: `YYYY-MM` strings, their names and their working days."""

from __future__ import annotations

import calendar
import re
from datetime import date

from hrcore.calendar import working_days
from hrcore.dates import month_name
from hrcore.errors import Invalid

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


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
    return month_name(first.year, first.month, "en")


def working_days_between(start: date, end: date, country: str) -> int:
    """Working days from `start` to `end` inclusive (0 when `end` is before `start`)."""
    return 0 if end < start else int(working_days(start, end, country=country))
