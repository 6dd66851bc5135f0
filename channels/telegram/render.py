"""A reply as Telegram messages: plain text in pieces of at most 4096 characters, sources
listed after it, and a waiting confirmation as two inline buttons.

Plain text (no `parse_mode`) so nothing the assistant or a policy quotes can break the
markup. A button carries `cf:y:<digest>` or `cf:n:<digest>`, where the digest names the
action it answers: a press is honoured only while that action is still the one waiting,
so an old button in the chat's history can never say yes to a newer question.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from channels.messages import Reply
from channels.telegram.texts import language, say

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CALLBACK_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
#: Citations listed under a reply; more would bury the answer.
MAX_SOURCES = 3
_CONFIRM = "cf"
_CHOICE = "ch"

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class Message:
    """One sendMessage: its text and, on the last piece of a reply, its keyboard."""

    text: str
    markup: Markup | None = None


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a pressed button of ours says: a yes or no to one action, or a plain choice."""

    choice: str
    #: The action a confirmation button answers; None for a plain choice.
    digest: str | None = None


def action_digest(tool: str, args: dict[str, Any]) -> str:
    """A short name for one pending action (tool and arguments), stable across processes."""
    canonical = json.dumps([tool, args], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def confirm_data(choice: str, digest: str) -> str:
    """The callback data of a yes (`choice` "yes") or no button for the action `digest`."""
    return f"{_CONFIRM}:{'y' if choice == 'yes' else 'n'}:{digest}"


def choice_data(value: str) -> str | None:
    """The callback data of a plain choice, or None if it would not fit in 64 bytes."""
    data = f"{_CHOICE}:{value}"
    return data if value and len(data.encode()) <= MAX_CALLBACK_BYTES else None


def parse_callback(data: str | None) -> Pressed | None:
    """The button behind `data`, or None for data that is not ours."""
    if not data:
        return None
    if re.fullmatch(r"cf:[yn]:[0-9a-f]{16}", data):
        _, answer, digest = data.split(":")
        return Pressed("yes" if answer == "y" else "no", digest)
    if data.startswith(f"{_CHOICE}:") and len(data) > len(_CHOICE) + 1:
        return Pressed(data[len(_CHOICE) + 1 :])
    return None


def render(reply: Reply) -> list[Message]:
    """The reply as Telegram messages, the buttons (if any) on the last one."""
    lang = language(reply.language)
    markup: Markup | None = None
    if reply.confirmation is not None:
        pending = reply.confirmation
        text = f"{pending.summary}\n{pending.question}"
        digest = action_digest(pending.tool, pending.args)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(pending.yes, callback_data=confirm_data("yes", digest)),
                    InlineKeyboardButton(pending.no, callback_data=confirm_data("no", digest)),
                ]
            ]
        )
    else:
        text = reply.text
    if reply.citations:
        lines = [say("sources", lang)]
        for cite in reply.citations[:MAX_SOURCES]:
            lines.append(
                f"[{cite.number}] " + " › ".join([cite.document_title, *cite.heading_path])
            )
        text = f"{text}\n\n" + "\n".join(lines)
    return messages(text, markup)


def messages(text: str, markup: Markup | None = None) -> list[Message]:
    """`text` in pieces Telegram accepts, `markup` on the last."""
    pieces = split(text.strip() or "…")
    return [
        Message(piece, markup if n == len(pieces) - 1 else None) for n, piece in enumerate(pieces)
    ]


def body(parts: list[Message]) -> str:
    """What was answered, as one text (kept for the record of the update)."""
    return "\n".join(part.text for part in parts)


def link_prompt(lang: str | None, key: str = "share_phone") -> list[Message]:
    """Ask for the user's own number with a `request_contact` button."""
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(say("share_button", lang), request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    return messages(say(key, lang), keyboard)


def plain(text: str, *, remove_keyboard: bool = False) -> list[Message]:
    """A plain answer; `remove_keyboard` takes away the contact button once it served."""
    return messages(text, ReplyKeyboardRemove() if remove_keyboard else None)


_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?])\s+"),
    re.compile(r"\s"),
)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut where a reader would pause."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        head = rest[:limit]
        cut = limit
        for pattern in _BREAKS:
            ends = [m.start() for m in pattern.finditer(head) if m.start() >= limit // 2]
            if ends:
                cut = ends[-1]
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
