"""What a message asks for: the learned intent, the slots in its words, the open question.

`understand` takes the user's message, the facts of the conversation and the state the
previous reply left (a question it asked), and decides one of: call a tool (`Intent`,
perhaps after a lookup by name), or say something (`Reply`, perhaps asking a question
whose answer the next turn will read). Rules that keep it safe:

- nothing is written on a guess: a write decided with less than `SURE` confidence is
  asked about first, and below `UNSURE` the user is offered the likely choices;
- a mood is only recorded with a score the user gave; nobody is clocked in or out but
  the user, now; a report is filed only when the user asks to report;
- a question asked expects its answer on the next turn (dates, a score, a request).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from assistant.language import confirmation_answer
from assistant.offline import classifier
from assistant.offline.conversation import Conversation
from assistant.offline.dates import (
    MONTHS,
    WEEKDAYS,
    Span,
    ambiguous_numeric,
    resolve_month,
    resolve_span,
)
from assistant.offline.slots import (
    ANSWER_CASE,
    ISSUE_CATEGORIES,
    attendance_window,
    gross_amount,
    leave_reason,
    leave_type_named,
    notify_channel,
    other_person,
    question_for_hr,
    quiet_hours,
    reason_given,
    reminders_named,
    review_period,
)
from assistant.offline.text import has_any, normalize, tokens
from hrcore.dates import day_month
from hrcore.people.service import first_name

#: At or above: act (a tool that writes still gets the tools' own confirmation if it has one).
SURE = 0.55
#: Below: too unsure to pick; the user is offered the two likeliest readings.
UNSURE = 0.30
#: Where dialogue state rides on the assistant's own messages.
STATE_KEY = "ajira_state"

#: How each intent is named when the user is offered a choice.
INTENT_NAMES: dict[str, tuple[str, str]] = {
    "clock_in": ("clock in", "kuingia kazini"),
    "clock_out": ("clock out", "kutoka kazini"),
    "leave_request": ("request leave", "kuomba likizo"),
    "leave_cancel": ("cancel a leave request", "kufuta ombi la likizo"),
    "leave_status": ("check your leave requests", "kuangalia maombi yako ya likizo"),
    "leave_balance": ("see your leave balance", "kuona salio la likizo"),
    "leave_types": ("see the leave types", "kuona aina za likizo"),
    "leave_pending": ("see pending requests", "kuona maombi yanayosubiri"),
    "leave_decide": ("decide a leave request", "kuamua ombi la likizo"),
    "payslip": ("see your payslip", "kuona hati ya mshahara"),
    "payslip_list": ("list your payslips", "kuorodhesha hati za mshahara"),
    "net_pay": ("work out take-home pay", "kukokotoa mshahara halisi"),
    "mood_checkin": ("rate how you feel today", "kurekodi hali yako leo"),
    "report_issue": ("report a problem anonymously", "kuripoti tatizo bila jina"),
    "wellness_summary": ("see the wellness summary", "kuona muhtasari wa ustawi"),
    "review_list": ("see reviews", "kuona tathmini"),
    "review_write": ("write a review", "kuandika tathmini"),
    "payroll_run": ("run payroll", "kuendesha mishahara"),
    "profile": ("see your profile", "kuona taarifa zako"),
    "team_list": ("list your team", "kuorodhesha timu yako"),
    "attendance_history": ("see your attendance", "kuona mahudhurio yako"),
    "work_report": ("see the monthly work report", "kuona ripoti ya kazi ya mwezi"),
    "report_chart": ("see a report as a chart", "kuona ripoti kwa chati"),
    "policy_question": ("ask about a policy", "kuuliza kuhusu sera"),
    "ask_hr": ("pass a question to hr", "kupeleka swali kwa hr"),
    "hr_cases": ("see hr cases", "kuona kesi za hr"),
    "send_message": ("send a message to staff", "kutuma ujumbe kwa wafanyakazi"),
    "preferences": ("change your notification settings", "kubadilisha mipangilio ya arifa"),
}
_PAST_TIME = re.compile(
    r"\b(?:at|by|around|saa) ?\d{1,2}(?:[:.]\d{2})? ?(?:am|pm|asubuhi|jioni)?\b"
    r"|\b(?:forgot|forget|forgotten|earlier|this morning|yesterday|jana|nilisahau|sahau|"
    r"nilifika|i came|i arrived|i got in|i left at|nilitoka|fix|correct|change my clock|"
    r"backdate|rekebisha)\b"
)
_FUTURE = re.compile(r"\b(?:kesho|tomorrow|tmrw|later|tonight|next week|baadaye|usiku wa leo)\b")
_OTHER_PERSON = re.compile(r"\b(?:for|kwa)\s+(?P<name>[A-Z][a-z]+)\b|\b(?P<name2>[A-Z][a-z]+)\b")
_MOOD_SCORE = re.compile(
    r"\b(?P<n>[1-5])\s*/\s*5\b"
    r"|\b(?:mood|day|today|leo|hali|alama|score|rate|rating|give|ni|is|as a|log it|put it|"
    r"weka|andika|nipe)\b\D{0,15}?\b(?P<m>[1-5])\b"
    r"|\b(?P<after>[1-5])\s*(?:today|leo|for today|for the day|kwa leo)\b"
    r"|^\s*(?P<alone>[1-5])\s*$"
)
#: Scores said in words ("leo: mbili", "a four today"); "one"/"moja" are too often not numbers.
_SCORE_DIGITS = {"mbili": "2", "tatu": "3", "nne": "4", "tano": "5",
                 "two": "2", "three": "3", "four": "4", "five": "5"}  # fmt: skip
_SCORE_WORDS = re.compile(r"\b(?:" + "|".join(_SCORE_DIGITS) + r")\b")
_OTHER_SCALE = re.compile(r"\b(?P<n>\d{1,2})\s*/\s*(?P<of>10|100)\b|\b(?P<big>[6-9]|10)\b")
_LOW_FEELING = (
    "stress", "stressed", "tired", "exhausted", "sad", "down", "low", "bad", "terrible",
    "awful", "angry", "upset", "worried", "anxious", "depressed", "burnout", "burnt out",
    "lonely", "hurt", "cry", "crying", "grief", "lost", "passed away", "died", "sick",
    "nimechoka", "choka", "huzuni", "hasira", "wasiwasi", "msongo", "vibaya", "mbaya",
    "naumwa", "mgonjwa", "sijisikii", "pole", "nimeumia", "uchungu", "shida",
)  # fmt: skip
_GOOD_FEELING = (
    "great", "happy", "good", "excellent", "amazing", "awesome", "fantastic", "wonderful",
    "excited", "glad", "furaha", "nzuri", "vizuri", "poa sana", "nimefurahi", "safi sana",
)  # fmt: skip
_TO_HANDBOOK = ("handbook", "support", "counsel", "policy", "sera", "msaada", "ushauri", "kitabu")
#: "reject 12", "kubali 8": a decision on a request by its number.
_DECIDED_NUMBER = re.compile(
    r"\b(?:approve|reject|accept|decline|deny|kubali|kataa|idhinisha)\s+#?(\d{1,9})\b"
)
_DECIDE_REJECT = (
    "reject", "decline", "deny", "refuse", "kataa", "usikubali", "kataza", "no to",
    "mwambie hapana", "say no", "tell him no", "tell her no", "sitakubali", "siikubali",
)  # fmt: skip
_DECIDE_APPROVE = ("approve", "accept", "grant", "kubali", "idhinisha", "ruhusu", "mruhusu")
_CANCEL_WORDS = ("cancel", "withdraw", "call off", "futa", "ghairi", "sitisha", "batilisha")
_LEAVE_SITUATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("compassionate", ("funeral", "burial", "passed away", "passed on", "died", "death",
                       "bereavement", "msiba", "mazishi", "amefariki", "alifariki", "kifo",
                       "kuzika")),
    ("paternity", ("wife gave birth", "wife delivered", "my wife had", "newborn", "new born",
                   "baby was born", "became a father", "mke wangu amejifungua",
                   "mke wangu alijifungua", "nimepata mtoto")),
    ("maternity", ("pregnant", "due date", "maternity", "kujifungua", "mjamzito", "uja uzito")),
    ("sick", ("sick", "ill", "unwell", "clinic", "hospital", "doctor", "fever", "malaria",
              "mgonjwa", "naumwa", "hospitali", "daktari", "kliniki", "homa", "sijisikii")),
)  # fmt: skip
#: Borrowing money or airtime: nothing an HR assistant does, whatever else the words say.
_MONEY_ASKS = (
    "lend me", "loan me", "borrow", "nikopeshe", "nikopesha", "kopesha", "mkopo", "nikope",
    "airtime", "send me money", "nitumie pesa", "niongezee pesa", "salary advance for me",
)  # fmt: skip
_BIRTH = ("baby", "born", "gave birth", "delivered", "newborn", "amejifungua", "kujifungua",
          "nimepata mtoto", "mtoto amezaliwa")  # fmt: skip
_START_ONLY = re.compile(
    r"\b(?:from|starting|kuanzia|kuanza|tangu|beginning)\b"
    r"(?!.*\b(?:to|until|till|hadi|mpaka|for|kwa siku|days?|siku|weeks?|wiki)\b)"
)
_HALF = ("half day", "half a day", "afternoon", "morning off", "nusu siku", "nusu ya siku",
         "mchana", "asubuhi tu", "halfday")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Intent:
    """Call `tool`; with `person`, first find who is meant through `lookup`."""

    tool: str
    args: dict[str, Any]
    person: str | None = None
    lookup: tuple[str, dict[str, Any]] | None = None
    #: More calls of the same tool in the same step (a leave split at the new year).
    more: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """Say the catalog sentence `key`; `state` is the question it leaves open."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] | None = None


