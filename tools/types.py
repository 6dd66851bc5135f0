"""Argument types every tool shares: one rule bounds every date, month and year."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST = date(1970, 1, 1)
LATEST = date(2100, 12, 31)
# The years EARLIEST..LATEST as a pattern, so a pattern alone bounds a month or a period.
YEAR_PATTERN = r"(19[7-9][0-9]|20[0-9][0-9]|2100)"
MONTH_PATTERN = rf"^{YEAR_PATTERN}-(0[1-9]|1[0-2])$"


def _within_bounds(day: date) -> date:
    # Far dates mean a typing slip, and date arithmetic on them overflows (9999-12-31 + 1).
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return day


Day = Annotated[
    date,
    AfterValidator(_within_bounds),
    Field(
        json_schema_extra={
            "formatMinimum": EARLIEST.isoformat(),
            "formatMaximum": LATEST.isoformat(),
        }
    ),
]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2026-11"])]
Year = Annotated[int, Field(ge=EARLIEST.year, le=LATEST.year)]
