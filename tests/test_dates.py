"""How dates and names read to people: the shapes every path shares."""

from __future__ import annotations

from datetime import date

import pytest

from hrcore import dates
from hrcore.people.service import first_name


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Mon 7 Dec"), ("sw", "Jumatatu 7 Des"), ("fr", "Mon 7 Dec")],
)
def test_day_label_by_language(language: str, expected: str) -> None:
    assert dates.day_label(date(2026, 12, 7), language) == expected


def test_day_label_has_the_year_only_outside_today_s_year() -> None:
    assert dates.day_label(date(2026, 12, 7), "en", today=date(2026, 1, 1)) == "Mon 7 Dec"
    assert dates.day_label(date(2027, 1, 4), "sw", today=date(2026, 12, 30)) == (
        "Jumatatu 4 Jan 2027"
    )


def test_day_month_month_and_short_forms() -> None:
    day = date(2026, 12, 1)
    assert dates.day_month(day, "en") == "1 December"
    assert dates.day_month(day, "sw", year=True) == "1 Desemba 2026"
    assert dates.month_name(2026, 10, "sw") == "Oktoba 2026"
    assert dates.short_month(2026, 10, "sw") == "Okt 2026"
    assert dates.short_day(date(2026, 11, 2), "en") == "2 Nov"
    assert dates.short_date(date(2024, 3, 15), "en") == "15 Mar 2024"


@pytest.mark.parametrize(
    ("full", "first"),
    [
        ("Amina Hassan", "Amina"),
        ("  John  Kamau ", "John"),
        ("Neema", "Neema"),
        ("", ""),
        (" ", ""),
    ],
)
def test_first_name(full: str, first: str) -> None:
    assert first_name(full) == first