Understood = Intent | Reply


@dataclass(frozen=True, slots=True)
class Ctx:
    """One message, with what every handler needs to read it."""

    text: str
    norm: str
    words: list[str]
    conv: Conversation
    role: str
    language: str
    guess: classifier.Guess | None = None

    @property
    def today(self) -> date:
        return self.conv.today

    @property
    def privileged(self) -> bool:
        return self.role in ("hr", "admin")


def classify(text: str) -> classifier.Guess:
    """The learned intents of `text`, best first."""
    return classifier.shipped().classify(text)


def understand(
    text: str,
    conv: Conversation,
    state: dict[str, Any] | None,
    *,
    language: str,
    classify_with: Callable[[str], classifier.Guess] = classify,
) -> Understood:
    """What to do about `text`, given the question the last reply left open (`state`)."""
    norm = normalize(text)
    ctx = Ctx(text, norm, tokens(norm), conv, conv.role or "employee", language)
    if (answered := ANSWER_CASE.match(text)) and answered.group(2).strip():
        return Intent(
            "answer_hr_case",
            {"case_id": int(answered.group(1)), "answer": answered.group(2).strip()[:4000]},
        )
    if state:
        continued = _continue(ctx, state, classify_with)
        if continued is not None:
            return continued
    answer = confirmation_answer(text)
    if answer is not None:
        return Reply("nothing_pending")
    if not ctx.words or _garbled(ctx):
        return Reply("not_caught")
    guess = classify_with(text)
    ctx = Ctx(text, norm, ctx.words, conv, ctx.role, language, guess)
    intent = _corrected(ctx, guess.intent)
    unsure = intent == guess.intent and guess.confidence < UNSURE and not _explicit(ctx, intent)
    if unsure and is_question(text) and intent not in _NEVER_UNSURE:
        return _policy(ctx)  # an unclear question: the handbook is the best first try
    if unsure and intent in _SMALL_TALK:
        return Reply("help")  # nothing recognisable: say what Ajira does
    if unsure and intent not in _NEVER_UNSURE:
        return _offer_choices(ctx, guess)
    return HANDLERS.get(intent, _help)(ctx)


# ------------------------------------------------------------------ corrections


def _corrected(ctx: Ctx, intent: str) -> str:
    """Fix the learned intent where the words leave no doubt."""
    if _REPORT_START.match(ctx.norm) and not is_question(ctx.text):
        return "report_issue"  # "Ripoti bila jina: …", "report this anonymously: …"
    if (fixed := _clock_corrected(ctx, intent)) is not None:
        return fixed
    if intent in ("feeling", "leave_status", "clock_out") and has_any(ctx.words, _CANT_COME):
        return "leave_request"
    if has_any(ctx.words, _REPORT_WORDS) and not _asks_how(ctx) and intent in _REPORT_LOOKALIKES:
        return "report_issue"
    if _explicit_score(ctx) is not None and intent in ("feeling", "mood_checkin", "greeting"):
        return "mood_checkin"
    leave_words = has_any(ctx.words, ("leave", "likizo", "off", "ruhusa"))
    if intent == "feeling" and leave_words and resolve_span(ctx.norm, ctx.today) is not None:
        return "leave_request"
    if intent in ("clock_in", "clock_out") and (
        _PAST_TIME.search(ctx.norm) or _FUTURE.search(ctx.norm)
    ):
        return "clock_fix"
    if intent in ("clock_in", "clock_out") and _names_someone_else(ctx):
        return "clock_other"
    if has_any(ctx.words, _MONEY_ASKS):
        return "out_of_scope"
    if intent in _CHART_LOOKALIKES and _asks_for_chart(ctx):
        return "report_chart"  # "the work report as a graph", "hali ya wafanyakazi kwa chati"
    if intent == "leave_request" and is_question(ctx.text) and has_any(ctx.words, _ENOUGH):
        return "leave_balance"  # "do I have enough leave to take the 14th to the 31st?"
    if _MESSAGE_STATUS.search(ctx.norm):
        return "message_status"
    numbered = re.search(r"(?:#|\b(?:request|ombi|number|namba|no\.?)\s*#?)\s*\d{1,9}\b", ctx.norm)
    deciding = has_any(ctx.words, _DECIDE_REJECT + _DECIDE_APPROVE)
    if numbered and has_any(ctx.words, _CANCEL_WORDS) and not deciding:
        return "leave_cancel"
    if numbered and deciding:
        return "leave_decide"
    if intent == "payslip" and other_person(ctx.text):
        return "others_data" if not ctx.privileged else "payslip"
    return intent


_ENOUGH = ("enough", "zinatosha", "inatosha", "za kutosha", "ya kutosha", "have left",
           "nimebakiza", "zimebaki")  # fmt: skip
_CLOCK_IN_SAID = ("clock in", "clock me in", "niingize", "nisajili", "sign me in", "check in")
_CLOCK_OUT_SAID = ("clock out", "clock me out", "nitoe", "sign me out", "check out", "log me out")
_LEAVING = ("nimetoka", "natoka", "ninatoka", "naondoka", "nimeondoka", "ninaondoka")
#: "I can't come in today": a day off, whatever feeling comes with it.
_CANT_COME = (
    "siwezi kuja kazini", "sitaweza kuja", "sitaweza kufika", "siwezi kufika", "sitakuja",
    "can't come to work", "cannot come to work", "can't make it", "won't make it",
    "wont make it", "can't come in", "won't be in", "wont be in", "not coming in",
    "sitakuwepo", "nitakosa kazi",
)  # fmt: skip
#: Intents a message with a report word may wrongly get.
_REPORT_LOOKALIKES = frozenset({"feeling", "leave_request", "others_data", "ask_hr"})


def _clock_corrected(ctx: Ctx, intent: str) -> str | None:
    said_in = has_any(ctx.words, _CLOCK_IN_SAID)
    said_out = has_any(ctx.words, _CLOCK_OUT_SAID) or (
        bool(ctx.words) and ctx.words[0] in _LEAVING and intent in ("leave_request", "feeling")
    )
    timed = _PAST_TIME.search(ctx.norm) or _FUTURE.search(ctx.norm)
    if (said_in or said_out) and (_CLOCK_AT.search(ctx.norm) or has_any(ctx.words, _GIVEN_TIME)):
        return "clock_fix"  # "clock me in at 07:58": only now can be recorded, never a given time
    if intent == "clock_fix" and not timed and (said_in or said_out):
        return "clock_in" if said_in else "clock_out"
    if intent == "clock_other" and not _names_someone_else(ctx) and (said_in or said_out):
        return "clock_in" if said_in else "clock_out"
    if said_out and intent in ("leave_request", "feeling") and ctx.words[0] in _LEAVING:
        return "clock_out"
    commanded = re.search(r"\b(?:clock|sign|check) me (?P<way>in|out)\s*[.!]*\s*$", ctx.norm)
    if commanded and intent in ("leave_request", "feeling", "ask_hr"):
        # A story, then the command: "my son has a fever, I have to go. Clock me out".
        return "clock_in" if commanded["way"] == "in" else "clock_out"
    return None


#: A time of day the user wants recorded: "clock me in at 07:58", "kuanzia saa 2:30".
_CLOCK_AT = re.compile(
    r"\b(?:at|for|as|from|kuanzia|tangu|saa)\s+\d{1,2}(?:[:.]\d{2}\s*(?:am|pm)?|\s*(?:am|pm))"
)
_GIVEN_TIME = ("with that time", "use that time", "that time", "the time right now is",
               "muda huo", "saa hiyo", "kwa saa hiyo")  # fmt: skip


def _explicit(ctx: Ctx, intent: str) -> bool:
    """Whether the words themselves name what the learned intent guessed."""
    if intent == "report_issue" and (is_question(ctx.text) or _about_reports(ctx)):
        return False
    evidence = {
        "report_issue": _REPORT_WORDS,
        "clock_in": _CLOCK_IN_SAID,
        "clock_out": _CLOCK_OUT_SAID,
        "leave_cancel": _CANCEL_WORDS,
        "leave_decide": _DECIDE_REJECT + _DECIDE_APPROVE,
        "payslip": ("payslip", "pay slip", "hati ya mshahara"),
    }.get(intent)
    return evidence is not None and has_any(ctx.words, evidence)


#: Intents a low score never turns into a menu: refused anyway.
_NEVER_UNSURE = frozenset({"injection"})
_SMALL_TALK = frozenset({"greeting", "thanks", "goodbye", "help", "out_of_scope", "affirm", "deny"})


_SOMEONE_ELSE = re.compile(
    r"\b(?i:clock|sign|check|log|book)(?:\s+(?i:in|out))?\s+(?P<a>[A-Z][a-z]+)\b"
    r"|\b(?i:for|kwa)\s+(?P<b>[A-Z][a-z]+)\b"
    r"|\b(?i:mwingize|mtoe|msajili|mweke|muingize)\s+(?P<c>[A-Z][a-z]+)\b"
    r"|\b(?P<d>[A-Z][a-z]+)(?:'s|’s)\s+(?:clock|attendance|shift)"
)


