"""Dates in everyday English and Swahili: single days, ranges, weeks and months.

The common forms ("kesho", "next Monday to Friday", "tarehe 1 hadi 5 Desemba") are
parsed here directly, which is fast and predictable; anything else after a word such
as "on" or "from" goes to `dateparser` (English and Swahili, future dates preferred).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january januari",
        "feb february februari",
        "mar march machi",
        "apr april aprili",
        "may mei",
        "jun june juni",
        "jul july julai",
        "aug august agosti",
        "sep sept september septemba",
        "oct october oktoba",
        "nov november novemba",
        "dec december desemba disemba",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "monday mon jumatatu",
        "tuesday tue tues jumanne",
        "wednesday wed jumatano",
        "thursday thu thur thurs alhamisi",
        "friday fri ijumaa",
        "saturday sat jumamosi",
        "sunday sun jumapili",
    )
):
    for _name in _names.split():
        WEEKDAYS[_name] = _number

_MONTH = "(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:,? (?P<{}>20\d\d))?"

#: One date, as written; each alternative has its own named groups.
_SINGLE = re.compile(
    r"\b(?:"
    r"(?P<iso>20\d\d-\d\d-\d\d)"
    r"|(?P<dmy_d>\d{1,2})/(?P<dmy_m>\d{1,2})(?:/(?P<dmy_y>20\d\d))?"
    r"|(?:tarehe )?(?P<dm_d>\d{1,2})"
    + _ORD
    + r" (?:of )?"
    + _MONTH.format("dm_m")
    + _YEAR.format("dm_y")
    + r"|"
    + _MONTH.format("md_m")
    + r" (?:tarehe )?(?P<md_d>\d{1,2})"
    + _ORD
    + r"(?!\d)"
    + _YEAR.format("md_y")
    + r"|(?P<dat>day after tomorrow|keshokutwa|kesho kutwa)"
    r"|(?P<today>today|leo)"
    r"|(?P<tomorrow>tomorrow|tmrw|tomorow|kesho)"
    r"|(?:(?P<wd_pre>next|this|coming|on) )?(?P<wd>"
    + _WEEKDAY
    + r")(?: (?P<wd_post>ijayo|hii|inayokuja))?"
    r"|tarehe (?P<t_d>\d{1,2})" + _ORD + r"(?! ?(?:-|to|hadi|mpaka|until|till) ?\d)"
    r")\b"
)

#: "1 to 5 December", "tarehe 1 hadi 5 Desemba", "1-5 Dec 2026".
_DAY_RANGE = re.compile(
    r"\b(?:tarehe )?(?P<d1>\d{1,2})" + _ORD + r" ?(?:-|to|until|till|through|thru|hadi|mpaka)"
    r" ?(?:tarehe )?(?P<d2>\d{1,2})"
    + _ORD
    + r" (?:of )?"
    + _MONTH.format("m")
    + _YEAR.format("y")
    + r"\b"
)
#: "December 1 to 5", "Desemba 1-5".
_MONTH_DAY_RANGE = re.compile(
    r"\b"
    + _MONTH.format("m")
    + r" (?P<d1>\d{1,2})"
    + _ORD
    + r" ?(?:-|to|until|till|through|hadi|mpaka)"
    r" ?(?P<d2>\d{1,2})" + _ORD + _YEAR.format("y") + r"\b"
)
#: "tarehe 1 hadi 5" without a month.
_BARE_DAY_RANGE = re.compile(
    r"\btarehe (?P<d1>\d{1,2})"
    + _ORD
    + r" ?(?:-|to|hadi|mpaka|until|till) ?(?:tarehe )?(?P<d2>\d{1,2})"
    + _ORD
    + r"\b"
)
_RANGE_GAP = re.compile(r"^ ?(?:-|to|until|till|through|thru|hadi|mpaka|and|na)(?: tarehe)? ?$")
_NEXT_WEEK = re.compile(r"\b(?:next week|the coming week|wiki ijayo|juma lijalo)\b")
_THIS_WEEK = re.compile(r"\b(?:this week|wiki hii|juma hili)\b")
_DURATION = re.compile(
    r"\b(?:for )?(?P<n>\d{1,2}) (?:working |work )?days?\b|\bsiku (?P<sn>\d{1,2})\b"
)
_FALLBACK_LEAD = re.compile(
    r"\b(?:on|in|from|starting|start|kuanzia|tarehe|siku ya)\s+(?P<rest>.+)$"
)


@dataclass(frozen=True, slots=True)
class Span:
    """An inclusive range of days."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    kind: str
    match: re.Match[str]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _future_day(month: int, day: int, year: int | None, not_before: date) -> date | None:
    """The day in `year`, or the first such day on or after `not_before`."""
    if year is not None:
        return _safe_date(year, month, day)
    found = _safe_date(not_before.year, month, day)
    if found is not None and found >= not_before:
        return found
    return _safe_date(not_before.year + 1, month, day)


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _resolve(m: re.Match[str], today: date, anchor: date | None) -> date | None:
    """One mention as a date. `anchor` is the range's start when this is its end."""
    base = anchor or today
    g = m.groupdict()
    if g["iso"]:
        try:
            return date.fromisoformat(g["iso"])
        except ValueError:
            return None
    if g["dmy_d"]:
        year = int(g["dmy_y"]) if g["dmy_y"] else None
        return _future_day(int(g["dmy_m"]), int(g["dmy_d"]), year, base)
    if g["dm_d"]:
        year = int(g["dm_y"]) if g["dm_y"] else None
        return _future_day(MONTHS[g["dm_m"]], int(g["dm_d"]), year, base)
    if g["md_d"]:
        year = int(g["md_y"]) if g["md_y"] else None
        return _future_day(MONTHS[g["md_m"]], int(g["md_d"]), year, base)
    if g["dat"]:
        return today + timedelta(days=2)
    if g["today"]:
        return today
    if g["tomorrow"]:
        return today + timedelta(days=1)
    if g["wd"]:
        weekday = WEEKDAYS[g["wd"]]
        if anchor is not None:
            # "Monday to Friday": the end is the first such day from the start on.
            return _weekday_on_or_after(anchor, weekday)
        if g["wd_pre"] == "next" or g["wd_post"] in ("ijayo", "inayokuja"):
            # "next Friday" is the Friday of next week.
            next_monday = today + timedelta(days=7 - today.weekday())
            return next_monday + timedelta(days=weekday)
        if g["wd_pre"] == "this" or g["wd_post"] == "hii":
            return _weekday_on_or_after(today, weekday)
        return _weekday_on_or_after(today + timedelta(days=1), weekday)
    if g["t_d"]:
        day = int(g["t_d"])
        found = _safe_date(base.year, base.month, day)
        if found is not None and found >= base:
            return found
        nxt = (base.replace(day=1) + timedelta(days=32)).replace(day=1)
        return _safe_date(nxt.year, nxt.month, day)
    return None


