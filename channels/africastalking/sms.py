"""Two-way SMS: an inbound message goes through the pipeline; the answer goes back by SMS.

Africa's Talking posts each message once (and again if we do not answer 200): the
message `id` makes the retry recognisable, so it never acts twice. The answer is queued
in the outbox in the same transaction that records the message as handled.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from channels import gsm, pipeline, replies
from channels.messages import Inbound, Reply
from hrcore.actor import Actor, Channel
from hrcore.config import get_settings
from hrcore.errors import Invalid
from hrcore.people.service import normalize_phone

log = logging.getLogger("ajira.channels.sms")

#: Longest message we read: a long SMS is at most a few segments; more is not a person typing.
MAX_TEXT = 1600
#: One SMS message of up to three concatenated segments (153 septets each) reads as one on
#: a handset; longer answers go as several messages, each marked (1/2), (2/2).
MESSAGE_SEPTETS = 3 * 153
#: How to answer a confirmation by SMS, in the user's language.
ANSWER_WITH = {"en": "Reply YES or NO.", "sw": "Jibu NDIYO au HAPANA."}
SOURCE = {"en": "Source", "sw": "Chanzo"}


class MalformedSms(ValueError):
    """The callback lacks what every inbound SMS has."""


def parse(form: Mapping[str, object]) -> Inbound:
    """The inbound message of an Africa's Talking SMS callback (`from`, `text`, `id`...)."""
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    sender, message_id = fields.get("from", "").strip(), fields.get("id", "").strip()
    if not sender or not message_id or "text" not in fields:
        raise MalformedSms("An inbound SMS needs from, text and id.")
    if len(message_id) > 100 or not message_id.isprintable():
        raise MalformedSms("The message id is not valid.")
    try:
        phone = normalize_phone(sender, get_settings().default_region)
    except Invalid as exc:
        raise MalformedSms("The sender is not a phone number.") from exc
    text = fields["text"].replace("\x00", "")[:MAX_TEXT]
    return Inbound(Channel.SMS, phone, f"sms:{message_id}", text=text)


def render(reply: Reply) -> str:
    """The answer as SMS text: plain GSM-7, a confirmation asked as YES or NO."""
    language = reply.language if reply.language in ANSWER_WITH else "en"
    if reply.confirmation is not None:
        text = f"{reply.confirmation.summary}\n{ANSWER_WITH[language]}"
    else:
        text = reply.text
    for cite in reply.citations[:2]:
        where = " > ".join([cite.document_title, *cite.heading_path])
        text += f"\n[{cite.number}] {SOURCE[language]}: {where}"
    return gsm.to_gsm(text).strip()


_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"))


def split(text: str) -> list[str]:
    """`text` as SMS messages of at most three segments each, broken where a reader would."""
    if gsm.septets(text) <= MESSAGE_SEPTETS:
        return [text]
    room = MESSAGE_SEPTETS - len(" (99/99)")
    parts: list[str] = []
    rest = text
    while gsm.septets(rest) > room:
        cut = _cut_at(rest, room)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [f"{part} ({n}/{len(parts)})" for n, part in enumerate(parts, 1)]


def _cut_at(text: str, room: int) -> int:
    """Where to end a message of at most `room` septets: a paragraph, line, sentence, word."""
    fits = len(gsm.shorten(text, room + 3).removesuffix("...")) or room
    head = text[:fits]
    for pattern in _BREAKS:
        ends = [m.start() for m in pattern.finditer(head) if m.start() >= fits // 2]
        if ends:
            return ends[-1] + 1
    space = head.rfind(" ")
    return space + 1 if space >= fits // 2 else fits


def queue_answer(
    session: Session, actor: Actor | None, inbound: Inbound, reply: Reply, body: str
) -> None:
    """Send the answer back through the outbox, with the record that the message was handled."""
    replies.queue_reply(session, actor, Channel.SMS, ((part, ()) for part in split(body)))


async def handle(form: Mapping[str, object]) -> pipeline.Handled:
    """Take one inbound SMS through the pipeline and queue the answer."""
    inbound = parse(form)
    handled = await pipeline.receive(inbound, render=render, on_answer=queue_answer)
    if handled.first and handled.actor is None and handled.body:
        await asyncio.to_thread(replies.answer_stranger, Channel.SMS, inbound, handled.body)
    return handled