def _names_someone_else(ctx: Ctx) -> bool:
    own = (ctx.conv.user_name or "").split()
    for m in _SOMEONE_ELSE.finditer(ctx.text):
        name = m["a"] or m["b"] or m["c"] or m["d"]
        if name and name not in own and name.lower() not in _NOT_NAMES:
            return True
    return has_any(ctx.words, ("for him", "for her", "for them", "kwa niaba yake", "mwingize"))


def _someone_else(ctx: Ctx) -> str:
    for m in _SOMEONE_ELSE.finditer(ctx.text):
        name = m["a"] or m["b"] or m["c"] or m["d"]
        if name and name.lower() not in _NOT_NAMES:
            return name
    return ""


_NOT_NAMES = frozenset(
    {
        "what",
        "it",
        "that",
        "let",
        "he",
        "she",
        "who",
        "there",
        "here",
        "where",
        "how",
        "one",
        "everyone",
        "someone",
        "anyone",
        "nobody",
        "line",
        "shift",
        "team",
        "i",
        "im",
        "clock",
        "please",
        "pls",
        "kindly",
        "hi",
        "hello",
        "good",
        "morning",
        "boss",
        "sir",
        "madam",
        "nimefika",
        "niko",
        "naomba",
        "nataka",
        "ajira",
        "hr",
        "ok",
        "okay",
        "sawa",
        "yes",
        "no",
        "can",
        "could",
        "the",
        "am",
        "just",
        "sasa",
        "leo",
        "today",
        "now",
        "mimi",
        "habari",
        "mambo",
        "hey",
        "sorry",
        "thanks",
    }
    | set(MONTHS)
)


# ------------------------------------------------------------------ open questions


def _continue(
    ctx: Ctx, state: dict[str, Any], classify_with: Callable[[str], classifier.Guess]
) -> Understood | None:
    """The answer to the question the last reply asked, or None when this is something new."""
    kind = state.get("kind")
    answer = confirmation_answer(ctx.text)
    if kind == "confirm":
        answer = answer if answer is not None else _leading_answer(ctx.text)
        if answer is True:
            return Intent(state["tool"], dict(state.get("args") or {}))
        if answer is False:
            return Reply("okay_not_done")
        return None
    if kind == "dates":
        if answer is False:
            return Reply("okay_not_done")
        have = dict(state.get("have") or {})
        if (both := ambiguous_numeric(ctx.norm, ctx.today)) is not None:
            return _ask_which_date(ctx, both, have)
        span = resolve_span(ctx.norm, ctx.today)
        if span is not None and state.get("week") and not re.search(r"\d", ctx.norm):
            span = _in_week(ctx.norm, date.fromisoformat(state["week"])) or span
        if span is not None and have.get("start_date"):
            start = date.fromisoformat(have.pop("start_date"))
            end = _end_after(start, ctx) or span.end
            return _leave_intent(have, start, max(end, start))
        if span is not None:
            if has_any(ctx.words, _HALF):
                have["half_day"] = True
            if (named := leave_type_named(ctx.words) or _situation_leave_type(ctx)) is not None:
                have["leave_type"] = named
            return _leave_intent(have, span.start, span.end if not have.get("half_day") else None)
        if _is_something_else(ctx, classify_with, "leave_request"):
            return None
        return Reply("need_dates", state={**state, "asked": int(state.get("asked", 1)) + 1})
    if kind == "score":
        score = _answered_score(ctx)
        if score is not None:
            return Intent("submit_mood", {"score": score})
        if answer is False:
            return Reply("okay_not_done")
        return None
    if kind == "offer":
        score = _answered_score(ctx)
        if score is not None:
            return Intent("submit_mood", {"score": score})
        if answer is False:
            return Reply("okay_not_done")
        short = len(ctx.words) <= 6
        if short and has_any(ctx.words, _TO_HANDBOOK):
            return Intent("search_policy", {"query": _support_query(ctx.language)})
        if short and has_any(ctx.words, ("hr", "someone in hr", "mtu wa hr", "talk to someone")):
            question = str(state.get("text") or "")[:1000] or _support_query(ctx.language)
            return Intent("ask_hr", {"question": question})
        return None
    if kind == "amount":
        if (gross := _amount(ctx)) is not None:
            return Intent("salary_preview", {"gross": gross})
        return None
    if kind == "month":
        if (ym := resolve_month(ctx.norm, ctx.today, past=False)) is not None:
            return Intent(
                state["tool"], {**state.get("args", {}), "month": f"{ym[0]:04d}-{ym[1]:02d}"}
            )
        return None
    if kind == "hr_question":
        if answer is False:
            return Reply("okay_not_done")
        if len(ctx.text.strip()) >= 3 and answer is None:
            return Intent("ask_hr", {"question": ctx.text.strip()[:1000]})
        return None
    if kind == "policy_unknown":
        answer = answer if answer is not None else _leading_answer(ctx.text)
        if answer is True or (answer is None and has_any(ctx.words, ("hr", "ask them", "waulize"))):
            return Intent("ask_hr", {"question": str(state.get("question") or ctx.text)[:1000]})
        if answer is False:
            return Reply("okay_not_done")
        return None
    if kind == "policy_answered":
        # A plain yes after an answer is thanks, not a request; naming hr is.
        short = len(ctx.words) <= 8
        if short and has_any(ctx.words, ("hr", "ask them", "waulize", "muulize", "mtu wa hr")):
            return Intent("ask_hr", {"question": str(state.get("question") or ctx.text)[:1000]})
        return None
    if kind == "message":
        if answer is False:
            return Reply("okay_not_done")
        have = dict(state.get("have") or {})
        if not have.get("to"):
            guess = classify_with(ctx.text)
            if guess.confidence >= 0.85 and guess.intent != "send_message":
                return None  # something new, not who the message is for
            to, text = _message_parts(ctx.text, bare=True)
            if not to:
                return None
            have["to"] = to
            if text and not have.get("text"):
                have["text"] = text
        elif not have.get("text"):
            text = ctx.text.strip()
            if len(text) < 2:
                return None
            have["text"] = text[:1000]
        return _message_next(have)
    if kind == "choose_intent":
        chosen = _chosen_option(ctx, state.get("options") or [])
        if chosen is not None:
            original = str(state.get("text") or ctx.text)
            norm = normalize(original)
            again = Ctx(original, norm, tokens(norm), ctx.conv, ctx.role, ctx.language)
            return HANDLERS.get(chosen, _help)(again)
        return None
    if kind == "choose_request":
        chosen_id = _chosen_request(ctx, state.get("options") or [])
        if chosen_id is not None:
            return Intent(state["tool"], {**state.get("args", {}), "request_id": chosen_id})
        return None
    if kind == "reason":
        # The reason a rejection needs: "because the order ships that day".
        if answer is False:
            return Reply("okay_not_done")
        guess = classify_with(ctx.text)
        if guess.confidence >= 0.85 and guess.intent not in _REASON_LOOKALIKES:
            return None  # a new request, not the reason
        reason = _REASON_LEAD.sub("", ctx.text.strip()).strip()
        if len(reason.split()) < 2:
            return None
        args = {**state.get("args", {}), "comment": reason[:1000]}
        if "request_id" in args:
            return Intent("approve_leave", args)
        names = list(state.get("names") or [])
        return Intent(
            "approve_leave",
            args,
            person="|".join(names) or "__any__",
            lookup=("list_leave_requests", _own_requests("pending")),
        )
    if kind == "review":
        slots = _review_slots(ctx, dict(state.get("have") or {}))
        if slots != state.get("have"):
            return _review_next(slots)
        return None
    if kind == "date_choice":
        options = [date.fromisoformat(d) for d in state.get("options") or []]
        pick = _chosen_date(ctx, options)
        if pick is not None:
            return _leave_intent(dict(state.get("have") or {}), pick, pick)
        return None
    return None


#: What a reason often looks like to the classifier: a story about leave, work, feelings.
_REASON_LOOKALIKES = frozenset({"leave_decide", "leave_request", "feeling", "leave_status",
                                "affirm", "team_list", "work_report"})  # fmt: skip
#: Words before the reason itself: "yes - and tell him it's because …", "sababu ni …".
_REASON_LEAD = re.compile(
    r"^(?:(?:yes|yeah|ok|okay|sure|ndiyo|ndio|sawa)\b[\s,.!-]*)?"
    r"(?:and\s+)?(?:(?:tell|let)\s+(?:him|her|them)\s+(?:know\s+)?(?:that\s+)?)?"
    r"(?:mwambie\s+|waambie\s+)?(?:it'?s\s+|it\s+is\s+)?"
    r"(?:because(?:\s+of)?|since|reason:?|the reason is|sababu(?:\s+ni)?|kwa sababu(?:\s+ya)?)?\s*",
    re.I,
)


_NEXT_WEEK = re.compile(r"\b(?:next week|wiki ijayo|wiki inayokuja|week ijayo)\b")


def _days_in_week_unnamed(ctx: Ctx, span: Span) -> bool:
    """ "Next week, two days": a part of the week, without saying which days."""
    return (
        bool(_NEXT_WEEK.search(ctx.norm))
        and (span.end - span.start).days < 4
        and not re.search(r"\d", ctx.norm)
        and not any(w in WEEKDAYS for w in ctx.words)
    )