def _add_working_days(start: date, count: int) -> date:
    """The last day of `count` working days (Monday to Friday) starting at `start`."""
    day, left = start, count - 1
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _mentions(text: str) -> list[_Mention]:
    found = []
    for m in _SINGLE.finditer(text):
        kind = next(k for k, v in m.groupdict().items() if v and k not in ("wd_pre", "wd_post"))
        found.append(_Mention(m.start(), m.end(), kind, m))
    return found


def _range_from(m: re.Match[str], today: date) -> Span | None:
    month = MONTHS[m["m"]]
    year = int(m["y"]) if m["y"] else None
    start = _future_day(month, int(m["d1"]), year, today)
    if start is None:
        return None
    end = _future_day(month, int(m["d2"]), start.year, start) or None
    if end is None or end < start:
        return None
    return Span(start, end)


def resolve_span(text: str, today: date) -> Span | None:
    """The days a normalised request speaks of, or None when it names no date."""
    for pattern in (_DAY_RANGE, _MONTH_DAY_RANGE):
        m = pattern.search(text)
        if m:
            span = _range_from(m, today)
            if span:
                return span
    m = _BARE_DAY_RANGE.search(text)
    if m:
        start = _resolve(_SINGLE.search(f"tarehe {m['d1']}"), today, None)  # type: ignore[arg-type]
        if start is not None:
            end = _safe_date(start.year, start.month, int(m["d2"]))
            if end is not None and end >= start:
                return Span(start, end)
    if _NEXT_WEEK.search(text):
        monday = today + timedelta(days=7 - today.weekday())
        return Span(monday, monday + timedelta(days=4))
    if _THIS_WEEK.search(text):
        friday = today + timedelta(days=4 - today.weekday())
        return Span(today, max(today, friday))

    mentions = _mentions(text)
    if not mentions:
        single = _fallback(text, today)
        return Span(single, single) if single else None
    first = _resolve(mentions[0].match, today, None)
    if first is None:
        return None
    for second in mentions[1:2]:
        gap = text[mentions[0].end : second.start]
        if _RANGE_GAP.match(gap):
            end = _resolve(second.match, today, first)
            if end is not None and end >= first:
                return Span(first, end)
    duration = _DURATION.search(text)
    if duration:
        count = int(duration["n"] or duration["sn"])
        if 1 <= count <= 60:
            return Span(first, _add_working_days(first, count))
    return Span(first, first)


def _fallback(text: str, today: date) -> date | None:
    m = _FALLBACK_LEAD.search(text)
    if not m:
        return None
    words = m["rest"].split()[:4]
    while words:
        found = _dateparser(" ".join(words), today)
        if found is not None:
            return found
        words.pop()
    return None


@lru_cache(maxsize=256)
def _dateparser(phrase: str, today: date) -> date | None:
    if not re.search(r"[a-z0-9]", phrase):
        return None
    import dateparser  # loaded on first need: it takes a while to import

    parsed = dateparser.parse(
        phrase,
        languages=["en", "sw"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        },
    )
    return parsed.date() if parsed else None


_LAST_MONTH = re.compile(r"\b(?:last month|previous month|mwezi uliopita|mwezi jana)\b")
_THIS_MONTH = re.compile(r"\b(?:this month|current month|mwezi huu)\b")
_MONTH_ONLY = re.compile(r"\b" + _MONTH.format("m") + r"(?: (?P<y>20\d\d))?\b")
_YEAR_MONTH = re.compile(r"\b(?P<y>20\d\d)-(?P<m>0[1-9]|1[0-2])\b")


def resolve_month(text: str, today: date, *, past: bool = True) -> tuple[int, int] | None:
    """(year, month) a text names: "October" is the latest October not after this month."""
    m = _YEAR_MONTH.search(text)
    if m:
        return int(m["y"]), int(m["m"])
    if _LAST_MONTH.search(text):
        prev = today.replace(day=1) - timedelta(days=1)
        return prev.year, prev.month
    if _THIS_MONTH.search(text):
        return today.year, today.month
    for m in _MONTH_ONLY.finditer(text):
        name = m["m"]
        # "may" and "mar" are also plain words; only take them with a year or as a month name.
        if (
            name in ("may", "mar", "sun", "mei")
            and not m["y"]
            and not re.search(
                rf"\b(?:of|for|in|ya|wa|payslip) {name}\b|\b{name} (?:payslip|pay|salary)", text
            )
        ):
            continue
        month = MONTHS[name]
        if m["y"]:
            return int(m["y"]), month
        year = today.year if (month <= today.month or not past) else today.year - 1
        return year, month
    return None
