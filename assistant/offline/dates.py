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
    r"\b(?:tarehe )?(?P<d1>\d{1,2})"
    + _ORD
    + r" ?(?:-|to|until|till|through|thru|hadi|mpaka|and|na|&)"
    r" ?(?:tarehe |the )?(?P<d2>\d{1,2})"
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
#: "tarehe 1 hadi 5", "from the 14th to the 18th" without a month.
_BARE_DAY_RANGE = re.compile(
    r"\b(?:tarehe|from|from the|the) (?P<d1>\d{1,2})"
    + _ORD
    + r" ?(?:-|to|hadi|mpaka|until|till) ?(?:tarehe |the )?(?P<d2>\d{1,2})"
    + _ORD
    + r"\b(?! ?(?:"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r")\b)"
)
_RANGE_GAP = re.compile(r"^ ?(?:-|to|until|till|through|thru|hadi|mpaka|and|na)(?: tarehe)? ?$")
_NEXT_WEEK = re.compile(r"\b(?:next week|the coming week|wiki ijayo|juma lijalo)\b")
_THIS_WEEK = re.compile(r"\b(?:this week|wiki hii|juma hili)\b")
#: Counts written as words, in English and Swahili ("two weeks", "siku tatu").
NUMBER_WORDS = {
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "moja": 1, "mbili": 2, "tatu": 3,
    "nne": 4, "tano": 5, "sita": 6, "saba": 7, "nane": 8, "tisa": 9, "kumi": 10,
}  # fmt: skip
_COUNT = r"(?P<{}>\d{{1,2}}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_DURATION = re.compile(
    r"\b(?:for )?" + _COUNT.format("n") + r" (?:working |work |full )?(?P<unit>days?|weeks?)\b"
    r"|\b(?P<sunit>siku|wiki) " + _COUNT.format("sn") + r"\b"
)
_FALLBACK_LEAD = re.compile(
    r"\b(?:on|in|from|starting|start|kuanzia|tarehe|siku ya)\s+(?P<rest>.+)$"
)


_START_ANCHOR = re.compile(r"\b(?:starting|start|from|beginning|kuanzia|kuanza|tangu)\b")
_WEEKDAY_BEFORE_DAY = re.compile(r"\b(?:" + _WEEKDAY + r")\s+(?=\d)")
_NEXT_MONTH = re.compile(r"\b(?:next month|mwezi ujao|mwezi unaokuja|mwezi ujayo)\b")
_BARE_DAY = re.compile(r"\btarehe (?P<d>\d{1,2})\b")
# "between Christmas and New Year", "kati ya Krismasi na Mwaka Mpya": the days between.
_BETWEEN_HOLIDAYS = re.compile(
    r"\b(?:between|kati ya) (?:christmas|xmas|krismasi|krismas) (?:and|na) "
    r"(?:new year|new year's|mwaka mpya)\b"
)
_CHRISTMAS = re.compile(r"\b(?:christmas|xmas|krismasi|krismas)(?: day)?\b")


def _NEXT_MONTH_START(today: date) -> date:  # noqa: N802 - reads as a date expression
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def _ym(day: date) -> tuple[int, int]:
    return day.year, day.month