def _in_week(norm: str, monday: date) -> Span | None:
    """The weekdays a message names ("Wednesday na Thursday"), in the week of `monday`."""
    named = sorted({WEEKDAYS[w] for w in tokens(norm) if w in WEEKDAYS})
    if not named:
        return None
    return Span(monday + timedelta(days=named[0]), monday + timedelta(days=named[-1]))


def _garbled(ctx: Ctx) -> bool:
    """Mostly noise: few letters, and no word of either language."""
    from assistant.language import ENGLISH, SWAHILI

    letters = sum(ch.isalpha() for ch in ctx.text)
    visible = sum(not ch.isspace() for ch in ctx.text)
    known = sum(1 for w in ctx.words if w in ENGLISH or w in SWAHILI)
    return known == 0 and letters < visible / 2


def _leading_answer(text: str) -> bool | None:
    """The yes or no a longer reply starts with ("Ndio, tafadhali waulize HR")."""
    head = re.split(r"[,.;!]", text, maxsplit=1)[0]
    return confirmation_answer(head)


def _is_something_else(
    ctx: Ctx, classify_with: Callable[[str], classifier.Guess], expected: str
) -> bool:
    guess = classify_with(ctx.text)
    return guess.intent != expected and guess.confidence >= SURE


def _chosen_option(ctx: Ctx, options: list[str]) -> str | None:
    if m := re.fullmatch(r"\s*([12])\s*[.)]?\s*", ctx.text):
        index = int(m.group(1)) - 1
        return options[index] if index < len(options) else None
    for option in options:
        names = INTENT_NAMES.get(option, (option, option))
        if any(has_any(ctx.words, tuple(tokens(normalize(n))[:2])) for n in names):
            return option
    return None


def _chosen_request(ctx: Ctx, options: list[dict[str, Any]]) -> int | None:
    numbers = [int(n) for n in re.findall(r"\b\d{1,9}\b", ctx.norm)]
    ids = {int(o["id"]) for o in options}
    for number in numbers:
        if number in ids:
            return number
        if 1 <= number <= len(options):
            return int(options[number - 1]["id"])
    span = resolve_span(ctx.norm, ctx.today)
    if span is not None:
        matching = [o for o in options if o.get("start") == span.start.isoformat()]
        if len(matching) == 1:
            return int(matching[0]["id"])
    return None


def _chosen_date(ctx: Ctx, options: list[date]) -> date | None:
    span = resolve_span(ctx.norm, ctx.today)
    if span is not None and span.start in options:
        return span.start
    for day in options:
        month_names = [name for name, number in MONTHS.items() if number == day.month]
        if has_any(ctx.words, tuple(month_names)):
            return day
    if m := re.fullmatch(r"\s*([12])\s*", ctx.text):
        return options[int(m.group(1)) - 1]
    return None


def _offer_choices(ctx: Ctx, guess: classifier.Guess) -> Reply:
    options = [i for i, _ in guess.ranked if i in INTENT_NAMES][:2]
    if not options:
        return Reply("help")
    side = 1 if ctx.language == "sw" else 0
    words = [f"{n}. {INTENT_NAMES[o][side]}" for n, o in enumerate(options, 1)]
    joiner = " au " if side else " or "
    return Reply(
        "unclear",
        {"options": joiner.join(words)},
        state={"kind": "choose_intent", "options": options, "text": ctx.text[:1000]},
    )


# ------------------------------------------------------------------ slots


def _explicit_score(ctx: Ctx, *, alone_ok: bool = False) -> int | None:
    """A mood score the user gave (1-5), never one guessed from their words."""
    m = _MOOD_SCORE.search(_SCORE_WORDS.sub(lambda w: _SCORE_DIGITS[w[0]], ctx.norm))
    if m is None:
        return None
    if m["alone"] and not alone_ok:
        return None
    return int(m["n"] or m["m"] or m["after"] or m["alone"])


def _answered_score(ctx: Ctx) -> int | None:
    """The score in a short answer to "how would you rate today, 1 to 5?"."""
    if (score := _explicit_score(ctx, alone_ok=True)) is not None:
        return score
    # A bare number in a short answer ("nipe 2", "a 4 I guess"); a longer message with a
    # number in it is most likely about something else (a date, a request).
    numbers = re.findall(r"\b\d{1,3}\b", ctx.norm)
    short = len(numbers) == 1 and len(ctx.words) <= 3 and 1 <= int(numbers[0]) <= 5
    if short and resolve_span(ctx.norm, ctx.today) is None:
        return int(numbers[0])
    return None


def _situation_leave_type(ctx: Ctx) -> str | None:
    padded = f" {ctx.norm} "
    for code, phrases in _LEAVE_SITUATIONS:
        if any(f" {p} " in padded or has_any(ctx.words, (p,)) for p in phrases):
            return code
    return None


def _leave_intent(have: dict[str, Any], start: date, end: date | None) -> Intent:
    args: dict[str, Any] = {"leave_type": have.get("leave_type") or "annual"}
    args["start_date"] = start.isoformat()
    args["end_date"] = (end or start).isoformat()
    if have.get("half_day"):
        args["half_day"] = True
        args["end_date"] = args["start_date"]
    if have.get("reason"):
        args["reason"] = have["reason"]
    last = date.fromisoformat(args["end_date"])
    if start.year != last.year and args["leave_type"] != "maternity":
        # Each year has its own balance, so a request may not cross the new year: two
        # requests, confirmed together.
        first = {**args, "end_date": date(start.year, 12, 31).isoformat()}
        second = {**args, "start_date": date(last.year, 1, 1).isoformat()}
        parts = [p for p in (first, second) if _has_working_day(p)]
        if len(parts) == 2:
            return Intent("request_leave", first, more=(second,))
        if parts:
            return Intent("request_leave", parts[0])
    return Intent("request_leave", args)


def _ask_which_date(ctx: Ctx, both: tuple[date, date], have: dict[str, Any]) -> Reply:
    first, second = (day_month(d, ctx.language) for d in both)
    return Reply(
        "ambiguous_date",
        {"first": first, "second": second},
        state={"kind": "date_choice", "options": [d.isoformat() for d in both], "have": have},
    )


def _support_query(language: str) -> str:
    from assistant.catalog import say

    return say("support_query", language)


_PERSON = re.compile(
    r"\b(?P<a>[A-Z][a-z]{2,})(?:'s|’s)\b"
    r"|\b(?:ya|wa|la|za|of|for|about|kwa)\s+(?P<b>[A-Z][a-z]{2,})\b"
    r"|\b(?P<c>[A-Z][a-z]{2,})\b"
)


def _named_people(ctx: Ctx) -> list[str]:
    """Names in the message other than the user's own, most telling first."""
    own = set((ctx.conv.user_name or "").split())
    found: list[tuple[int, str]] = []
    for m in _PERSON.finditer(ctx.text):
        name = m["a"] or m["b"] or m["c"]
        rank = 0 if m["a"] or m["b"] else 1
        if m.start() == 0 and rank:
            continue  # the first word of a sentence is capitalised anyway
        if name in own or name.lower() in _NOT_NAMES | _DECISION_WORDS | _KNOWN_WORDS:
            continue
        found.append((rank, name))
    names: list[str] = []
    for _, name in sorted(found, key=lambda item: item[0]):
        if name not in names:
            names.append(name)
    return names


#: Capitalised words that are not people: places, days, months, products.
_KNOWN = """hr admin q1 q2 q3 q4 h1 h2 monday tuesday wednesday thursday friday saturday sunday
    jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili january february march april
    may june july august september october november december januari februari machi aprili mei
    juni julai agosti septemba oktoba novemba desemba christmas krismasi nairobi mombasa kisumu
    nakuru naivas ajira whatsapp sms kenya tanzania"""
_KNOWN_WORDS = frozenset(_KNOWN.split())
_MAY_SEE_TEAM = ("hr", "admin", "supervisor")


def _about_someone(ctx: Ctx, tool: str, args: dict[str, Any]) -> Understood | None:
    """A read about a named person: looked up if the role may see others, else refused."""
    names = _named_people(ctx)
    if not names:
        return None
    if ctx.role not in _MAY_SEE_TEAM:
        return Reply("others_data")
    return Intent(tool, args, person=names[0], lookup=("list_employees", {"limit": 100}))


# ------------------------------------------------------------------ handlers


def _clock(tool: str) -> Callable[[Ctx], Understood]:
    said = _CLOCK_IN_SAID if tool == "clock_in" else _CLOCK_OUT_SAID + _LEAVING

    def handle(ctx: Ctx) -> Understood:
        assert ctx.guess is not None
        if ctx.guess.probability(ctx.guess.intent) >= SURE or has_any(ctx.words, said):
            return Intent(tool, {})
        # A write on a guess: ask first.
        return Reply(f"confirm_{tool}", state={"kind": "confirm", "tool": tool, "args": {}})

    return handle


def _clock_other(ctx: Ctx) -> Understood:
    name = _someone_else(ctx) or ("Yeye" if ctx.language == "sw" else "They")
    return Reply("clock_for_other", {"name": name})


def _clock_fix(ctx: Ctx) -> Understood:
    return Reply("clock_past")


def _clock_question(ctx: Ctx) -> Understood:
    if has_any(ctx.words, ("did i", "have i", "am i", "nimeingia", "nime", "je nime")):
        today = ctx.today.isoformat()
        return Intent("attendance_history", {"start": today, "end": today})
    return Intent("search_policy", {"query": ctx.text.strip()[:500]})


