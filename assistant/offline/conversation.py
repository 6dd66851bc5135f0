"""What the offline model reads from the system message: today, timezone, language, user."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from langchain_core.messages import BaseMessage, SystemMessage

from assistant.offline.text import normalize, tokens

_LINE = re.compile(r"^\s*(Today|Timezone|Language|User|Employer)\s*:\s*(.+?)\s*$", re.M)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_USER = re.compile(r"^(?P<name>.+?)\s*\((?P<role>[a-z_]+)\)$")

#: Words that say a message is Swahili; a few are enough, English has none of them.
_SWAHILI = frozenset(
    [
        "nataka",
        "naomba",
        "nipe",
        "niletee",
        "nionyeshe",
        "nionyesha",
        "ninataka",
        "ningependa",
        "je",
        "ni",
        "ya",
        "wa",
        "kwa",
        "na",
        "likizo",
        "siku",
        "ngapi",
        "kesho",
        "leo",
        "jana",
        "mwezi",
        "mwaka",
        "tarehe",
        "hadi",
        "mpaka",
        "ombi",
        "maombi",
        "kubali",
        "kataa",
        "futa",
        "ghairi",
        "mshahara",
        "hali",
        "yangu",
        "najisikia",
        "nimefika",
        "naondoka",
        "ingia",
        "toka",
        "kazini",
        "salio",
        "zimebaki",
        "nimebakiwa",
        "ugonjwa",
        "uzazi",
        "msiba",
        "bila",
        "malipo",
        "ripoti",
        "kuripoti",
        "nimechoka",
        "vibaya",
        "nzuri",
        "vizuri",
        "sana",
        "habari",
        "asante",
        "tafadhali",
        "kuongea",
        "ongea",
        "wiki",
        "ijayo",
        "hii",
        "sera",
        "nini",
        "gani",
        "vipi",
        "naweza",
        "ninaweza",
        "nina",
        "una",
        "zangu",
        "wangu",
        "yako",
        "mimi",
        "sijambo",
        "mahudhurio",
        "tathmini",
        "ruhusa",
        "nusu",
        "jumatatu",
        "jumanne",
        "jumatano",
        "alhamisi",
        "ijumaa",
        "jumamosi",
        "jumapili",
        "ndiyo",
        "hapana",
        "kuingia",
        "kutoka",
        "kazi",
        "saa",
        "sababu",
        "huu",
        "hili",
        "hiyo",
        "ili",
    ]
)
_ENGLISH = frozenset(
    [
        "i",
        "me",
        "my",
        "the",
        "a",
        "an",
        "to",
        "for",
        "on",
        "in",
        "of",
        "and",
        "please",
        "want",
        "need",
        "show",
        "give",
        "send",
        "how",
        "what",
        "when",
        "is",
        "are",
        "do",
        "does",
        "can",
        "could",
        "would",
        "will",
        "leave",
        "request",
        "clock",
        "out",
        "day",
        "days",
        "today",
        "tomorrow",
        "next",
        "week",
        "month",
        "payslip",
        "balance",
        "feeling",
        "feel",
        "mood",
        "report",
        "review",
        "approve",
        "reject",
        "cancel",
        "talk",
        "with",
        "from",
        "have",
        "left",
        "many",
        "much",
        "policy",
        "allowed",
        "am",
        "hi",
        "hello",
        "thanks",
        "thank",
        "you",
        "yes",
        "no",
    ]
)


@dataclass(frozen=True, slots=True)
class Conversation:
    """The facts of the conversation the agent put in its system message."""

    today: date
    timezone: str
    language: str
    user_name: str | None
    role: str | None
    employer: str | None


def read_conversation(messages: Sequence[BaseMessage]) -> Conversation:
    """Parse the system message's fact lines; today (UTC) and English when absent."""
    found: dict[str, str] = {}
    for message in messages:
        if isinstance(message, SystemMessage):
            for key, value in _LINE.findall(message.text):
                found.setdefault(key, value)
    today = datetime.now(UTC).date()
    if m := _ISO_DATE.search(found.get("Today", "")):
        with suppress(ValueError):
            today = date.fromisoformat(m.group())
    language = found.get("Language", "en").strip().lower()[:2]
    user_name, role = None, None
    if user := found.get("User"):
        m = _USER.match(user)
        user_name, role = (m["name"], m["role"]) if m else (user, None)
    return Conversation(
        today=today,
        timezone=found.get("Timezone", "UTC"),
        language=language if language in ("en", "sw") else "en",
        user_name=user_name,
        role=role,
        employer=found.get("Employer"),
    )


def detect_language(text: str, default: str) -> str:
    """'sw' or 'en' for a message, or `default` when it does not say clearly."""
    words = tokens(normalize(text))
    sw = sum(1 for w in words if w in _SWAHILI)
    en = sum(1 for w in words if w in _ENGLISH)
    if sw > en:
        return "sw"
    if en > sw:
        return "en"
    return default
