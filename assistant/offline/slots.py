"""Slots of everyday requests: leave types, reasons, amounts, periods, other people.

Deterministic pieces the offline model's understanding (`nlu`) fills its tool
arguments with, once the intent is known.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Any

from assistant.offline.dates import resolve_month
from assistant.offline.text import has_any, phrase_at

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
    digits = match.group(0).replace(",", "").replace(" ", "")
    return digits


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


# ------------------------------------------------------------------ preferences

#: Channel words, in the order they are tried ("ujumbe mfupi" is an SMS).
NOTIFY_CHANNELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("whatsapp", ("whatsapp", "whats app", "wasap", "watsap", "wa")),
    ("telegram", ("telegram", "tg")),
    ("email", ("email", "e-mail", "mail", "barua pepe", "inbox")),
    ("sms", ("sms", "text message", "text messages", "texts", "ujumbe mfupi", "meseji", "sms's")),
    ("web", ("in-app", "in app", "the app", "web", "website", "browser", "tovuti")),
)  # fmt: skip

#: The reminders a person may turn off for themselves, and the words that name them.
REMINDERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mood_invitation", ("mood", "moods", "wellness", "check in", "check-in", "checkin",
                         "hisia", "hali yangu", "ninavyojisikia", "feeling", "feelings")),
    ("clock_out_reminder", ("clock out", "clock-out", "clockout", "kutoka", "signing out",
                            "sign out", "kutoka kazini")),
    ("midday_check", ("midday", "mid day", "absent", "absence", "mchana", "sijafika",
                      "not clocked in", "haujaingia")),
    ("late_digest", ("late", "lateness", "digest", "waliochelewa", "kuchelewa", "latecomers")),
)  # fmt: skip
_ALL_REMINDERS = ("all reminders", "all the reminders", "every reminder", "any reminders",
                  "all notifications", "all automatic", "vikumbusho vyote", "reminders zote",
                  "zote")  # fmt: skip

_SW_HOURS = {"moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7,
             "nane": 8, "tisa": 9, "kumi": 10, "kumi na moja": 11, "kumi na mbili": 12}  # fmt: skip
_SW_HOUR_WORD = "|".join(sorted(_SW_HOURS, key=len, reverse=True))
#: "9pm", "9:30 pm", "21:00", "saa tatu usiku", "saa 3 usiku", "saa kumi na moja jioni".
_TIME_OF_DAY = re.compile(
    r"\bsaa\s+(?P<sw>" + _SW_HOUR_WORD + r"|\d{1,2})(?:[:.](?P<swmin>\d{2}))?"
    r"(?:\s+(?:za\s+|ya\s+)?(?P<part>asubuhi|mchana|jioni|usiku))?\b"
    r"|\b(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)"
    r"|\b(?P<h24>[01]?\d|2[0-3])[:.h](?P<m24>[0-5]\d)\b"
    r"|\b(?P<word>midnight|noon|usiku wa manane)\b"
)
_RANGE_CUE = re.compile(
    r"\b(?:between|from|to|till|until|and|kati|kuanzia|toka|tangu|hadi|mpaka|na)\b|-"
)
_AFTER = re.compile(r"\b(?:after|past|from|baada\s+ya|kuanzia|kutoka)\s+")
_BEFORE = re.compile(r"\b(?:before|until|till|kabla\s+ya|mpaka|hadi)\s+")
#: Quiet hours from only one end: the other is the usual night.
DEFAULT_QUIET = (time(21, 0), time(7, 0))


def _swahili_clock(hour: int, minute: int, part: str | None) -> time | None:
    """East African time ("saa tatu" is 9 o'clock) to the 24-hour clock."""
    if not 1 <= hour <= 12:
        return None
    western = (hour + 6) % 12 or 12  # saa moja -> 7, saa sita -> 12
    if part in ("jioni", "mchana") and western != 12 and western < 7:
        western += 12  # saa kumi jioni -> 16, saa saba mchana -> 13
    elif part in ("jioni", "usiku") and 7 <= western < 12:
        western += 12  # saa moja jioni -> 19, saa tatu usiku -> 21
    elif part == "usiku" and western == 12:
        western = 0  # saa sita usiku: midnight
    elif part is None and western < 6:
        western += 12  # "saa kumi" without a part: the afternoon
    return time(western % 24, minute)


def _as_time(m: re.Match[str]) -> time | None:
    try:
        if m["sw"]:
            hour = _SW_HOURS.get(m["sw"]) or int(m["sw"])
            return _swahili_clock(hour, int(m["swmin"] or 0), m["part"])
        if m["h12"]:
            hour = int(m["h12"])
            if not 1 <= hour <= 12:
                return None
            pm = m["ampm"].startswith("p")
            return time(hour % 12 + (12 if pm else 0), int(m["m12"] or 0))
        if m["h24"]:
            return time(int(m["h24"]), int(m["m24"]))
    except ValueError:
        return None
    return time(12, 0) if m["word"] == "noon" else time(0, 0)


def time_of_day(text: str) -> time | None:
    """The first time of day in `text` (already normalised), or None."""
    m = _TIME_OF_DAY.search(text)
    return _as_time(m) if m is not None else None


def quiet_hours(norm: str) -> tuple[time, time] | None:
    """The quiet hours a message sets: "nothing between 8pm and 6:30am", "don't text me after
    9pm" (until 07:00), "usinitumie kabla ya saa moja asubuhi" (from 21:00)."""
    found = list(_TIME_OF_DAY.finditer(norm))
    if len(found) >= 2 and _RANGE_CUE.search(norm[found[0].end() : found[1].start()]):
        start, end = _as_time(found[0]), _as_time(found[1])
        if start is not None and end is not None and start != end:
            return start, end
    for cue, default in ((_AFTER, 1), (_BEFORE, 0)):
        for m in cue.finditer(norm):
            said = _TIME_OF_DAY.match(norm, m.end())
            if said is None or (t := _as_time(said)) is None:
                continue
            other = DEFAULT_QUIET[default]
            if other == t:
                other = time(6, 0) if default else time(22, 0)
            return (t, other) if default else (other, t)
    return None


_NOT_BY = re.compile(r"\b(?:no|not|without|bila|stop|acha|usinitumie)\s+(?:\w+\s+)?$")


def notify_channel(words: list[str]) -> str | None:
    """The notification channel a message names, if exactly one and not refused ("no sms
    after 8pm" is about quiet hours, not a channel)."""
    named = []
    for channel, said in NOTIFY_CHANNELS:
        for phrase in said:
            at = phrase_at(words, phrase)
            if at is not None and not _NOT_BY.search(" ".join(words[:at]) + " "):
                named.append(channel)
                break
    return named[0] if len(named) == 1 else None


def reminders_named(words: list[str]) -> list[str]:
    """The reminders a message names; every one of them for "all reminders"."""
    if has_any(words, _ALL_REMINDERS):
        return [name for name, _ in REMINDERS]
    return [name for name, said in REMINDERS if has_any(words, said)]
