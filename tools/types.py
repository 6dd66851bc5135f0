"""Types every tool shares: one rule bounds every date, month and year, and writes a time."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, WithJsonSchema

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

#: A local time of day as answers give it: "20:00".
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _to_the_minute(moment: time) -> time:
    # Quiet hours and schedules are kept to the minute; seconds would only surprise.
    return moment.replace(second=0, microsecond=0)


def _clock(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


#: A local time of day (quiet hours, an automation's hour): read as any time, kept to the
#: minute, and answered as "HH:MM", which is what the published schema promises.
ClockTime = Annotated[
    time,
    AfterValidator(_to_the_minute),
    PlainSerializer(_clock, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": CLOCK_PATTERN, "examples": ["20:00"]},
        mode="serialization",
    ),
]
