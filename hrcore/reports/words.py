"""Every word the report charts show people, in English and Swahili: one catalog."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Language = Literal["en", "sw"]
LANGUAGES: tuple[Language, ...] = ("en", "sw")

_TEXTS: dict[str, dict[Language, str]] = {
    "work_title": {"en": "Hours worked, {month}", "sw": "Saa za kazi, {month}"},
    "work_axis": {"en": "Hours worked", "sw": "Saa za kazi"},
    "work_bar": {"en": "{hours} h · {days} d", "sw": "saa {hours} · siku {days}"},
    "work_note": {
        "en": "{people} people · {hours} h in all · {late} late arrivals",
        "sw": "Watu {people} · saa {hours} kwa jumla · kuchelewa mara {late}",
    },
    "work_more": {
        "en": "The {shown} with most hours; {more} more in the CSV report",
        "sw": "{shown} wenye saa nyingi zaidi; {more} zaidi kwenye ripoti ya CSV",
    },
    "nobody": {"en": "No one to report on", "sw": "Hakuna wa kuripoti"},
    "no_hours": {
        "en": "No hours recorded this month",
        "sw": "Hakuna saa za kazi zilizorekodiwa mwezi huu",
    },
    "lateness_title": {
        "en": "Late arrivals, {first} to {last}",
        "sw": "Kuchelewa kufika kazini, {first} hadi {last}",
    },
    "lateness_axis": {"en": "Late arrivals", "sw": "Mara za kuchelewa"},
    "lateness_bar": {"en": "{late} · {share}%", "sw": "{late} · {share}%"},
    "lateness_note": {
        "en": "Bars: late arrivals; labels: count · share of days present",
        "sw": "Nguzo: mara za kuchelewa; namba: idadi · asilimia ya siku za kuhudhuria",
    },
    "wellness_title": {
        "en": "Average mood by week, {first} to {last}",
        "sw": "Wastani wa hali kwa wiki, {first} hadi {last}",
    },
    "wellness_axis": {"en": "Average mood (1–5)", "sw": "Wastani wa hali (1–5)"},
    "wellness_week_axis": {"en": "Week starting", "sw": "Wiki inayoanza"},
    "wellness_note": {
        "en": "Anonymous. Weeks and groups with fewer than {n} people are left out.",
        "sw": "Bila majina. Wiki na vikundi vyenye watu chini ya {n} haviwekwi.",
    },
    "wellness_none": {
        "en": "No week in this period has enough answers to show",
        "sw": "Hakuna wiki katika kipindi hiki yenye majibu ya kutosha kuonyeshwa",
    },
    "whole_organization": {"en": "Whole organization", "sw": "Shirika zima"},
    "small_groups": {"en": "Small or no department", "sw": "Idara ndogo au bila idara"},
    "former_department": {"en": "Former department", "sw": "Idara ya zamani"},
}


def say(key: str, language: Language, **params: object) -> str:
    """The text `key` in `language`, filled with `params`."""
    return _TEXTS[key][language].format(**params)


def number(value: object) -> str:
    """A figure as people write it: 152.5, 160 (no trailing zeros)."""
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def hours(value: Decimal) -> str:
    """Hours on a chart, all to one decimal place so they line up: 200.3, 196.7, 8.0."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
