"""Answers to someone who just wrote, for the channels whose answers go through the outbox.

Shared by the SMS and WhatsApp adapters: a linked person's answer is queued in the outbox
(urgent: never held for their quiet hours, they are waiting for it); an unknown or
deactivated number is told how to link straight through the sender, at most once a day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from channels import outbound
from channels.messages import Inbound, Outbound
from hrcore import clock, ratelimit
from hrcore.actor import Actor, Channel
from hrcore.notifications.service import notify
from hrcore.people.models import User

log = logging.getLogger("ajira.channels")

#: The notification kind of an answer to a message.
REPLY_KIND = "chat.reply"

#: One message of an answer: its text and the choices shown with it (value, label).
Part = tuple[str, Sequence[tuple[str, str]]]


def queue_reply(
    session: Session, actor: Actor | None, channel: Channel, parts: Iterable[Part]
) -> None:
    """Queue the answer's messages in the outbox, in the transaction that records the
    message as handled. Nobody to address (a stranger) is told by `answer_stranger`."""
    if actor is None:
        return
    user = session.get(User, actor.user_id)
    if user is None:
        return
    for text, choices in parts:
        notify(
            session,
            user,
            kind=REPLY_KIND,
            text=text,
            channel=channel,
            urgent=True,
            choices=[[value, label] for value, label in choices] or None,
        )


def answer_stranger(channel: Channel, inbound: Inbound, body: str) -> None:
    """Tell an unknown or deactivated sender how to link, at most once a day per sender.

    Straight through the sender: such a number has no person to hang an outbox row on,
    and the daily limit keeps a flood of messages from costing a flood of answers.
    """
    try:
        ratelimit.hit(
            "1/day", f"{channel.value}-stranger", ratelimit.private(inbound.sender), message=""
        )
    except Exception:
        return
    sender = outbound.sender_for(channel)
    if sender is None:
        return
    message = Outbound(channel, inbound.sender, body, kind=REPLY_KIND, last_inbound_at=clock.now())
    try:
        sender.send(message)
    except outbound.SendError as exc:
        log.info("stranger_answer_failed channel=%s code=%s", channel.value, exc.code)
