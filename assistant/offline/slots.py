"""Slots of everyday requests: leave types, reasons, amounts, periods, other people.

Deterministic pieces the offline model's understanding (`nlu`) fills its tool
arguments with, once the intent is known.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from assistant.offline.dates import resolve_month
from assistant.offline.text import has_any

ISSUE_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("harassment", ("harassment", "harass", "harassed", "harassing", "bully", "bullying",
                    "unyanyasaji", "kunyanyaswa", "ananyanyasa", "ananisumbua",
                    "unyanyasaji wa kingono",
                    "sexual", "touched", "threatened", "vitisho", "matusi", "insult", "insults")),
    ("discrimination", ("discrimination", "discriminated", "racism", "racist", "tribalism",
                        "ubaguzi", "ukabila", "kubaguliwa", "wananibagua")),
    ("safety", ("safety", "unsafe", "danger", "dangerous", "injury", "injured", "accident",
                "fire", "usalama", "hatari", "ajali", "kuumia", "nimeumia", "moto")),
    ("pay", ("pay", "salary", "wages", "underpaid", "overtime pay", "mshahara", "malipo",
             "ujira", "hawajanilipa", "sijalipwa", "not paid")),
    ("workload", ("workload", "overworked", "too much work", "long hours", "overtime", "burnout",
                  "kazi nyingi", "mzigo wa kazi", "masaa mengi", "saa nyingi")),
    ("facilities", ("toilet", "toilets", "water", "light", "lights", "canteen", "kitchen",
                    "equipment", "broken", "facilities", "choo", "vyoo", "maji", "taa",
                    "vifaa", "imeharibika", "mashine")),
)  # fmt: skip


LEAVE_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("paternity", ("paternity", "likizo ya baba", "uzazi kwa baba", "uzazi wa baba", "ya ubaba")),
    ("maternity", ("maternity", "uzazi", "kujifungua", "ya mama")),
    ("compassionate", ("compassionate", "bereavement", "funeral", "msiba", "mazishi", "kifo")),
    ("unpaid", ("unpaid", "without pay", "no pay", "bila malipo", "bila mshahara")),
    ("sick", ("sick", "ill", "unwell", "ugonjwa", "mgonjwa", "naumwa", "sijisikii vizuri")),
    ("annual", ("annual", "vacation", "holiday", "likizo ya mwaka", "ya mwaka")),
)  # fmt: skip


_REASON = re.compile(
    r"(?:\bbecause\b|\bsince\b|\breason:?|\bkwa sababu\b|\bsababu:?|\bkwani\b|:| - )\s*(?P<r>.+)$",
    re.I,
)


_PERIOD = re.compile(
    r"\b(?P<y>20\d\d)(?:[- ]?(?P<hq>[hq][1-4])|-(?P<m>0?[1-9]|1[0-2]))?\b"
    r"|\b(?P<hq2>[hq][1-4])[ -]?(?P<y2>20\d\d)\b"
)


# "answer case 3: yes, you may" · "reply to case 3 - ..." · "jibu kesi 3: ..."
ANSWER_CASE = re.compile(
    r"^\s*(?:answer|reply to|respond to|jibu)\s+(?:hr\s+)?(?:case|kesi)\s*#?(\d+)"
    r"\s*[:\-–,]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


# 120,000 · 120 000 · 120000 · 120k · 85.5k: a monthly amount, not a request number.
_AMOUNT = re.compile(
    r"(?<![\w.,])(?:(\d{1,3}(?:[, ]\d{3})+|\d{4,})(?:\.\d{1,2})?|(\d+(?:\.\d+)?)\s*k)(?![\w])",
    re.IGNORECASE,
)


def gross_amount(text: str) -> str | None:
    """The monthly gross named in a "what would my net be on 120,000?" question."""
    match = _AMOUNT.search(text)
    if match is None:
        return None
    if match.group(2) is not None:
        amount = Decimal(match.group(2)) * 1000
        whole = amount.to_integral_value()
        return str(whole if amount == whole else amount.quantize(Decimal("0.01")))
    whole = match.group(0).replace(",", "").replace(" ", "")
    return whole


def reason_given(text: str) -> str | None:
    m = _REASON.search(text)
    if not m:
        return None
    reason = m["r"].strip().strip(".").strip()
    return reason[:1000] or None


def leave_type_named(words: list[str]) -> str | None:
    # Exact words first: "maternity" is one typo away from "paternity".
    padded = f" {' '.join(words)} "
    for code, phrases in LEAVE_TYPES:
        if any(f" {phrase} " in padded for phrase in phrases):
            return code
    for code, phrases in LEAVE_TYPES:
        if has_any(words, phrases):
            return code
    return None


def leave_reason(text: str) -> str | None:
    m = re.search(
        r"(?:\bbecause\b|\bfor a\b|\bkwa sababu\b|\bsababu\b|\breason:?)\s*(?P<r>.+)$", text, re.I
    )
    if not m:
        return None
    return m["r"].strip().strip(".")[:1000] or None


_NAME = r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"


_PAYSLIP_WORD = r"(?:pay\s?slips?|salary(?:\s+slips?)?|pay|mshahara)"


_OTHERS_PAYSLIP = (
    re.compile(rf"\b{_NAME}['’]s\s+(?:\w+\s+){{0,2}}?{_PAYSLIP_WORD}\b"),
    re.compile(rf"\b{_PAYSLIP_WORD}\s+(?:of|for|ya|wa)\s+{_NAME}\b"),
)


# Capitalised words that follow "payslip of" without naming a person.
_NOT_NAMES = frozenset(
    {"my", "me", "mine", "the", "this", "last", "next", "yangu", "mwezi", "all", "i", "hr"}
)


def other_person(text: str) -> str | None:
    """The person whose payslip `text` asks for, when it names one ("Brian's payslip")."""
    for pattern in _OTHERS_PAYSLIP:
        for m in pattern.finditer(text):
            name = m["name"]
            first = name.split()[0].lower()
            if first not in _NOT_NAMES and resolve_month(first, date(2000, 1, 1)) is None:
                return name
    return None


def question_for_hr(text: str) -> str:
    # Keep what the user wants asked; the hand-off phrase alone is not a question.
    m = re.search(
        r"(?:hr|person|human|mtu)\s*(?::|-|about|kuhusu|that|kwamba)\s*(?P<q>.+)$", text, re.I
    )
    question = m["q"].strip() if m and len(m["q"].strip()) >= 3 else text.strip()
    return question[:1000]


def review_period(norm: str) -> str | None:
    m = _PERIOD.search(norm)
    if not m:
        return None
    if m["y2"]:
        return f"{m['y2']}-{m['hq2'].upper()}"
    if m["hq"]:
        return f"{m['y']}-{m['hq'].upper()}"
    if m["m"]:
        return f"{m['y']}-{int(m['m']):02d}"
    return m["y"]


def attendance_window(norm: str, today: date) -> dict[str, Any]:
    from datetime import timedelta

    if re.search(r"\b(?:this week|wiki hii)\b", norm):
        start = today - timedelta(days=today.weekday())
        return {"start": start.isoformat(), "end": today.isoformat()}
    if re.search(r"\b(?:last week|wiki iliyopita)\b", norm):
        start = today - timedelta(days=today.weekday() + 7)
        return {"start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat()}
    if ym := resolve_month(norm, today):
        first = date(ym[0], ym[1], 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return {"start": first.isoformat(), "end": min(last, today).isoformat()}
    return {}
