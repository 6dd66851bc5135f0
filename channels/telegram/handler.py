"""Act on one Telegram update and answer in its chat: the same path for the webhook and
for `ajira telegram-poll`.

Texts, locations and button presses go through the pipeline (claimed by update id, so a
redelivery never acts twice). A shared contact links the account. What the chat cannot
read gets a short explanation. Answers are sent straight to the chat they came from:
they are the conversation itself; notifications go through the outbox (`send.py`).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, Update
from telegram.error import TelegramError

from assistant.service import get_assistant
from channels import locations, pipeline
from channels.messages import Inbound, Reply
from channels.telegram import render as tg
from channels.telegram.link import Linking, link_contact
from channels.telegram.texts import say
from channels.telegram.updates import MAX_TEXT, Event, Kind, classify
from hrcore import clock
from hrcore.actor import Actor, Channel
from hrcore.attendance.models import LocationSource
from hrcore.db import unit_of_work
from hrcore.identities import service as identities

log = logging.getLogger("ajira.channels.telegram")


async def handle(update: Update, bot: Bot) -> str:
    """Act on a parsed update (from `updates.parse` or getUpdates)."""
    return await dispatch(classify(update, now=clock.now()), bot)


async def dispatch(event: Event, bot: Bot) -> str:
    """Act on one classified update; return what happened (for logs and tests)."""
    if event.kind is Kind.IGNORED:
        return "ignored"
    if event.kind is Kind.BUTTON:
        return await _button(event, bot)
    if event.kind is Kind.CONTACT:
        return await _contact(event, bot)
    if event.kind in (Kind.UNREADABLE, Kind.TOO_LONG):
        return await _explain(event, bot)
    inbound = Inbound(
        Channel.TELEGRAM,
        str(event.user_id),
        event.external_id,
        text=event.text,
        location=event.location,
        reply_to=str(event.chat_id),
    )
    handler = None
    if event.location is not None:
        # A live location is where the person is only while it is fresh (`updates`).
        live = event.location.live
        handler = locations.handler(LocationSource.LIVE if live else LocationSource.PIN)
    return await _converse(event, inbound, bot, handler=handler)


async def _converse(
    event: Event, inbound: Inbound, bot: Bot, *, handler: pipeline.Handler | None = None
) -> str:
    handled = await pipeline.receive(
        inbound, render=lambda reply: tg.body(_answer(reply, event)), handler=handler
    )
    if not handled.first or handled.reply is None:
        return "duplicate"
    await send(bot, event.chat_id, _answer(handled.reply, event))
    return "answered" if handled.actor is not None else handled.reply.problem or "answered"


def _answer(reply: Reply, event: Event) -> list[tg.Message]:
    if reply.problem == "unknown":
        # Someone new: ask for their own number, in the language they wrote in.
        return tg.link_prompt(event.language)
    return tg.render(reply)


# ------------------------------------------------------------------------ contact


async def _contact(event: Event, bot: Bot) -> str:
    linking = await asyncio.to_thread(link_contact, event)
    if linking is None:
        return "duplicate"
    await send(bot, event.chat_id, _linking_answer(linking))
    return linking.outcome


def _linking_answer(linking: Linking) -> list[tg.Message]:
    lang = linking.language
    if linking.outcome == "linked":
        return tg.plain(say("linked", lang, name=linking.first_name), remove_keyboard=True)
    if linking.outcome == "not_own":
        return tg.link_prompt(lang, "not_own_contact")
    if linking.outcome == "inactive":
        text = pipeline.explain_problem("inactive", lang).text
        return tg.plain(text, remove_keyboard=True)
    if linking.outcome == "taken":
        return tg.plain(say("taken", lang), remove_keyboard=True)
    return tg.plain(say("unknown_phone", lang, phone=linking.phone), remove_keyboard=True)


# ------------------------------------------------------------------------ other content


def _claim_once(event: Event, response: str) -> tuple[bool, str | None]:
    """Claim the update for a fixed answer; the person's language if they are linked."""
    with unit_of_work() as session:
        claim = identities.claim_inbound(session, Channel.TELEGRAM, event.external_id)
        if not claim.first:
            return False, None
        known = identities.resolve(session, Channel.TELEGRAM, str(event.user_id))
        org = known.actor.organization_id if known.actor else None
        identities.finish_inbound(session, claim, response=response, organization_id=org)
        return True, known.language if known.problem != "unknown" else None


