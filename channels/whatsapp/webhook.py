"""Read what Meta posts: check the handshake and the signature, then the events.

A notification is `{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {"metadata", "contacts", "messages" | "statuses"}}]}]}`;
every entry and change is read. Numbers come as digits without `+`; a sender without a
number (a business-scoped user id only) is skipped, not a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from channels.messages import Inbound, Location
from hrcore.actor import Channel
from hrcore.errors import Invalid
from hrcore.notifications.models import NotificationStatus
from hrcore.people.service import normalize_phone

log = logging.getLogger("ajira.channels.whatsapp")

SIGNATURE_PREFIX = "sha256="
#: Longest text we read: WhatsApp allows 4096 characters in a message.
MAX_TEXT = 4096
#: Their status, ours: `read` is delivered and opened (see `StatusUpdate.seen`).
STATUSES = {
    "sent": NotificationStatus.SENT,
    "delivered": NotificationStatus.DELIVERED,
    "read": NotificationStatus.DELIVERED,
    "failed": NotificationStatus.FAILED,
}
#: Message types we answer: text, a button or list pick, a pin. Reactions and system
#: notices (a number changed) get no answer; anything else is explained (`unsupported`).
SILENT_TYPES = frozenset({"reaction", "system", "ephemeral"})


class MalformedWebhook(ValueError):
    """The body is not a JSON object."""


def challenge(params: dict[str, str], verify_token: str | None) -> str | None:
    """The `hub.challenge` to echo when the handshake carries our verify token, else None."""
    given = params.get("hub.verify_token", "")
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    value = params.get("hub.challenge", "")
    return value if value and len(value) <= 200 and value.isprintable() else None


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` is `sha256=` + HMAC-SHA256 of the raw body under the app secret."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def load(body: bytes) -> dict[str, Any]:
    """The notification as JSON; `MalformedWebhook` when it is not a JSON object."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedWebhook("The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise MalformedWebhook("The body is not a JSON object.")
    return data


@dataclass(frozen=True, slots=True)
class Incoming:
    """A person's message, in our terms; `supported` False for media we do not read."""

    inbound: Inbound
    kind: str
    supported: bool = True


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """What Meta says became of a message we sent."""

    provider_message_id: str
    status: NotificationStatus
    provider_status: str
    error_code: int | None = None
    error_title: str | None = None

    @property
    def seen(self) -> bool:
        """A read receipt: delivered and opened."""
        return self.provider_status == "read"

    @property
    def reason(self) -> str | None:
        """Why it failed, with Meta's code first ("131047: Re-engagement message")."""
        if self.status is not NotificationStatus.FAILED:
            return None
        parts = [str(self.error_code) if self.error_code is not None else None, self.error_title]
        return ": ".join(p for p in parts if p) or "failed"


@dataclass(frozen=True, slots=True)
class Events:
    """Everything one notification carries."""

    messages: list[Incoming]
    statuses: list[StatusUpdate]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= 190 and value.isprintable() else None


def events(data: dict[str, Any], *, phone_number_id: str | None, region: str) -> Events:
    """The messages and statuses for our number in a notification (others are skipped)."""
    messages: list[Incoming] = []
    statuses: list[StatusUpdate] = []
    for entry in _list(data.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            value = _dict(change.get("value"))
            if change.get("field") != "messages":
                continue
            ours = _dict(value.get("metadata")).get("phone_number_id")
            if phone_number_id and ours and str(ours) != phone_number_id:
                # Another number of the same app: not ours to answer.
                continue
            for raw in _list(value.get("messages")):
                incoming = _message(_dict(raw), region)
                if incoming is not None:
                    messages.append(incoming)
            for raw in _list(value.get("statuses")):
                update = _status(_dict(raw))
                if update is not None:
                    statuses.append(update)
    return Events(messages, statuses)


def _message(raw: dict[str, Any], region: str) -> Incoming | None:
    message_id, sender, kind = _id(raw.get("id")), _id(raw.get("from")), raw.get("type")
    if message_id is None or sender is None or not isinstance(kind, str):
        log.info("whatsapp_message_skipped reason=no_id_or_number")
        return None
    if kind in SILENT_TYPES:
        return None
    try:
        phone = normalize_phone(sender if sender.startswith("+") else f"+{sender}", region)
    except Invalid:
        log.info("whatsapp_message_skipped reason=sender_not_a_phone")
        return None
    base = Inbound(Channel.WHATSAPP, phone, f"wa:{message_id}")
    if kind == "text":
        body = _dict(raw.get("text")).get("body")
        if isinstance(body, str) and body.strip():
            return Incoming(_with(base, text=body.replace("\x00", "")[:MAX_TEXT]), kind)
    elif kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        picked = _dict(interactive.get(str(interactive.get("type"))))
        choice = _id(picked.get("id"))
        if interactive.get("type") in ("button_reply", "list_reply") and choice:
            return Incoming(_with(base, choice=choice), kind)
    elif kind == "button":
        # A quick-reply button under a template: its text is what the person said.
        text = _dict(raw.get("button")).get("text")
        if isinstance(text, str) and text.strip():
            return Incoming(_with(base, text=text[:MAX_TEXT]), kind)
    elif kind == "location":
        location = _location(_dict(raw.get("location")))
        if location is not None:
            return Incoming(_with(base, location=location), kind)
    return Incoming(base, kind, supported=False)


def _with(base: Inbound, **fields: Any) -> Inbound:
    return Inbound(base.channel, base.sender, base.external_id, **fields)


def _location(raw: dict[str, Any]) -> Location | None:
    # Whatever the payload holds: float() refuses what is not a number.
    latitude: Any = raw.get("latitude")
    longitude: Any = raw.get("longitude")
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    # A pin the person placed or picked: WhatsApp sends no accuracy, and no live location.
    return Location(lat, lng, None, live=False)


def _status(raw: dict[str, Any]) -> StatusUpdate | None:
    message_id, status = _id(raw.get("id")), raw.get("status")
    if message_id is None or status not in STATUSES:
        return None
    error = _dict(next(iter(_list(raw.get("errors"))), None))
    code = error.get("code")
    title = error.get("title") or error.get("message")
    return StatusUpdate(
        provider_message_id=message_id,
        status=STATUSES[status],
        provider_status=status,
        error_code=code if isinstance(code, int) else None,
        error_title=str(title)[:200] if title else None,
    )
