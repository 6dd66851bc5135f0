"""WhatsApp conversations: each message through the pipeline, each status onto its row.

A message's id (`wa:<wamid>`) is claimed by the pipeline, so Meta's redelivery of it
never acts twice; the answer is queued in the outbox in the transaction that records
the message as handled, and goes out inside the reply window the message just opened.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session

from channels import locations, pipeline, replies
from channels.messages import Inbound, Reply
from channels.whatsapp import render
from channels.whatsapp.webhook import Events, Incoming, StatusUpdate
from hrcore.actor import Actor, Channel
from hrcore.attendance.models import LocationSource
from hrcore.db import unit_of_work
from hrcore.notifications.service import record_delivery_report
from hrcore.people.models import User

log = logging.getLogger("ajira.channels.whatsapp")

CHANNEL = Channel.WHATSAPP
#: The notification kind of an answer to someone's message.
UNSUPPORTED = {
    "en": "I can only read text messages, button replies and shared locations, not photos, "
    "voice notes, stickers or files. Please type your message.",
    "sw": "Ninaweza kusoma ujumbe wa maandishi, majibu ya vitufe na mahali ulipotuma tu, si "
    "picha, sauti, vibandiko wala faili. Tafadhali andika ujumbe wako.",
}


def _language_of(actor: Actor) -> str:
    with unit_of_work(actor) as session:
        user = session.get(User, actor.user_id)
        return user.language if user is not None else "en"


async def explain_unsupported(actor: Actor, inbound: Inbound) -> Reply:
    """What a photo, voice note or sticker gets: what we can read instead."""
    language = await asyncio.to_thread(_language_of, actor)
    return Reply(text=UNSUPPORTED.get(language, UNSUPPORTED["en"]), language=language)


#: A WhatsApp location is a pin the person placed or picked (no live locations here).
clock_by_pin = locations.handler(LocationSource.PIN)


def handler_for(incoming: Incoming) -> pipeline.Handler | None:
    """Who answers a message: the clock for a pin, a short note for media, else the assistant."""
    if not incoming.supported:
        return explain_unsupported
    if incoming.inbound.location is not None:
        return clock_by_pin
    return None


def queue_answer(
    session: Session, actor: Actor | None, inbound: Inbound, reply: Reply, body: str
) -> None:
    """Queue the answer in the outbox, with the record that the message was handled."""
    parts = ((part.text, part.choices) for part in render.parts(reply))
    replies.queue_reply(session, actor, CHANNEL, parts)


def record_status(update: StatusUpdate) -> bool:
    """Apply one status to the outbox row sent under its id; False when no row has it."""
    with unit_of_work() as session:
        row = record_delivery_report(
            session,
            channel=CHANNEL,
            provider_message_id=update.provider_message_id,
            status=update.status,
            reason=update.reason,
            seen=update.seen,
        )
        return row is not None


async def receive(incoming: Incoming) -> pipeline.Handled:
    """Take one message through the pipeline and queue the answer."""
    inbound = incoming.inbound
    handled = await pipeline.receive(
        inbound, render=render.as_text, handler=handler_for(incoming), on_answer=queue_answer
    )
    if handled.first and handled.actor is None and handled.body:
        await asyncio.to_thread(replies.answer_stranger, CHANNEL, inbound, handled.body)
    return handled


async def handle(events: Events) -> None:
    """Everything one webhook call carried, in order; one failure does not stop the rest."""
    for incoming in events.messages:
        try:
            await receive(incoming)
        except Exception:
            # Never the text: it is someone's message.
            log.exception("whatsapp_message_failed kind=%s", incoming.kind)
    for update in events.statuses:
        try:
            known = await asyncio.to_thread(record_status, update)
        except Exception:
            log.exception("whatsapp_status_failed status=%s", update.provider_status)
            continue
        if not known:
            log.info("whatsapp_status_unknown_id status=%s", update.provider_status)