async def _explain(event: Event, bot: Bot) -> str:
    """A photo, a voice note, a text too long: say what we can read, and nothing else."""
    first, language = await asyncio.to_thread(_claim_once, event, str(event.kind))
    if not first:
        return "duplicate"
    lang = language or event.language
    if event.kind is Kind.TOO_LONG:
        text = say("too_long", lang, most=MAX_TEXT)
    else:
        text = say("unreadable", lang)
    await send(bot, event.chat_id, tg.plain(text))
    return str(event.kind)


# ------------------------------------------------------------------------ buttons


def _who(event: Event) -> tuple[identities.Resolution, bool]:
    """Who pressed, and whether this very update was handled already (a redelivery)."""
    with unit_of_work() as session:
        seen = identities.was_claimed(session, Channel.TELEGRAM, event.external_id)
        return identities.resolve(session, Channel.TELEGRAM, str(event.user_id)), seen


async def _still_waiting(actor: Actor, digest: str) -> bool:
    pending = await get_assistant().pending_actions(actor)
    return any(tg.action_digest(tool, args) == digest for tool, args in pending)


async def _button(event: Event, bot: Bot) -> str:
    """A pressed inline button: always answered, so the button stops spinning; acted on
    only if it is ours and still answers the question waiting."""
    pressed = tg.parse_callback(event.callback_data)
    answered = False
    try:
        if pressed is None or not event.chat_id:
            answered = await _answer_button(bot, event, say("stale_button", event.language))
            return "foreign"
        who, seen = await asyncio.to_thread(_who, event)
        if seen:
            return "duplicate"  # the first delivery acted; `finally` answers this one
        if (
            who.actor is not None
            and pressed.digest is not None
            and not await _still_waiting(who.actor, pressed.digest)
        ):
            answered = await _answer_button(bot, event, say("stale_button", who.language))
            await _drop_buttons(bot, event)
            return "stale"
        # Before the turn, which may take a while: the spinner stops now.
        answered = await _answer_button(bot, event, None)
        await _drop_buttons(bot, event)
        inbound = Inbound(
            Channel.TELEGRAM,
            str(event.user_id),
            event.external_id,
            choice=pressed.choice,
            reply_to=str(event.chat_id),
        )
        return await _converse(event, inbound, bot)
    finally:
        if not answered:
            await _answer_button(bot, event, None)


async def _answer_button(bot: Bot, event: Event, note: str | None) -> bool:
    try:
        await bot.answer_callback_query(event.callback_id or "", text=note)
    except TelegramError as exc:
        # Answered already (a redelivery), or too old: nothing to fix.
        log.info("telegram_callback_answer_failed error=%s", type(exc).__name__)
    return True


async def _drop_buttons(bot: Bot, event: Event) -> None:
    if event.button_message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(
            chat_id=event.chat_id, message_id=event.button_message_id, reply_markup=None
        )
    except TelegramError as exc:
        log.info("telegram_buttons_not_removed error=%s", type(exc).__name__)


# ------------------------------------------------------------------------ sending


async def send(bot: Bot, chat_id: int, parts: list[tg.Message]) -> None:
    """Send an answer's messages in order; a refusal stops the rest (it is logged)."""
    for part in parts:
        try:
            await bot.send_message(chat_id=chat_id, text=part.text, reply_markup=part.markup)
        except TelegramError as exc:
            log.warning("telegram_answer_failed error=%s", type(exc).__name__)
            return