def _leave_request(ctx: Ctx) -> Understood:
    have: dict[str, Any] = {}
    leave_type = leave_type_named(ctx.words) or _situation_leave_type(ctx)
    if leave_type:
        have["leave_type"] = leave_type
    if has_any(ctx.words, _HALF):
        have["half_day"] = True
    if reason := leave_reason(ctx.text):
        have["reason"] = reason
    situation = _situation_leave_type(ctx)
    lead = {"compassionate": "condolence", "paternity": "congratulations"}.get(situation or "")
    lead = lead or ("congratulations" if has_any(ctx.words, _BIRTH) else None)
    if (both := ambiguous_numeric(ctx.norm, ctx.today)) is not None:
        return _ask_which_date(ctx, both, have)
    span = resolve_span(ctx.norm, ctx.today)
    state = {"kind": "dates", "have": have, "asked": 1}
    if span is not None and _days_in_week_unnamed(ctx, span):
        span = None  # "two days next week": which two is theirs to say
    if span is None:
        if _NEXT_WEEK.search(ctx.norm):  # "next week, two days": the days named next are in it
            monday = ctx.today + timedelta(days=7 - ctx.today.weekday())
            state["week"] = monday.isoformat()
        return Reply("need_dates", {"_lead": lead}, state=state)
    if span.start == span.end and _START_ONLY.search(ctx.norm) and not has_any(ctx.words, _HALF):
        # "From the 14th": a start, and the end still to come.
        have["start_date"] = span.start.isoformat()
        return Reply("need_end", {"_lead": lead}, state={**state, "have": have})
    if not any(_is_weekday(span.start, n) for n in range((span.end - span.start).days + 1)):
        # Only a weekend or a holiday: most likely the day of the event, not of the leave.
        return Reply("no_working_days", {"_lead": lead}, state=state)
    return _leave_intent(have, span.start, span.end)


def _is_weekday(start: date, offset: int) -> bool:
    return (start + timedelta(days=offset)).weekday() < 5


def _own_requests(status: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"limit": 100}
    if status:
        args["status"] = status
    return args


def _leave_cancel(ctx: Ctx) -> Understood:
    if m := re.search(r"(?:#|\b(?:request|ombi|number|namba|no\.?)\s*#?)\s*(\d{1,9})\b", ctx.norm):
        args: dict[str, Any] = {"request_id": int(m.group(1))}
        if reason := reason_given(ctx.text):
            args["reason"] = reason
        return Intent("cancel_leave", args)
    # Which one: the user's own pending requests are looked up first.
    return Intent(
        "cancel_leave",
        {},
        person="__self__",
        lookup=("list_leave_requests", _own_requests("pending")),
    )


def _leave_status(ctx: Ctx) -> Understood:
    return Intent("list_leave_requests", {})


def _leave_balance(ctx: Ctx) -> Understood:
    leave_type = leave_type_named(ctx.words)
    args = {"leave_type": leave_type} if leave_type else {}
    return _about_someone(ctx, "leave_balance", args) or Intent("leave_balance", args)


def _leave_types(ctx: Ctx) -> Understood:
    return Intent("list_leave_types", {})


def _leave_pending(ctx: Ctx) -> Understood:
    return Intent("list_leave_requests", {"status": "pending"})


def _leave_decide(ctx: Ctx) -> Understood:
    rejecting = has_any(ctx.words, _DECIDE_REJECT)
    args: dict[str, Any] = {"decision": "reject" if rejecting else "approve"}
    if reason := reason_given(ctx.text) or _trailing_reason(ctx.text):
        args["comment"] = reason
    m = re.search(r"(?:#|\b(?:request|ombi|number|namba|no\.?)\s*#?)\s*(\d{1,9})\b", ctx.norm)
    if m or (m := _DECIDED_NUMBER.search(ctx.norm)):
        args["request_id"] = int(m.group(1))
        if rejecting and "comment" not in args:
            return Reply(
                "need_reason", {"who": f"#{args['request_id']}"},
                state={"kind": "reason", "args": args, "names": []},
            )  # fmt: skip
        return Intent("approve_leave", args)
    names = _named_people(ctx)
    if rejecting and "comment" not in args:
        return Reply(
            "need_reason", {"who": names[0] if names else "..."},
            state={"kind": "reason", "args": args, "names": names},
        )  # fmt: skip
    return Intent(
        "approve_leave",
        args,
        person="|".join(names) or "__any__",
        lookup=("list_leave_requests", _own_requests("pending")),
    )


def _trailing_reason(text: str) -> str | None:
    """A reason written after the request itself: "reject Amina's leave, we're short"."""
    parts = re.split(r"[,.;:]\s+|\s+-\s+", text.strip(), maxsplit=1)
    if len(parts) == 2 and len(parts[1].split()) >= 3:
        return parts[1].strip()[:1000]
    return None


_DECISION_WORDS = frozenset(
    [
        "approve",
        "reject",
        "decline",
        "deny",
        "kubali",
        "kataa",
        "mpe",
        "ruhusu",
        "idhinisha",
        "mruhusu",
        "leave",
        "likizo",
        "request",
        "ombi",
        "go",
    ]
)


def _payslip(ctx: Ctx) -> Understood:
    ym = resolve_month(ctx.norm, ctx.today)
    args: dict[str, Any] = {"month": f"{ym[0]:04d}-{ym[1]:02d}"} if ym else {}
    if person := other_person(ctx.text):
        if not ctx.privileged:
            return Reply("others_payslip", {"name": person})
        return Intent(
            "fetch_payslip", args, person=person, lookup=("list_employees", {"limit": 100})
        )
    return Intent("fetch_payslip", args)


def _payslip_list(ctx: Ctx) -> Understood:
    if m := re.search(r"\b(20\d\d)\b", ctx.norm):
        return Intent("list_payslips", {"year": int(m.group(1))})
    return Intent("list_payslips", {})


_SW_UNITS = {
    "moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7, "nane": 8,
    "tisa": 9, "kumi": 10, "ishirini": 20, "thelathini": 30, "arobaini": 40, "hamsini": 50,
    "sitini": 60, "sabini": 70, "themanini": 80, "tisini": 90,
}  # fmt: skip
_SW_AMOUNT = re.compile(
    r"\blaki (?P<laki>"
    + "|".join(_SW_UNITS)
    + r"|\d+)(?P<half> na nusu)?(?: na elfu (?P<elfu1>"
    + "|".join(_SW_UNITS)
    + r"|\d+))?\b|\belfu (?P<elfu>"
    + "|".join(_SW_UNITS)
    + r"|\d+)\b"
)


def _amount(ctx: Ctx) -> str | None:
    """A monthly amount: "120,000", "120k", or in Swahili words ("laki moja na elfu ishirini")."""
    if (gross := gross_amount(ctx.text)) is not None:
        return gross
    m = _SW_AMOUNT.search(ctx.norm)
    if m is None:
        return None

    def value(word: str | None) -> int:
        return 0 if word is None else int(word) if word.isdigit() else _SW_UNITS[word]

    total = value(m["laki"]) * 100_000 + value(m["elfu1"]) * 1_000 + value(m["elfu"]) * 1_000
    if m["half"]:
        total += 50_000  # "laki moja na nusu": one and a half hundred thousand
    return str(total) if total else None


def _net_pay(ctx: Ctx) -> Understood:
    if (gross := _amount(ctx)) is not None:
        args: dict[str, object] = {"gross": gross}
        if (paid := _PAID_ON.search(ctx.norm)) and (span := resolve_span(paid[1], ctx.today)):
            args["pay_date"] = span.start.isoformat()  # "if it's paid on 23 December"
        return Intent("salary_preview", args)
    return Reply("need_amount", state={"kind": "amount"})


_PAID_ON = re.compile(
    r"\b(?:paid on|pay date(?: is| of)?|paid|ikilipwa|italipwa|ikilipwa tarehe|"
    r"tarehe ya malipo(?: ni)?)\s+(.{3,30})"
)


def _mood(ctx: Ctx) -> Understood:
    if (score := _explicit_score(ctx)) is not None:
        return Intent("submit_mood", {"score": score})
    if _OTHER_SCALE.search(ctx.norm):
        return Reply("mood_scale", state={"kind": "score"})
    return Reply("ask_mood", state={"kind": "score"})


def _feeling(ctx: Ctx) -> Understood:
    good = has_any(ctx.words, _GOOD_FEELING) and not has_any(ctx.words, _LOW_FEELING)
    if good:
        return Reply("feeling_good", state={"kind": "score"})
    return Reply("feeling_low", state={"kind": "offer", "text": ctx.text[:1000]})


def _issue_category(ctx: Ctx) -> str:
    for code, phrases in _MORE_CATEGORY_WORDS:
        if has_any(ctx.words, phrases):
            return code
    for code, phrases in ISSUE_CATEGORIES:
        if has_any(ctx.words, phrases):
            return code
    return "other"


