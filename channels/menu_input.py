"""What a caller types on a keypad, read for the menu: numbers, dates, days of leave, and
the choices an argument's own type allows."""

from __future__ import annotations

import re
import typing
from datetime import date, timedelta
from typing import Any, Literal

from annotated_types import Ge, Le, MaxLen, MinLen

from hrcore.calendar import is_working_day
from tools.registry import ToolSpec

#: Dates without a year that lie further back than this are next year's.
LOOK_BACK = timedelta(days=31)
_DATE = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})(?:[/.\- ](\d{2}|\d{4}))?")


def typed_number(entry: str) -> int | None:
    """A small whole number typed as digits, else None."""
    return int(entry) if entry.isdigit() and len(entry) <= 4 else None


def parse_day(entry: str, today: date) -> date | None:
    """A day typed as DDMM, DDMMYY, DDMMYYYY or D/M[/YY[YY]]; None when it is not one."""
    entry = entry.strip()
    if entry.isdigit() and len(entry) in (4, 6, 8):
        day, month, year = entry[:2], entry[2:4], entry[4:] or None
    elif match := _DATE.fullmatch(entry):
        day, month, year = match[1], match[2], match[3]
    else:
        return None
    try:
        if year is None:
            found = date(today.year, int(month), int(day))
            return found if found >= today - LOOK_BACK else found.replace(year=today.year + 1)
        full = int(year) + (2000 if len(year) == 2 else 0)
        return date(full, int(month), int(day)) if 1970 <= full <= 2100 else None
    except ValueError:
        return None


def last_day(start: date, days: int, *, country: str, calendar_days: bool) -> date:
    """The day `days` days of leave from `start` end on (working days unless calendar)."""
    if calendar_days:
        return start + timedelta(days=days - 1)
    day, counted = start, 0
    while True:
        if is_working_day(day, country=country):
            counted += 1
            if counted == days:
                return day
        day += timedelta(days=1)


def bounds(spec: ToolSpec, arg: str) -> tuple[int | None, int | None]:
    """The argument's own bounds: ge/le for numbers, min/max length for text."""
    low = high = None
    for item in spec.args_model.model_fields[arg].metadata:
        if isinstance(item, Ge):
            low = item.ge
        elif isinstance(item, MinLen):
            low = item.min_length
        elif isinstance(item, Le):
            high = item.le
        elif isinstance(item, MaxLen):
            high = item.max_length
    return low, high  # type: ignore[return-value]  # annotated-types types bounds as protocols


def own_values(spec: ToolSpec, arg: str) -> list[Any]:
    """The values an argument's type allows: a Literal's, a bool's, or bounded whole numbers."""
    annotation = spec.args_model.model_fields[arg].annotation
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is not Literal and len(options) == 1:
        annotation = options[0]
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    if annotation is bool:
        return [True, False]
    low, high = bounds(spec, arg)
    if annotation is int and low is not None and high is not None and high - low < 20:
        return list(range(low, high + 1))
    raise TypeError(f"{spec.name}.{arg} has no fixed choices: give the step options")
