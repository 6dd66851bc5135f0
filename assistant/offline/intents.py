"""Everyday requests in English and Swahili, recognised as a tool and its arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from assistant.offline.conversation import Conversation
from assistant.offline.dates import resolve_month, resolve_span
from assistant.offline.text import has_any, normalize, tokens


@dataclass(frozen=True, slots=True)
class Intent:
    """A tool to call. With `person`, an id must first be found by name via `lookup`."""

    tool: str
    args: dict[str, Any]
    person: str | None = None
    lookup: tuple[str, dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """No tool: a reply from the wording templates, by key, with its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


Understood = Intent | Reply

# ------------------------------------------------------------------ vocabulary

ASK_HR = (
    "talk to hr", "speak to hr", "speak with hr", "talk with hr", "ask hr", "contact hr",
    "pass this to hr", "send this to hr", "forward to hr", "escalate", "talk to a person",
    "talk to someone", "speak to a person", "talk to a human", "speak to a human",
    "real person", "human being", "kuongea na hr", "ongea na hr", "kuzungumza na hr",
    "niunganishe na hr", "wasiliana na hr", "uliza hr", "muulize hr", "waulize hr",
    "mpelekee hr", "wapelekee hr", "kuongea na mtu", "ongea na mtu", "mtu wa hr",
)  # fmt: skip
MONTHLY_REPORT = (
    "monthly report", "work report", "monthly work report", "attendance report",
    "hours worked", "hours this month", "ripoti ya mwezi", "ripoti ya kazi",
    "ripoti ya mahudhurio", "saa za kazi", "masaa ya kazi",
)  # fmt: skip
REPORT_ISSUE = (
    "report", "complaint", "complain", "file a grievance", "grievance", "whistleblow",
    "ripoti", "kuripoti", "naripoti", "nataka kuripoti", "malalamiko", "lalamiko",
    "kulalamika", "nalalamika", "shtaka", "kushtaki",
)  # fmt: skip
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
CANCEL = ("cancel", "withdraw", "call off", "futa", "ghairi", "sitisha", "batilisha", "ondoa")
APPROVE = ("approve", "accept", "okay request", "grant", "kubali", "idhinisha", "ruhusu")
REJECT = ("reject", "decline", "deny", "refuse", "kataa", "usikubali", "kataza")
REQUESTS = (
    "pending", "requests", "leave requests", "approvals", "awaiting", "maombi", "ombi",
    "yanayosubiri", "yanasubiri", "inasubiri", "subiri", "waiting",
)  # fmt: skip
LEAVE = (
    "leave", "off", "day off", "days off", "time off", "vacation", "holiday", "likizo",
    "ruhusa", "half day", "nusu siku", "sick", "mgonjwa", "naumwa", "ugonjwa",
)  # fmt: skip
LEAVE_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("paternity", ("paternity", "likizo ya baba", "uzazi kwa baba", "uzazi wa baba", "ya ubaba")),
    ("maternity", ("maternity", "uzazi", "kujifungua", "ya mama")),
    ("compassionate", ("compassionate", "bereavement", "funeral", "msiba", "mazishi", "kifo")),
    ("unpaid", ("unpaid", "without pay", "no pay", "bila malipo", "bila mshahara")),
    ("sick", ("sick", "ill", "unwell", "ugonjwa", "mgonjwa", "naumwa", "sijisikii vizuri")),
    ("annual", ("annual", "vacation", "holiday", "likizo ya mwaka", "ya mwaka")),
)  # fmt: skip
BALANCE = (
    "balance", "left", "remaining", "remain", "do i have", "have i got", "i have left",
    "how many leave days", "how many days", "salio", "zimebaki", "zilizobaki", "nimebakiwa",
    "imebaki", "nina siku", "siku zangu", "days have i",
)  # fmt: skip
PAYSLIP = (
    "payslip", "pay slip", "payslips", "pay slips", "salary slip", "pay stub", "paystub",
    "hati ya mshahara", "hati za mshahara", "risiti ya mshahara", "slip",
)  # fmt: skip
PAYSLIP_LIST = ("payslips", "pay slips", "all my", "list", "hati za mshahara", "zote", "history")
MOOD = (
    "mood", "feeling", "i feel", "i'm feeling", "im feeling", "i am feeling", "feel",
    "najisikia", "ninajisikia", "hali yangu", "nimechoka", "nina furaha", "nina huzuni",
    "sijisikii", "nimefurahi", "stressed", "mood check",
)  # fmt: skip
MOOD_WORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("terrible", "awful", "horrible", "very bad", "miserable", "depressed", "vibaya sana",
         "mbaya sana", "sana vibaya", "nimechoka sana", "hopeless")),
    (5, ("great", "excellent", "amazing", "awesome", "fantastic", "wonderful", "very good",
         "very happy", "nzuri sana", "vizuri sana", "poa sana", "furaha sana", "safi sana",
         "bomba")),
    (2, ("bad", "not good", "not great", "sad", "tired", "stressed", "unhappy", "down", "low",
         "vibaya", "mbaya", "nimechoka", "huzuni", "sio nzuri", "si nzuri", "sijisikii vizuri",
         "sio vizuri", "si vizuri", "uchovu")),
    (3, ("okay", "ok", "so so", "so-so", "average", "alright", "meh", "kawaida", "wastani",
         "hivyo hivyo", "sawa")),
    (4, ("good", "fine", "well", "happy", "nzuri", "vizuri", "poa", "salama", "furaha",
         "nimefurahi", "safi", "njema")),
)  # fmt: skip
REVIEW_WRITE = ("review", "rate", "evaluate", "appraise", "tathmini", "mpe alama", "pima")
REVIEW_LIST = (
    "my reviews", "reviews", "list reviews", "show reviews", "performance reviews",
    "tathmini zangu", "tathmini", "my performance", "matokeo ya tathmini",
)  # fmt: skip
ATTENDANCE = (
    "attendance", "my shifts", "shifts", "clock history", "when did i clock", "time sheet",
    "timesheet", "mahudhurio", "historia ya mahudhurio", "zamu zangu", "zamu",
)  # fmt: skip
CLOCK_OUT = (
    "clock out", "clock me out", "clockout", "check out", "sign out", "log out", "signing off",
    "i'm leaving", "im leaving", "i am leaving", "leaving now", "going home", "heading home",
    "end my shift", "end of shift", "done for the day", "finished for the day",
    "naondoka", "ninaondoka", "natoka", "ninatoka", "toka", "toka kazini", "nimemaliza kazi",
    "naenda nyumbani", "narudi nyumbani", "kutoka kazini", "nitoe", "maliza zamu",
)  # fmt: skip
CLOCK_IN = (
    "clock in", "clock me in", "clockin", "check in", "check me in", "sign in", "sign me in",
    "i'm here", "im here", "i am here", "i have arrived", "i've arrived", "just arrived",
    "arrived", "at work", "start my shift", "starting my shift", "start work", "reporting for duty",
    "nimefika", "nimeingia", "ingia kazini", "niingize", "naingia", "ninaingia", "kuingia kazini",
    "nimewasili", "anza zamu", "naanza kazi", "nimeanza kazi", "ingia",
)  # fmt: skip
LEAVE_TYPES_LIST = ("leave types", "types of leave", "kinds of leave", "aina za likizo")
PEOPLE = ("my team", "list employees", "employees", "staff list", "wafanyakazi", "timu yangu")
GREETING = (
    "hi", "hello", "hey", "good morning", "good afternoon", "good evening", "habari", "hujambo",
    "mambo", "jambo", "salaam", "shikamoo", "niaje", "sasa", "vipi",
)  # fmt: skip
THANKS = ("thanks", "thank you", "asante", "shukrani", "nashukuru", "cheers")
HELP = ("help", "what can you do", "msaada", "unaweza kufanya nini", "menu", "options")
YES = ("yes", "yeah", "yep", "sure", "please do", "ok", "okay", "ndiyo", "ndio", "sawa", "naam")
QUESTION_START = (
    "how", "what", "when", "which", "who", "why", "can", "could", "may", "am", "is", "are",
    "do", "does", "will", "should", "must", "je", "ni", "kuna", "naweza", "ninaweza",
    "nini", "vipi", "gani", "ngapi", "lini", "nani", "tell me", "explain",
)  # fmt: skip
POLICY_WORDS = (
    "policy", "policies", "rule", "rules", "allowed", "entitled", "entitlement", "handbook",
    "allowance", "benefit", "benefits", "overtime", "notice", "probation", "dress code",
    "sera", "kanuni", "sheria", "inaruhusiwa", "haki", "stahili", "ninastahili", "taratibu",
)  # fmt: skip