#: Tell-tale words the first pass must see before the general lists ("overtime" not paid is
#: pay, not workload).
_MORE_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pay", ("not paid", "hatujalipwa", "sijalipwa", "unpaid", "underpaid", "deducted",
             "hawajalipa", "kulipwa", "hayajalipwa", "haijalipwa", "hayajatolewa")),
    ("harassment", ("insult", "insults", "tukana", "anawatukana", "ananitukana", "matusi",
                    "shouts", "yells", "abuse", "abusive", "touch", "touched", "kunigusa",
                    "ananigusa", "bila ridhaa", "without consent", "kimapenzi", "sexual")),
    ("discrimination", ("passed over", "because i'm a woman", "because we are women",
                        "kwa sababu ya kabila", "pregnant", "mimba")),
    ("safety", ("exit", "fire", "blocked", "imefungwa", "ataumia", "injured", "hazard",
                "danger", "dangerous", "unsafe", "machine", "guard")),
    ("facilities", ("toilet", "toilets", "vyoo", "choo", "water", "maji", "canteen", "light")),
    ("workload", ("short staffed", "people short", "12-hour", "12 hour", "double shift",
                  "overworked", "too much work", "kazi ya watu", "work of two", "work of three",
                  "two people's work", "three people's work", "no replacement",
                  "hakuna replacement")),
)  # fmt: skip
_REPORT_WORDS = (
    "report", "ripoti", "kuripoti", "anonymous issue", "raise an issue", "file a complaint",
    "anonymous report", "raise an anonymous", "ripoti bila", "report bila",
    "complaint", "malalamiko", "lalamiko", "whistleblow", "grievance", "anonymously",
    "bila jina",
)  # fmt: skip


def _asks_how(ctx: Ctx) -> bool:
    return bool(
        re.match(
            r"^\s*(?:how|what|where|who|which|is there|je|vipi|nani|namna gani|nitafanyaje)\b",
            ctx.norm,
        )
    ) or has_any(ctx.words, ("what's the process", "procedure", "utaratibu", "how do i"))


#: A message that opens by asking to file a report: what follows is the report.
_REPORT_START = re.compile(
    r"^\s*(?:i (?:want|would like|'d like|need) to (?:file |make |raise )?(?:an? )?"
    r"(?:anonymous )?(?:report|complaint)|(?:please )?report (?:this|hii|that)?\s*"
    r"(?:anonymously|bila jina)|nataka kuripoti|naomba kuripoti|"
    r"ripoti (?:hii )?(?:bila|kwa siri)|anonymous report\s*:)"
)


def _asks_who(ctx: Ctx) -> bool:
    """ "Who reported …?", "nani aliripoti …", "I want the name of whoever complained"."""
    return bool(re.match(r"^\s*(?:who|nani)\b", ctx.norm)) or has_any(
        ctx.words, ("who reported", "who complained", "who filed", "nani aliripoti",
                    "nani alireport", "jina lake", "their name", "his name", "her name")
    )  # fmt: skip


def _about_reports(ctx: Ctx) -> bool:
    """ "The monthly report", "ripoti ya mwezi": a report to read, not one to file."""
    return has_any(ctx.words, ("monthly report", "work report", "ripoti ya mwezi", "ripoti ya kazi",
                               "report for", "attendance report"))  # fmt: skip


def _report_issue(ctx: Ctx) -> Understood:
    if _about_reports(ctx):
        return _work_report(ctx)
    if _asks_who(ctx):
        return Reply("report_author")  # reports carry no name, for anyone to ask for
    if _asks_how(ctx) or is_question(ctx.text):
        if ctx.privileged and has_any(ctx.words, ("complaints", "reports", "malalamiko", "ripoti")):
            return _wellness_summary(ctx)  # "any anonymous complaints lately?"
        return _policy(ctx)  # "how do I raise a grievance?" asks for the procedure
    body = ctx.text.strip()
    if ":" in body and len(body.split(":", 1)[1].strip()) >= 3:
        body = body.split(":", 1)[1].strip()
    args = {"category": _issue_category(ctx), "text": body[:4000]}
    assert ctx.guess is not None
    if ctx.guess.probability("report_issue") >= SURE or has_any(ctx.words, _REPORT_WORDS):
        return Intent("report_issue", args)
    return Reply(
        "confirm_report",
        {"category": args["category"]},
        state={"kind": "confirm", "tool": "report_issue", "args": args},
    )


def _wellness_summary(ctx: Ctx) -> Understood:
    if _named_people(ctx) and has_any(ctx.words, ("mood", "feeling", "score", "hali")):
        # One person's mood: never, not even for hr.
        return Reply("wellness_individual")
    args: dict[str, Any] = {}
    if has_any(ctx.words, ("department", "departments", "idara", "kila idara", "per team",
                           "by team")):  # fmt: skip
        args["group_by"] = "department"
    since = re.search(r"\b(?:since|from|starting|tangu|kuanzia)\b(.{3,40})", ctx.norm)
    if since and (ym := resolve_month(since[1], ctx.today)) is not None:
        args["start"] = date(ym[0], ym[1], 1).isoformat()  # "since September", "tangu Oktoba"
    return Intent("wellness_summary", args)


def _wellness_notes(ctx: Ctx) -> Understood:
    return Intent("review_wellness_notes", {})


_REVIEW_SCORE = re.compile(
    r"\b(?:overall|score|scored|rating|rated|alama|rate)\s*(?:of|is|=|:|ya|ni)?\s*"
    r"(?P<a>[1-5](?:[.,]\d)?)\b"
    r"|\b(?P<b>[1-5](?:[.,]\d)?)\s*(?:/\s*5|out of 5|overall|kati ya 5)"
)
_QUARTER = re.compile(r"\b(?P<y1>20\d\d)?[- ]?(?P<p>[qh][1-4])(?:[- ](?P<y2>20\d\d))?\b")
_FEEDBACK = re.compile(
    r"(?:feedback|comment|maoni|notes?)\s*[:\-]\s*(?P<f>.+?)(?=goals?\s*[:\-]|$)", re.I
)
_GOALS = re.compile(r"(?:goals?|malengo)\s*[:\-]\s*(?P<g>.+)$", re.I)


def _review_slots(ctx: Ctx, have: dict[str, Any]) -> dict[str, Any]:
    """What this message adds to a review: the person, period, score, feedback, goals."""
    slots = dict(have)
    if m := _REVIEW_SCORE.search(ctx.norm):
        slots["overall_score"] = float((m["a"] or m["b"]).replace(",", "."))
    if m := _QUARTER.search(ctx.norm):
        year = m["y1"] or m["y2"] or str(ctx.today.year)
        slots["period"] = f"{year}-{m['p'].upper()}"
    elif (ym := resolve_month(ctx.norm, ctx.today)) is not None:
        slots["period"] = f"{ym[0]:04d}-{ym[1]:02d}"
    elif m := re.search(r"\b(20\d\d)\b", ctx.norm):
        slots["period"] = m.group(1)
    elif has_any(ctx.words, ("this year", "mwaka huu", "the year")):
        slots["period"] = str(ctx.today.year)
    elif has_any(ctx.words, ("last year", "mwaka jana")):
        slots["period"] = str(ctx.today.year - 1)
    if "person" not in slots and (names := _named_people(ctx)):
        slots["person"] = names[0]
    if m := _FEEDBACK.search(ctx.text):
        slots["feedback"] = m["f"].strip(" .,;")[:2000]
    elif (m := _REVIEW_SCORE.search(ctx.text)) and len(
        rest := ctx.text[m.end() :].strip(" .,;:-")
    ) >= 10:
        slots.setdefault("feedback", rest[:2000])
    if m := _GOALS.search(ctx.text):
        slots["goals"] = [g.strip() for g in re.split(r"[;,]|\band\b", m["g"]) if g.strip()][:10]
    return slots


def _review_write(ctx: Ctx) -> Understood:
    return _review_next(_review_slots(ctx, {}))


def _review_next(slots: dict[str, Any]) -> Understood:
    missing = [k for k in ("person", "period", "overall_score") if k not in slots]
    if missing:
        return Reply("need_review", state={"kind": "review", "have": slots})
    args: dict[str, Any] = {
        k: slots[k] for k in ("period", "overall_score", "feedback", "goals") if k in slots
    }
    return Intent(
        "submit_review", args, person=slots["person"], lookup=("list_employees", {"limit": 100})
    )


def _review_list(ctx: Ctx) -> Understood:
    period = review_period(ctx.norm)
    args = {"period": period} if period else {}
    return _about_someone(ctx, "list_reviews", args) or Intent("list_reviews", args)


def _payroll_run(ctx: Ctx) -> Understood:
    ym = resolve_month(ctx.norm, ctx.today, past=False)
    finalize = has_any(
        ctx.words, ("final", "finalise", "finalize", "finalised", "kamilisha")
    ) and not re.search(r"\b(?:don'?t|do not|not|usi|bila|draft)\b", ctx.norm)
    draft = has_any(ctx.words, ("draft", "rasimu", "don't finalize", "dont finalize"))
    args: dict[str, Any] = (
        {"finalize": True} if finalize else ({"finalize": False} if draft else {})
    )
    if ym is None:
        return Reply("need_month", state={"kind": "month", "tool": "run_payroll", "args": args})
    return Intent("run_payroll", {**args, "month": f"{ym[0]:04d}-{ym[1]:02d}"})


def _profile(ctx: Ctx) -> Understood:
    return Intent("my_profile", {})


def _team(ctx: Ctx) -> Understood:
    return Intent("list_employees", {})


def _attendance(ctx: Ctx) -> Understood:
    args = attendance_window(ctx.norm, ctx.today)
    return _about_someone(ctx, "attendance_history", args) or Intent("attendance_history", args)