def _holiday_span(text: str, today: date) -> Span | None:
    if _BETWEEN_HOLIDAYS.search(text):
        christmas = date(today.year, 12, 25)
        if christmas < today:
            christmas = date(today.year + 1, 12, 25)
        # Boxing Day is a public holiday too: the days between start after it, on a weekday.
        start = christmas + timedelta(days=2)
        while start.weekday() >= 5:
            start += timedelta(days=1)
        return Span(start, date(christmas.year, 12, 31))
    return None


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
    # "Thursday 10 to Monday 14 December": the numbers carry the dates.
    text = _WEEKDAY_BEFORE_DAY.sub("", text)
    for pattern in (_DAY_RANGE, _MONTH_DAY_RANGE):
        m = pattern.search(text)
        if m:
            span = _range_from(m, today)
            if span:
                return span
    m = _BARE_DAY_RANGE.search(text)
    if m:
        base = _NEXT_MONTH_START(today) if _NEXT_MONTH.search(text) else today
        d1_match = _SINGLE.search(f"tarehe {m['d1']}")
        start = _resolve(d1_match, base, None) if d1_match else None
        if start is not None:
            end = _safe_date(start.year, start.month, int(m["d2"]))
            if end is not None and end >= start:
                return Span(start, end)
    if (holidays := _holiday_span(text, today)) is not None:
        return holidays
    mentions = _mentions(text)
    if _NEXT_WEEK.search(text):
        monday = today + timedelta(days=7 - today.weekday())
        weekdays = [x for x in mentions if x.kind == "wd"]
        if weekdays:
            # "Alhamisi na Ijumaa wiki ijayo": those days of next week, not the whole week.
            days = sorted(monday + timedelta(days=WEEKDAYS[x.match["wd"]]) for x in weekdays)
            return Span(days[0], days[-1])
        return _with_duration(text, monday) or Span(monday, monday + timedelta(days=4))
    if _THIS_WEEK.search(text):
        weekdays = [x for x in mentions if x.kind == "wd"]
        if weekdays:
            monday = today - timedelta(days=today.weekday())
            days = sorted(monday + timedelta(days=WEEKDAYS[x.match["wd"]]) for x in weekdays)
            return Span(days[0], days[-1])
        friday = today + timedelta(days=4 - today.weekday())
        return Span(today, max(today, friday))
    # "Friday 4 December": the date says more than the weekday.
    exact = [x for x in mentions if x.kind in ("iso", "dmy_d", "dm_d", "md_d")]
    if exact and any(x.kind == "wd" for x in mentions):
        mentions = [x for x in mentions if x.kind != "wd"]

    if not mentions:
        single = _fallback(text, today)
        if single is None and _NEXT_MONTH.search(text) and (m := _BARE_DAY.search(text)):
            single = _safe_date(*_ym(_NEXT_MONTH_START(today)), int(m["d"]))
        return (_with_duration(text, single) or Span(single, single)) if single else None
    # "Delivered on Saturday, leave from Monday": the day after "from" starts the leave.
    if anchor := _START_ANCHOR.search(text):
        later = [x for x in mentions if x.start >= anchor.end()]
        if later and later[0] is not mentions[0]:
            mentions = mentions[mentions.index(later[0]) :]
    first = _resolve(mentions[0].match, today, None)
    if first is None:
        return None
    for second in mentions[1:2]:
        gap = text[mentions[0].end : second.start]
        if _RANGE_GAP.match(gap):
            end = _resolve(second.match, today, first)
            if end is not None and end >= first:
                return Span(first, end)
    if (span := _with_duration(text, first)) is not None:
        return span
    return Span(first, first)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _with_duration(text: str, first: date) -> Span | None:
    """`first` and the duration the text gives ("for 3 days", "two weeks", "siku tatu")."""
    m = _DURATION.search(text)
    if m is None:
        return None
    count = _count(m["n"] or m["sn"])
    weeks = (m["unit"] or "").startswith("week") or m["sunit"] == "wiki"
    if weeks:
        if not 1 <= count <= 26:
            return None
        end = first + timedelta(days=7 * count - 1)
        # "Two weeks from Monday" ends on the Friday: the weekend after is not leave.
        while end.weekday() >= 5 and end > first:
            end -= timedelta(days=1)
        return Span(first, end)
    if 1 <= count <= 60:
        return Span(first, _add_working_days(first, count))
    return None


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


_NUMERIC_DAY = re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})\b(?!/)")


def ambiguous_numeric(text: str, today: date) -> tuple[date, date] | None:
    """The two readings of a date like "12/1" (12 January or 1 December), when both exist."""
    for m in _NUMERIC_DAY.finditer(text):
        a, b = int(m["a"]), int(m["b"])
        if a == b or not (1 <= a <= 12 and 1 <= b <= 12):
            continue
        day_month = _future_day(b, a, None, today)
        month_day = _future_day(a, b, None, today)
        if day_month is not None and month_day is not None:
            return day_month, month_day
    return None