_NUMBER = re.compile(r"(?:#|no\.? ?|number |namba |nambari |id )?(\d{1,9})\b")
_REASON = re.compile(
    r"(?:\bbecause\b|\bsince\b|\breason:?|\bkwa sababu\b|\bsababu:?|\bkwani\b|:| - )\s*(?P<r>.+)$",
    re.I,
)
_SCORE = re.compile(
    r"\b(?:score|scored|rating|rated|rate|overall|alama|kiwango|give (?:him|her|them))"
    r"\s*(?:of|is|=|:|ya|ni)?\s*(?P<s>[1-5](?:[.,]\d)?)\b|\b(?P<s2>[1-5](?:[.,]\d)?)\s*/\s*5\b"
)
_PERIOD = re.compile(
    r"\b(?P<y>20\d\d)(?:[- ]?(?P<hq>[hq][1-4])|-(?P<m>0?[1-9]|1[0-2]))?\b"
    r"|\b(?P<hq2>[hq][1-4])[ -]?(?P<y2>20\d\d)\b"
)
_REVIEW_NAME = re.compile(
    r"\b(?:review|rate|evaluate|appraise|tathmini ya|tathmini|mpe)\s+"
    r"(?P<name>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)"
)
_APPROVE_NAME = re.compile(r"\b(?P<name>[A-Z][a-z'-]+)(?:'s|’s)\b|\bya (?P<name2>[A-Z][a-z'-]+)\b")
HR_CASES = (
    "hr cases", "hr case", "open cases", "cases", "questions for hr", "kesi za hr", "kesi",
    "maswali ya wafanyakazi",
)  # fmt: skip
# "answer case 3: yes, you may" · "reply to case 3 - ..." · "jibu kesi 3: ..."
_ANSWER_CASE = re.compile(
    r"^\s*(?:answer|reply to|respond to|jibu)\s+(?:hr\s+)?(?:case|kesi)\s*#?(\d+)"
    r"\s*[:\-–,]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)

NET_PAY = (
    "net", "take home", "take-home", "after tax", "tax on", "how much tax", "paye on",
    "baada ya makato", "makato", "nitapata", "nitabaki na", "kodi", "nitalipwa",
)  # fmt: skip
# 120,000 · 120 000 · 120000 · 120k · 85.5k: a monthly amount, not a request number.
_AMOUNT = re.compile(
    r"(?<![\w.,])(?:(\d{1,3}(?:[, ]\d{3})+|\d{4,})(?:\.\d{1,2})?|(\d+(?:\.\d+)?)\s*k)(?![\w])",
    re.IGNORECASE,
)


def _gross_amount(text: str) -> str | None:
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


_MOOD_NUMBER = re.compile(
    r"\b(?:mood|hali yangu|feeling|najisikia|score)\b\D{0,12}(?P<n>[1-5])\b"
    r"|\b(?P<n2>[1-5])\s*/\s*5\b"
)


def understand(text: str, conv: Conversation) -> Understood:
    """The tool and arguments an utterance asks for, or the reply to give instead."""
    norm = normalize(text)
    words = tokens(norm)
    today = conv.today
    if not words:
        return Reply("help")

    if answer := _ANSWER_CASE.match(text):
        if not answer.group(2).strip():
            return Reply("help")
        return Intent(
            "answer_hr_case", {"case_id": int(answer.group(1)), "answer": answer.group(2).strip()}
        )

    if has_any(words, ASK_HR):
        return Intent("ask_hr", {"question": _question_for_hr(text)})

    if has_any(words, HR_CASES) and not has_any(words, CANCEL):
        open_only = has_any(words, ("open", "waiting", "unanswered", "zilizo wazi", "wazi"))
        return Intent("list_hr_cases", {"status": "open"} if open_only else {})

    if has_any(words, MONTHLY_REPORT):
        args: dict[str, Any] = {}
        if ym := resolve_month(norm, today):
            args = {"year": ym[0], "month": ym[1]}
        return Intent("monthly_work_report", args)

    if has_any(words, REPORT_ISSUE) and not has_any(words, ("payslip", "balance")):
        return _report_issue(text, norm, words)

    if decision := _decision(text, norm, words):
        return decision

    if has_any(words, CANCEL) and (number := _number(norm)):
        args = {"request_id": number}
        if reason := _reason(text):
            args["reason"] = reason
        return Intent("cancel_leave", args)

    if has_any(words, NET_PAY) and (gross := _gross_amount(text)):
        return Intent("salary_preview", {"gross": gross})

    if has_any(words, PAYSLIP) or _payslip_sw(words):
        return _payslip(text, norm, words, today)

    if has_any(words, LEAVE_TYPES_LIST):
        return Intent("list_leave_types", {})

    question = _is_question(norm, words)
    leave_type = _leave_type(words)
    about_days = has_any(words, LEAVE) or leave_type or "days" in words or "siku" in words
    if has_any(words, BALANCE) and about_days and not _policy_question(words):
        args = {"leave_type": leave_type} if leave_type else {}
        return Intent("leave_balance", args)

    if _asks_for_requests(words):
        status = None
        if has_any(words, ("pending", "awaiting", "waiting", "yanayosubiri", "yanasubiri",
                           "inasubiri", "subiri", "to approve", "kuidhinisha")):  # fmt: skip
            status = "pending"
        elif has_any(words, ("approved", "yaliyokubaliwa", "yamekubaliwa")):
            status = "approved"
        elif has_any(words, ("rejected", "yaliyokataliwa", "yamekataliwa")):
            status = "rejected"
        return Intent("list_leave_requests", {"status": status} if status else {})

    if has_any(words, LEAVE) and (
        not question
        or (
            resolve_span(norm, today) is not None
            and not has_any(words, ("how many", "how long", "how much", "ngapi", "kwa muda gani"))
        )
    ):
        return _leave_request(text, norm, words, today, leave_type)

    if question and (has_any(words, LEAVE) or leave_type or has_any(words, POLICY_WORDS)):
        return Intent("search_policy", {"query": text.strip()[:500]})

    if review := _review(text, norm, words):
        return review

    if has_any(words, REVIEW_LIST) and not question:
        args = {}
        if period := _period(norm):
            args["period"] = period
        return Intent("list_reviews", args)

    if has_any(words, ATTENDANCE):
        return Intent("attendance_history", _attendance_window(norm, today))

    if has_any(words, MOOD) or _MOOD_NUMBER.search(norm):
        if (score := _mood_score(norm, words)) is not None:
            return Intent("submit_mood", {"score": score})
        return Reply("ask_mood")

    if has_any(words, CLOCK_OUT):
        return Intent("clock_out", {})
    if has_any(words, CLOCK_IN):
        return Intent("clock_in", {})

    if has_any(words, PEOPLE):
        return Intent("list_employees", {})

    if has_any(words, HELP):
        return Reply("help")
    if question:
        return Intent("search_policy", {"query": text.strip()[:500]})
    if has_any(words, THANKS):
        return Reply("thanks")
    if has_any(words[:2], GREETING):
        return Reply("greeting", {"name": conv.user_name})
    if has_any(words, YES) and len(words) <= 3:
        return Reply("yes_nothing_pending")
    return Reply("help")


# ------------------------------------------------------------------ pieces


def is_yes(text: str) -> bool:
    """A short yes in English or Swahili."""
    words = tokens(normalize(text))
    return 0 < len(words) <= 4 and has_any(words, YES) and not has_any(words, ("no", "hapana"))


def _number(norm: str) -> int | None:
    # Dates and scores are not request ids: take the number after a request word or '#'.
    m = re.search(
        r"(?:#|\b(?:request|req|ombi|maombi|number|namba|nambari|no\.?|id|leave)\s*(?:#|no\.?|number|namba)?\s*)(\d{1,9})\b",
        norm,
    )
    if m:
        return int(m.group(1))
    numbers = re.findall(r"\b\d{1,9}\b", norm)
    return int(numbers[0]) if len(numbers) == 1 else None


def _reason(text: str) -> str | None:
    m = _REASON.search(text)
    if not m:
        return None
    reason = m["r"].strip().strip(".").strip()
    return reason[:1000] or None


def _decision(text: str, norm: str, words: list[str]) -> Intent | Reply | None:
    rejecting = has_any(words, REJECT)
    approving = has_any(words, APPROVE) and not rejecting
    if not (rejecting or approving):
        return None
    decision = "reject" if rejecting else "approve"
    args: dict[str, Any] = {"decision": decision}
    reason = _reason(text)
    if reason:
        args["comment"] = reason
    number = _number(norm.split(" because ")[0].split(" kwa sababu ")[0])
    if number is not None:
        args["request_id"] = number
        if decision == "reject" and not reason:
            return Reply("need_reason", {"request_id": number})
        return Intent("approve_leave", args)
    m = _APPROVE_NAME.search(text)
    name = (m["name"] or m["name2"]) if m else None
    if name and name.lower() not in ("i", "hr"):
        if decision == "reject" and not reason:
            return Reply("need_reason", {"request_id": name})
        return Intent(
            "approve_leave",
            args,
            person=name,
            lookup=("list_leave_requests", {"status": "pending", "limit": 100}),
        )
    if has_any(words, ("leave", "request", "requests", "likizo", "ombi", "maombi")):
        return Reply("need_request_id")
    return None


def _asks_for_requests(words: list[str]) -> bool:
    if not has_any(words, REQUESTS):
        return False
    # "I request leave on Friday" files a request; "show my requests" lists them.
    return has_any(
        words,
        ("show", "list", "pending", "see", "view", "which", "any", "my requests", "status",
         "nionyeshe", "onyesha", "yanayosubiri", "yanasubiri", "inasubiri", "maombi yangu",
         "maombi ya", "awaiting", "waiting", "approvals", "subiri", "what"),
    )  # fmt: skip


def _leave_type(words: list[str]) -> str | None:
    # Exact words first: "maternity" is one typo away from "paternity".
    padded = f" {' '.join(words)} "
    for code, phrases in LEAVE_TYPES:
        if any(f" {phrase} " in padded for phrase in phrases):
            return code
    for code, phrases in LEAVE_TYPES:
        if has_any(words, phrases):
            return code
    return None


def _leave_request(
    text: str, norm: str, words: list[str], today: date, leave_type: str | None
) -> Understood:
    span = resolve_span(norm, today)
    if span is None:
        return Reply("need_dates", {"leave_type": leave_type or "annual"})
    args: dict[str, Any] = {
        "leave_type": leave_type or "annual",
        "start_date": span.start.isoformat(),
        "end_date": span.end.isoformat(),
    }
    if has_any(words, ("half day", "half a day", "nusu siku", "nusu ya siku", "halfday")):
        args["half_day"] = True
        args["end_date"] = args["start_date"]
    if reason := _leave_reason(text):
        args["reason"] = reason
    return Intent("request_leave", args)


def _leave_reason(text: str) -> str | None:
    m = re.search(
        r"(?:\bbecause\b|\bfor a\b|\bkwa sababu\b|\bsababu\b|\breason:?)\s*(?P<r>.+)$", text, re.I
    )
    if not m:
        return None
    return m["r"].strip().strip(".")[:1000] or None


def _payslip_sw(words: list[str]) -> bool:
    return has_any(words, ("mshahara",)) and has_any(
        words, ("nipe", "nitumie", "niletee", "hati", "risiti", "nionyeshe", "ya mwezi")
    )


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


def _other_person(text: str) -> str | None:
    """The person whose payslip `text` asks for, when it names one ("Brian's payslip")."""
    for pattern in _OTHERS_PAYSLIP:
        for m in pattern.finditer(text):
            name = m["name"]
            first = name.split()[0].lower()
            if first not in _NOT_NAMES and resolve_month(first, date(2000, 1, 1)) is None:
                return name
    return None


def _payslip(text: str, norm: str, words: list[str], today: date) -> Intent:
    ym = resolve_month(norm, today)
    if person := _other_person(text):
        # Somebody else's: find who is meant among the people the user may see; the
        # payslip service then decides whether the user may read theirs.
        args = {"month": f"{ym[0]:04d}-{ym[1]:02d}"} if ym else {}
        return Intent(
            "fetch_payslip", args, person=person, lookup=("list_employees", {"limit": 100})
        )
    if ym is None and (
        has_any(words, PAYSLIP_LIST)
        and not has_any(words, ("latest", "last", "recent", "ya mwisho"))
    ):
        args: dict[str, Any] = {}
        if m := re.search(r"\b(20\d\d)\b", norm):
            args["year"] = int(m.group(1))
        return Intent("list_payslips", args)
    return Intent("fetch_payslip", {"month": f"{ym[0]:04d}-{ym[1]:02d}"} if ym else {})


def _is_question(norm: str, words: list[str]) -> bool:
    if norm.endswith("?"):
        return True
    return bool(words) and (
        has_any(words[:1], QUESTION_START)
        or has_any(words[:2], ("tell me", "explain", "am i allowed", "can i", "naweza"))
        or has_any(words, ("ngapi", "gani", "je", "vipi", "lini"))
    )


def _policy_question(words: list[str]) -> bool:
    # "How many days of maternity leave?" asks the rule; "how many days do I have" asks a balance.
    personal = has_any(
        words,
        ("do i have", "have i", "i have", "my", "left", "remaining", "remain", "salio",
         "zimebaki", "zilizobaki", "nimebakiwa", "imebaki", "nina", "zangu", "balance"),
    )  # fmt: skip
    return not personal


def _question_for_hr(text: str) -> str:
    # Keep what the user wants asked; the hand-off phrase alone is not a question.
    m = re.search(
        r"(?:hr|person|human|mtu)\s*(?::|-|about|kuhusu|that|kwamba)\s*(?P<q>.+)$", text, re.I
    )
    question = m["q"].strip() if m and len(m["q"].strip()) >= 3 else text.strip()
    return question[:1000]


def _report_issue(text: str, norm: str, words: list[str]) -> Intent:
    category = "other"
    for code, phrases in ISSUE_CATEGORIES:
        if has_any(words, phrases):
            category = code
            break
    body = text.strip()
    if ":" in body:
        after = body.split(":", 1)[1].strip()
        if len(after) >= 3:
            body = after
    return Intent("report_issue", {"category": category, "text": body[:4000]})


def _mood_score(norm: str, words: list[str]) -> int | None:
    if m := _MOOD_NUMBER.search(norm):
        return int(m["n"] or m["n2"])
    for score, phrases in MOOD_WORDS:
        if has_any(words, phrases):
            return score
    return None


def _period(norm: str) -> str | None:
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


def _review(text: str, norm: str, words: list[str]) -> Intent | None:
    if not has_any(words, REVIEW_WRITE):
        return None
    score_m = _SCORE.search(norm)
    period = _period(norm)
    if score_m is None or period is None:
        return None
    score = float((score_m["s"] or score_m["s2"]).replace(",", "."))
    args: dict[str, Any] = {"period": period, "overall_score": score}
    feedback = text[score_m.end() :].strip(" .,;:-—")
    # A leading "feedback:" or "maoni:" label is not part of the feedback.
    feedback = re.sub(r"^(?:feedback|comment|maoni)\s*[:\-]?\s*", "", feedback, flags=re.I)
    if len(feedback) >= 3:
        args["feedback"] = feedback[:2000]
    if m := re.search(r"(?:#|\bemployee\s+|\bid\s+)(\d{1,9})\b", norm):
        args["employee_id"] = int(m.group(1))
        return Intent("submit_review", args)
    name_m = _REVIEW_NAME.search(text)
    if name_m is None:
        return None
    name = re.split(r"\s+(?:For|Kwa|Score)\b", name_m["name"])[0]
    return Intent("submit_review", args, person=name, lookup=("list_employees", {"limit": 100}))


def _attendance_window(norm: str, today: date) -> dict[str, Any]:
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