def _work_report(ctx: Ctx) -> Understood:
    ym = resolve_month(ctx.norm, ctx.today)
    return Intent("monthly_work_report", {"year": ym[0], "month": ym[1]} if ym else {})


#: Words that ask for a picture rather than figures; whole words only ("chat" is not "chart").
_CHART_WORDS = frozenset(
    {"chart", "charts", "graph", "graphs", "plot", "diagram", "visual", "visualise", "visualize",
     "picture", "chati", "grafu", "mchoro", "michoro", "picha"}
)  # fmt: skip
_MOOD_WORDS = ("mood", "moods", "morale", "wellness", "wellbeing", "feeling", "feel", "hali",
               "ustawi", "hisia", "morali", "furaha")  # fmt: skip
#: Intents a request for a chart of a report may be learned as.
_CHART_LOOKALIKES = frozenset({"work_report", "wellness_summary", "attendance_history"})
_WEEKS = re.compile(r"\b(?:last|past|wiki)\s+(\d{1,2})(?:\s+(?:weeks?|zilizopita))?\b"
                    r"|\b(\d{1,2})\s+(?:weeks?|wiki)\b")  # fmt: skip


def _asks_for_chart(ctx: Ctx) -> bool:
    return any(word in _CHART_WORDS for word in ctx.words)


def _report_chart(ctx: Ctx) -> Understood:
    args: dict[str, Any] = {"language": ctx.language}
    if has_any(ctx.words, _MOOD_WORDS):
        if (m := _WEEKS.search(ctx.norm)) and 1 <= (weeks := int(m[1] or m[2])) <= 26:
            args["weeks"] = weeks
        return Intent("wellness_chart", args)
    if (ym := resolve_month(ctx.norm, ctx.today)) is not None:
        args |= {"year": ym[0], "month": ym[1]}
    return Intent("work_report_chart", args)


def _policy(ctx: Ctx) -> Understood:
    return Intent("search_policy", {"query": ctx.text.strip()[:500]})


def _ask_hr(ctx: Ctx) -> Understood:
    question = question_for_hr(ctx.text)
    handoff_only = len(tokens(normalize(question))) <= 6 and question.strip() == ctx.text.strip()
    if handoff_only and not re.search(r"\b(?:about|kuhusu|that|kwamba|whether|kama)\b", ctx.norm):
        return Reply("need_question_for_hr", state={"kind": "hr_question"})
    return Intent("ask_hr", {"question": question})


def _hr_cases(ctx: Ctx) -> Understood:
    open_only = has_any(ctx.words, ("open", "waiting", "unanswered", "zilizo wazi", "wazi"))
    return Intent("list_hr_cases", {"status": "open"} if open_only else {})


def _hr_case_answer(ctx: Ctx) -> Understood:
    # "Reply to John's question: yes, ..." - the answer is after the colon, the case is
    # John's open one.
    answer = ctx.text.split(":", 1)[1].strip() if ":" in ctx.text else ""
    names = _named_people(
        Ctx(ctx.text.split(":", 1)[0], ctx.norm, ctx.words, ctx.conv, ctx.role, ctx.language)
    )
    if len(answer) < 2:
        return Reply("need_answer")
    return Intent(
        "answer_hr_case",
        {"answer": answer[:4000]},
        person="|".join(names) or "__any__",
        lookup=("list_hr_cases", {"status": "open"}),
    )


#: "tell", "send a message to", "waambie", "tuma ujumbe kwa": what starts a message to staff.
_MESSAGE_VERB = re.compile(
    r"\b(?:send|tuma|tumia)\s+(?:out\s+)?(?:a\s+|an\s+)?(?:quick\s+|short\s+)?"
    r"(?:message|msg|note|notice|announcement|memo|sms|text|ujumbe|meseji|tangazo)"
    r"(?:\s+(?:to|for|kwa))?"
    r"|\b(?:broadcast|announce|tangaza|tangazia)(?:\s+(?:to|kwa))?"
    r"|\b(?:tell|inform|notify|remind|let|message|text|waambie|mwambie|wajulishe|mjulishe|"
    r"watangazie|wakumbushe|mkumbushe|waeleze|mweleze|ambia)\b",
    re.IGNORECASE,
)
#: Where the audience ends and the message begins: "that", ":", "kwamba", "ati", "saying".
_MESSAGE_SPLIT = re.compile(
    r"\s*(?::|\s-\s|\bknow\s+that\b|\bknow\b|\bthat\b|\bkwamba\b|\bkuwa\b|\bati\b|"
    r"\bsaying\b|\bsema\b|\bya\s+kwamba\b)[\s,]*",
    re.IGNORECASE,
)
_EVERYONE_SAID = re.compile(
    r"^(?:to\s+|kwa\s+)?(?:everyone|everybody|all\s+(?:the\s+)?(?:staff|employees|workers)|"
    r"the\s+whole\s+(?:company|staff|organi[sz]ation)|all|"
    r"wafanyakazi\s+wote|watu\s+wote|wasee\s+wote|kila\s+mtu|kila\s+mfanyakazi|wote|"
    r"staff\s+wote|(?:the\s+)?staff|wafanyakazi)\b",
    re.IGNORECASE,
)
#: A department or people named by their capitalised name, with the words around it.
_NAMED_AUDIENCE = re.compile(
    r"^(?:to\s+|kwa\s+)?(?:the\s+|watu\s+wa\s+|wa\s+|idara\s+ya\s+|team\s+ya\s+|"
    r"wasee\s+wa\s+)?(?P<name>#?\d{1,9}|[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)"
    r"(?:\s+(?:team|department|dept|staff|people|section|idara))?\b",
)
_MESSAGE_STATUS = re.compile(
    r"\b(?:status|delivery|deliveries|hali)\s+(?:of|ya)\s+(?:the\s+)?(?:message|ujumbe|msg)"
    r"\s*#?\s*(?P<id>\d{1,9})\b"
    r"|\b(?:message|ujumbe)\s*#\s*(?P<id2>\d{1,9})\s+(?:status|delivered|imefika|umefika)"
)


def _clean_audience(said: str) -> str:
    said = said.strip(" ,.;:!?-\"'“”")
    if _EVERYONE_SAID.fullmatch(said):
        return "everyone"
    if m := _NAMED_AUDIENCE.fullmatch(said):
        return m["name"]
    return re.sub(r"^(?:to|kwa|the|watu wa|idara ya)\s+", "", said, flags=re.IGNORECASE)


def _message_parts(text: str, *, bare: bool = False) -> tuple[str | None, str | None]:
    """Who a message is for and what it says, from "tell everyone that …", "waambie watu
    wa Logistics kikao ni saa nne", "send a message to John: …". `bare`: the text may be
    only the audience (the answer to "who is it for?")."""
    text = text.strip()
    verb = _MESSAGE_VERB.search(text)
    if verb is None and not bare:
        return None, None
    rest = text[verb.end() :].strip() if verb is not None else text
    rest = re.sub(r"^(?:to|kwa)\s+", "", rest, flags=re.IGNORECASE)
    to: str | None = None
    body: str | None = None
    split = _MESSAGE_SPLIT.search(rest)
    if split is not None and 0 < len(rest[: split.start()].split()) <= 5:
        to, body = _clean_audience(rest[: split.start()]), rest[split.end() :]
    elif (everyone := _EVERYONE_SAID.match(rest)) is not None:
        to, body = "everyone", rest[everyone.end() :]
    elif (named := _NAMED_AUDIENCE.match(rest)) is not None:
        to, body = named["name"], rest[named.end() :]
    elif bare and 0 < len(rest.split()) <= 4:
        to, body = _clean_audience(rest), ""
    elif split is not None and split.start() == 0:
        body = rest[split.end() :]
    body = (body or "").strip(" ,;-\"'“”").strip()
    return (to or None), (body[:1000] or None)


def _send_message(ctx: Ctx) -> Understood:
    to, text = _message_parts(ctx.text)
    return _message_next({k: v for k, v in (("to", to), ("text", text)) if v})


def _message_next(have: dict[str, Any]) -> Understood:
    if not have.get("to"):
        return Reply("need_message_to", state={"kind": "message", "have": have})
    if not have.get("text"):
        return Reply(
            "need_message_text", {"to": have["to"]}, state={"kind": "message", "have": have}
        )
    return Intent("send_message", {"to": have["to"], "text": have["text"]})


def _message_status(ctx: Ctx) -> Understood:
    m = _MESSAGE_STATUS.search(ctx.norm)
    if m is None:
        return Reply("help")
    return Intent("message_status", {"broadcast_id": int(m["id"] or m["id2"])})


_STOP = ("stop", "no more", "don't send", "dont send", "do not send", "turn off", "switch off",
         "turn them off", "turn it off", "switch them off", "switch it off", "don't want",
         "mute", "disable", "unsubscribe", "silence", "enough", "acha", "achana", "sitaki",
         "usinitumie", "usinikumbushe", "zima", "ondoa", "sihitaji", "nimechoka na")  # fmt: skip
_RESUME = ("start again", "resume", "turn on", "switch on", "unmute", "enable", "send again",
           "back on", "on again", "turn them on", "turn it on", "switch them on",
           "bring back", "want the", "washa", "rudisha", "anza tena", "nitumie tena",
           "nikumbushe tena", "rejesha")  # fmt: skip
