"""Dates as people read them, in English and Swahili.

The names of months and days live here once, for every path that shows a date to a
person: reports, notifications, tool summaries, the assistant's replies and the phone
menus. Never `strftime` for these: its names follow the process locale.
"""

from __future__ import annotations

from datetime import date

MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "sw": (
        "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti",
        "Septemba", "Oktoba", "Novemba", "Desemba",
    ),
}  # fmt: skip
SHORT_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "sw": ("Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ago", "Sep", "Okt", "Nov", "Des"),
}
#: Swahili has no short weekday names in common use: the whole word is written.
SHORT_WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "sw": ("Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili"),
}


def _language(language: str) -> str:
    return language if language in MONTHS else "en"


def month_name(year: int, month: int, language: str) -> str:
    """ "October 2026" or "Oktoba 2026"."""
    return f"{MONTHS[_language(language)][month - 1]} {year}"


def short_month(year: int, month: int, language: str) -> str:
    """ "Oct 2026" or "Okt 2026"."""
    return f"{SHORT_MONTHS[_language(language)][month - 1]} {year}"


def short_day(day: date, language: str) -> str:
    """ "2 Nov" or "2 Nov": a week's Monday on an axis."""
    return f"{day.day} {SHORT_MONTHS[_language(language)][day.month - 1]}"


def short_date(day: date, language: str) -> str:
    """ "7 Dec 2026" or "7 Des 2026"."""
    return f"{short_day(day, language)} {day.year}"


def day_month(day: date, language: str, *, year: bool = False) -> str:
    """ "7 December" or "7 Desemba"; with `year`, "7 December 2026"."""
    text = f"{day.day} {MONTHS[_language(language)][day.month - 1]}"
    return f"{text} {day.year}" if year else text


def day_label(day: date, language: str, *, today: date | None = None) -> str:
    """ "Mon 7 Dec" or "Jumatatu 7 Des"; with the year when it is not `today`'s."""
    lang = _language(language)
    text = f"{SHORT_WEEKDAYS[lang][day.weekday()]} {day.day} {SHORT_MONTHS[lang][day.month - 1]}"
    return text if today is None or day.year == today.year else f"{text} {day.year}"
