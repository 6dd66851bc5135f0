"""What crosses the channel seam: a message in, a reply to render, a message out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hrcore.actor import Channel


@dataclass(frozen=True, slots=True)
class Location:
    """A place the user shared; `live` for a live location, judged fresh by the adapter."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None
    live: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a provider, in the provider's terms but our shape.

    `sender` is the channel address (E.164 phone, Telegram user id); `external_id` is the
    provider's own id for the message, which makes its retries recognisable.
    """

    channel: Channel
    sender: str
    external_id: str
    text: str | None = None
    #: A button or menu option the user picked ("yes", "no", or a menu value).
    choice: str | None = None
    location: Location | None = None
    #: Where to answer when it is not `sender` (a Telegram chat id).
    reply_to: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An action that waits for a yes: each channel renders it as buttons, a menu or a question."""

    tool: str
    args: dict[str, Any]
    summary: str
    question: str
    yes: str
    no: str


@dataclass(frozen=True, slots=True)
class Citation:
    """A policy passage the reply relies on."""

    number: int
    document_title: str
    heading_path: tuple[str, ...]
    quote: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What to say back, before a channel renders it for its medium."""

    text: str
    language: str = "en"
    conversation_id: str = "main"
    confirmation: Confirmation | None = None
    citations: tuple[Citation, ...] = ()
    #: Why nothing was done for the sender: None, "unknown" or "inactive" (see pipeline).
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message for a provider to send: the text and, where the medium has them, choices."""

    channel: Channel
    address: str
    text: str
    choices: tuple[tuple[str, str], ...] = field(default=())  # (value, label)
    #: What the message is about (the notification kind: "chat.reply", "payslip.ready").
    kind: str = ""
    #: The recipient's language, for what the provider adds around the text.
    language: str = "en"
    #: When the recipient last wrote to us on this channel (a chat app's reply window).
    last_inbound_at: datetime | None = None
