"""What the offline model reads from the system message: today, timezone, language, user."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from langchain_core.messages import BaseMessage, SystemMessage

_LINE = re.compile(r"^\s*(Today|Timezone|Language|User|Employer)\s*:\s*(.+?)\s*$", re.M)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_USER = re.compile(r"^(?P<name>.+?)\s*\((?P<role>[a-z_]+)\)$")


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