_QUIET_OFF = ("no quiet hours", "remove quiet hours", "remove the quiet hours",
              "cancel quiet hours", "clear quiet hours", "any time", "anytime", "wakati wowote",
              "muda wowote", "ondoa muda wa kimya")  # fmt: skip
_QUIET_SAID = ("quiet", "after", "before", "between", "night", "weekend", "kimya", "baada ya",
               "kabla ya", "usiku")  # fmt: skip
_FOR_EVERYONE = ("for everyone", "for all staff", "for the company", "company wide",
                 "company-wide", "for the whole", "kwa wote", "kwa kila mtu",
                 "kwa kampuni")  # fmt: skip


def _preferences(ctx: Ctx) -> Understood:
    """ "stop the mood reminders", "nitumie ujumbe kwa SMS", "nothing after 9pm please"."""
    reminders = reminders_named(ctx.words)
    resume = has_any(ctx.words, _RESUME)
    stop = not resume and has_any(ctx.words, _STOP)
    if ctx.role == "admin" and reminders and (stop or resume) and has_any(ctx.words, _FOR_EVERYONE):
        return Intent("automation_settings", {"name": reminders[0], "enabled": resume})
    args: dict[str, Any] = {}
    if reminders and (stop or resume):
        args["unmute" if resume else "mute"] = reminders
    if has_any(ctx.words, _QUIET_OFF):
        args["no_quiet_hours"] = True
    elif (hours := quiet_hours(ctx.norm)) is not None:
        args["quiet_start"], args["quiet_end"] = (f"{t:%H:%M}" for t in hours)
    elif not args and has_any(ctx.words, _QUIET_SAID) and (stop or "quiet" in ctx.words):
        return Reply("need_quiet_hours")
    if (channel := notify_channel(ctx.words)) is not None and not (stop and not args):
        args["channel"] = channel
    return Intent("set_preferences", args) if args else Intent("get_preferences", {})


def _others_data(ctx: Ctx) -> Understood:
    if has_any(ctx.words, ("mood", "feeling", "hali yake", "score", "anajisikia")):
        return Reply("wellness_individual")
    if has_any(ctx.words, ("payslip", "pay slip", "salary", "mshahara", "earn", "pay")):
        names = _named_people(ctx)
        if ctx.privileged and names:
            return _payslip(ctx)
        if names:
            return Reply("others_payslip", {"name": names[0]})
        return Reply("others_data")
    if has_any(ctx.words, ("balance", "days", "siku", "salio", "left")):
        return _leave_balance(ctx)
    if has_any(ctx.words, ("late", "attendance", "clock", "mahudhurio", "alichelewa")):
        return _attendance(ctx)
    if has_any(ctx.words, ("review", "tathmini", "performance")):
        return _review_list(ctx)
    return Reply("others_data")


def _simple(key: str) -> Callable[[Ctx], Understood]:
    def handle(ctx: Ctx) -> Understood:
        return Reply(key, {"name": first_name(ctx.conv.user_name or "")})

    return handle


def _help(ctx: Ctx) -> Understood:
    return Reply("help")


HANDLERS: dict[str, Callable[[Ctx], Understood]] = {
    "clock_in": _clock("clock_in"),
    "clock_out": _clock("clock_out"),
    "clock_other": _clock_other,
    "clock_fix": _clock_fix,
    "clock_question": _clock_question,
    "leave_request": _leave_request,
    "leave_cancel": _leave_cancel,
    "leave_status": _leave_status,
    "leave_balance": _leave_balance,
    "leave_types": _leave_types,
    "leave_pending": _leave_pending,
    "leave_decide": _leave_decide,
    "payslip": _payslip,
    "payslip_list": _payslip_list,
    "net_pay": _net_pay,
    "mood_checkin": _mood,
    "feeling": _feeling,
    "report_issue": _report_issue,
    "wellness_summary": _wellness_summary,
    "wellness_notes": _wellness_notes,
    "review_write": _review_write,
    "review_list": _review_list,
    "payroll_run": _payroll_run,
    "profile": _profile,
    "team_list": _team,
    "attendance_history": _attendance,
    "work_report": _work_report,
    "report_chart": _report_chart,
    "policy_question": _policy,
    "ask_hr": _ask_hr,
    "hr_cases": _hr_cases,
    "hr_case_answer": _hr_case_answer,
    "send_message": _send_message,
    "message_status": _message_status,
    "preferences": _preferences,
    "greeting": lambda ctx: (
        Reply("marahaba")
        if has_any(ctx.words, ("shikamoo", "shikamo"))
        else _simple("greeting")(ctx)
    ),
    "thanks": _simple("thanks"),
    "goodbye": _simple("goodbye"),
    "help": _help,
    "out_of_scope": _simple("out_of_scope"),
    "injection": _simple("injection"),
    "others_data": _others_data,
    "affirm": _simple("nothing_pending"),
    "deny": _simple("okay_not_done"),
}


def amend_leave(args: dict[str, Any], text: str, conv: Conversation) -> dict[str, Any] | None:
    """A leave request's arguments changed as `text` says ("no, make it Tuesday"), or None."""
    norm = normalize(text)
    words = tokens(norm)
    changed = dict(args)
    if (leave_type := leave_type_named(words)) is not None:
        changed["leave_type"] = leave_type
    span = resolve_span(norm, conv.today)
    weekday = _lone_weekday(norm)
    if weekday is not None and args.get("end_date") and has_any(words, _ADDING):
        # "Add the Monday after as well": the leave now runs to that day.
        end = date.fromisoformat(args["end_date"])
        changed["end_date"] = (
            end + timedelta(days=(weekday - end.weekday() - 1) % 7 + 1)
        ).isoformat()
        return changed
    several = {w for w in words if w in WEEKDAYS}
    if len(several) > 1 and args.get("start_date") and not _NAMES_A_WEEK.search(norm):
        # "No, make it Thursday and Friday": those days of the week being talked about.
        start = date.fromisoformat(args["start_date"])
        if not re.search(r"\d", norm):
            span = _in_week(norm, start - timedelta(days=start.weekday())) or span
    if weekday is not None and args.get("start_date"):
        # "No, make it Tuesday": the Tuesday of the week already being talked about.
        start = date.fromisoformat(args["start_date"])
        day = start - timedelta(days=start.weekday()) + timedelta(days=weekday)
        if day >= conv.today:
            span = Span(day, day)
    if span is not None:
        changed["start_date"], changed["end_date"] = span.start.isoformat(), span.end.isoformat()
    elif (m := re.search(r"\b(\d{1,2}) (?:working )?days?\b|\bsiku (\d{1,2})\b", norm)) and (
        start_text := args.get("start_date")
    ):
        from assistant.offline.dates import _add_working_days

        count = int(m.group(1) or m.group(2))
        if 1 <= count <= 60:
            first = date.fromisoformat(start_text)
            changed["end_date"] = _add_working_days(first, count).isoformat()
    if has_any(words, _HALF):
        changed["half_day"] = True
        changed["end_date"] = changed["start_date"]
    elif has_any(words, ("full day", "whole day", "siku nzima")):
        changed.pop("half_day", None)
    return changed if changed != args else None


_NAMES_A_WEEK = re.compile(r"\b(?:next|this|ijayo|hii|coming)\b")
_ADDING = ("add", "extend", "as well", "plus", "ongeza", "pia", "na hiyo")


def _lone_weekday(norm: str) -> int | None:
    """The one weekday a message names without "next" or "this", if that is all it names."""
    named = [WEEKDAYS[w] for w in tokens(norm) if w in WEEKDAYS]
    if len(named) != 1 or _NAMES_A_WEEK.search(norm):
        return None
    return named[0]


def is_question(text: str) -> bool:
    """Whether `text` reads as a question (a mark, or a question word first)."""
    norm = normalize(text)
    return norm.endswith("?") or bool(
        re.match(
            r"^(?:how|what|when|where|which|who|whose|why|is|are|can|do|does|will|should|je|"
            r"kuna|nini|nani|vipi|lini|wapi|naweza|ni lazima)\b",
            norm,
        )
    )


def _end_after(start: date, ctx: Ctx) -> date | None:
    """The end a message gives for a leave starting on `start`: "until the 24th", "3 days"."""
    from assistant.offline.dates import _with_duration

    if (m := re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", ctx.norm)) and _UNTIL.search(ctx.norm):
        day = int(m.group(1))
        month_start = start.replace(day=1)
        for offset in (0, 1):
            month = (month_start + timedelta(days=32 * offset)).replace(day=1)
            try:
                candidate = month.replace(day=day)
            except ValueError:
                continue
            if candidate >= start:
                span = resolve_span(ctx.norm, ctx.today)
                if span is not None and span.end.day == day and span.end >= start:
                    return span.end  # the month was named
                return candidate
    if (span := _with_duration(ctx.norm, start)) is not None:
        return span.end
    return None


_UNTIL = re.compile(r"\b(?:to|until|till|hadi|mpaka|up to|through)\b")


#: Public holidays of every country Ajira serves (Kenya and Tanzania alike).
_SHARED_HOLIDAYS = frozenset({(1, 1), (12, 25), (12, 26)})


def _has_working_day(args: dict[str, Any]) -> bool:
    start, end = date.fromisoformat(args["start_date"]), date.fromisoformat(args["end_date"])
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return any(d.weekday() < 5 and (d.month, d.day) not in _SHARED_HOLIDAYS for d in days)
