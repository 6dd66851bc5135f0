"""Read a Telegram update: what it is (text, contact, location, button, something we cannot
read, or nothing for us), who sent it and where to answer.

An update carries at most one of `message`, `edited_message`, `callback_query`, ...
(Bot API, Update). Only new messages and button presses in a private chat with the bot are
ours; everything else (edits, channel posts, group chats, membership changes) is
acknowledged and ignored, so Telegram stops delivering it.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Location as TelegramLocation
from telegram import Update
from telegram.constants import ChatType
from telegram.warnings import PTBDeprecationWarning

from assistant.language import detect_language
from channels.messages import Location

#: Longest text read, as the web chat's: a person typing, not a document pasted in.
MAX_TEXT = 4000
#: A live location counts as where the person is only if its last fix is this recent.
LIVE_FRESH = timedelta(minutes=2)
#: Message contents we cannot read, answered with a short explanation.
UNREADABLE = (
    "photo",
    "document",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
)
#: Commands that stand for a plain sentence the assistant understands.
COMMANDS = {"start": "hello", "help": "help"}


class MalformedUpdate(ValueError):
    """The body is not a Telegram update."""


class Kind(enum.StrEnum):
    TEXT = "text"
    CONTACT = "contact"
    LOCATION = "location"
    BUTTON = "button"
    UNREADABLE = "unreadable"
    TOO_LONG = "too_long"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Event:
    """One update, reduced to what the adapter acts on."""

    kind: Kind
    update_id: int
    #: The Telegram user id (the identity's address) and the chat to answer in.
    user_id: int = 0
    chat_id: int = 0
    text: str | None = None
    location: Location | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    callback_id: str | None = None
    callback_data: str | None = None
    #: The bot's message carrying the pressed button.
    button_message_id: int | None = None
    #: The language to answer someone we do not know yet in.
    language: str = "en"

    @property
    def external_id(self) -> str:
        """The update's id as the pipeline's claim: a redelivery carries the same."""
        return f"tg:{self.update_id}"


def parse(data: Any) -> Update:
    """The update in a webhook body (decoded JSON); raise `MalformedUpdate`."""
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise MalformedUpdate("A Telegram update is a JSON object with an integer update_id.")
    try:
        return Update.de_json(data, None)
    except Exception as exc:  # the library's own KeyError/TypeError on a broken shape
        raise MalformedUpdate("The update does not have the shape of a Telegram update.") from exc


def classify(update: Update, *, now: datetime) -> Event:
    """What `update` asks of us; `now` judges whether a live location is fresh."""
    ignored = Event(Kind.IGNORED, update.update_id)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        return Event(
            Kind.BUTTON,
            update.update_id,
            user_id=query.from_user.id,
            chat_id=chat.id if chat is not None and chat.type == ChatType.PRIVATE else 0,
            callback_id=query.id,
            callback_data=query.data,
            button_message_id=query.message.message_id if query.message is not None else None,
            language=_language(None, query.from_user.language_code),
        )
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return ignored
    if message.chat.type != ChatType.PRIVATE:
        # In a group, an answer about someone's leave or pay would be read by everyone.
        return ignored
    base: dict[str, Any] = {
        "user_id": message.from_user.id,
        "chat_id": message.chat.id,
        "language": _language(message.text, message.from_user.language_code),
    }
    if message.contact is not None:
        return Event(
            Kind.CONTACT,
            update.update_id,
            contact_phone=message.contact.phone_number,
            contact_user_id=message.contact.user_id,
            **base,
        )
    if message.location is not None:
        place = message.location
        live = False
        if _is_live(place):
            last_fix = message.edit_date or message.date
            live = abs(now - last_fix) <= LIVE_FRESH
        location = Location(
            place.latitude, place.longitude, accuracy_m=place.horizontal_accuracy, live=live
        )
        return Event(Kind.LOCATION, update.update_id, location=location, **base)
    if message.text is not None:
        if len(message.text) > MAX_TEXT:
            return Event(Kind.TOO_LONG, update.update_id, **base)
        return Event(Kind.TEXT, update.update_id, text=_command(message.text), **base)
    if any(getattr(message, name, None) for name in UNREADABLE):
        return Event(Kind.UNREADABLE, update.update_id, **base)
    return ignored


def _is_live(place: TelegramLocation) -> bool:
    with warnings.catch_warnings():
        # Only whether it is set matters, not the type the library will give it next.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return place.live_period is not None


def _command(text: str) -> str:
    """`/start` (or `/start@our_bot`, or `/start payload`) as the sentence it stands for."""
    if not text.startswith("/"):
        return text
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return COMMANDS.get(name, text)


def _language(text: str | None, code: str | None) -> str:
    """The language of a stranger: their words first, then their Telegram app's setting."""
    spoken = detect_language(text) if text else None
    if spoken is not None:
        return spoken
    return "sw" if (code or "").lower().startswith("sw") else "en"
