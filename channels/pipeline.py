"""The one path every channel takes: deduplicate, identify, one turn at a time, reply.

`converse` runs a turn for someone already identified (the web chat's bearer token, the
operator's `ajira chat`); `receive` is the whole path for a provider's message: claim its
id, find who sent it, run the assistant (or an adapter's own handler, such as the USSD
menu) and record the answer, so a provider's retry gets the same answer and never acts
twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from assistant.catalog import in_every_language
from assistant.service import Assistant, TurnResult, get_assistant
from channels.messages import Citation, Confirmation, Inbound, Reply
from hrcore.actor import Actor
from hrcore.db import unit_of_work
from hrcore.errors import HRError
from hrcore.identities import service as identities

log = logging.getLogger(__name__)

UNAVAILABLE = in_every_language("unavailable")
NOT_LINKED = {
    "en": "This number or account is not linked to anyone at your employer on Ajira. Ask "
    "your HR team to add it to your employee record, then try again.",
    "sw": "Namba au akaunti hii haijaunganishwa na mtu yeyote kwa mwajiri wako kwenye Ajira. "
    "Omba timu ya HR iiongeze kwenye rekodi yako ya mfanyakazi, kisha ujaribu tena.",
}
INACTIVE = {
    "en": "Your access to Ajira has ended. If you think this is a mistake, speak to your HR team.",
    "sw": "Ufikiaji wako wa Ajira umekwisha. Kama unadhani ni kosa, ongea na timu yako ya HR.",
}
#: A button's value, as the assistant understands it in a message.
CHOICE_WORDS = {"yes": "yes", "no": "no"}


class AssistantUnavailable(Exception):
    """The turn failed for a reason that is ours, not the user's (the model, a bug)."""

    #: The stable code of this failure wherever it is reported (an HTTP problem, an event).
    code = "assistant_unavailable"


def reply_of(result: TurnResult) -> Reply:
    """A turn's result as the channel-neutral reply."""
    pending = result.pending_confirmation
    return Reply(
        text=result.reply,
        language=result.language,
        conversation_id=result.conversation_id,
        confirmation=Confirmation(
            tool=pending.tool,
            args=dict(pending.args),
            summary=pending.summary,
            question=pending.question,
            yes=pending.yes,
            no=pending.no,
        )
        if pending is not None
        else None,
        citations=tuple(
            Citation(c.number, c.document_title, tuple(c.heading_path), c.quote)
            for c in result.citations
        ),
    )


async def converse(
    actor: Actor,
    text: str,
    *,
    conversation_id: str | None = None,
    assistant: Assistant | None = None,
) -> Reply:
    """One assistant turn as `actor`; raises `HRError` or `AssistantUnavailable`."""
    chosen = assistant or get_assistant()
    try:
        result = await chosen.turn(actor, text, conversation_id=conversation_id)
    except HRError:
        raise
    except Exception as exc:
        # Never the message itself: it may hold personal data.
        log.exception("assistant turn failed")
        raise AssistantUnavailable from exc
    return reply_of(result)


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a streamed turn: a piece of the reply, a tool's state, or the end."""

    kind: str  # "token", "tool" or "done"
    text: str = ""
    tool: str = ""
    status: str = ""
    reply: Reply | None = None


async def converse_stream(
    actor: Actor,
    text: str,
    *,
    conversation_id: str | None = None,
    assistant: Assistant | None = None,
) -> AsyncIterator[Progress]:
    """The same turn, step by step; raises like `converse`."""
    chosen = assistant or get_assistant()
    try:
        async for event in chosen.stream(actor, text, conversation_id=conversation_id):
            kind = event.get("type")
            if kind == "token":
                yield Progress("token", text=event["text"])
            elif kind == "tool":
                yield Progress("tool", tool=event["name"], status=event["status"])
            elif kind == "done":
                yield Progress("done", reply=reply_of(event["result"]))
    except HRError:
        raise
    except Exception as exc:
        log.exception("assistant stream failed")
        raise AssistantUnavailable from exc


# ------------------------------------------------------------------ provider messages

#: Handles an identified sender's message instead of the assistant.
Handler = Callable[[Actor, Inbound], Awaitable[Reply]]
#: The same, inside the transaction that claims the message (a menu screen).
InlineHandler = Callable[[Session, Actor, Inbound], Reply]
#: Turns a reply into what the channel answers or sends (a USSD screen, an SMS text).
Render = Callable[[Reply], str]
#: Runs in the transaction that records the answer: queue it in the outbox, for example.
OnAnswer = Callable[[Session, Actor | None, Inbound, Reply, str], None]


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of a provider's message."""

    #: The rendered answer: the first one again for a retry (None if still being handled).
    body: str | None
    #: False for a provider's retry of a message already handled: nothing was done again.
    first: bool
    reply: Reply | None = None
    actor: Actor | None = None


def _message_text(inbound: Inbound) -> str:
    if inbound.choice is not None:
        return CHOICE_WORDS.get(inbound.choice, inbound.choice)
    return (inbound.text or "").strip()


async def _answer(
    inbound: Inbound, actor: Actor, assistant: Assistant | None, language: str
) -> Reply:
    text = _message_text(inbound)
    try:
        return await converse(
            actor, text, conversation_id=inbound.conversation_id, assistant=assistant
        )
    except HRError as exc:
        return Reply(text=exc.message, language=language)
    except AssistantUnavailable:
        return Reply(text=UNAVAILABLE.get(language, UNAVAILABLE["en"]), language=language)


def _claim(inbound: Inbound) -> identities.Claim:
    with unit_of_work() as session:
        return identities.claim_inbound(session, inbound.channel, inbound.external_id)


def _resolve(inbound: Inbound) -> identities.Resolution:
    with unit_of_work() as session:
        return identities.resolve(session, inbound.channel, inbound.sender)


def _finish(
    claim: identities.Claim,
    inbound: Inbound,
    resolution: identities.Resolution,
    reply: Reply,
    body: str,
    on_answer: OnAnswer | None,
) -> None:
    with unit_of_work(resolution.actor) as session:
        if on_answer is not None:
            on_answer(session, resolution.actor, inbound, reply, body)
        org = resolution.actor.organization_id if resolution.actor else None
        identities.finish_inbound(session, claim, response=body, organization_id=org)


def _release(claim: identities.Claim) -> None:
    with unit_of_work() as session:
        identities.release_inbound(session, claim)


def explain_problem(problem: str, language: str) -> Reply:
    """What an unknown or deactivated sender is told, and nothing else."""
    texts = INACTIVE if problem == "inactive" else NOT_LINKED
    return Reply(text=texts.get(language, texts["en"]), language=language, problem=problem)


async def receive(
    inbound: Inbound,
    *,
    render: Render,
    handler: Handler | None = None,
    on_answer: OnAnswer | None = None,
    assistant: Assistant | None = None,
) -> Handled:
    """Handle one provider message exactly once: a retry gets the first answer back.

    The message's id is claimed first (a unique key, so two deliveries of it cannot both
    pass); if handling fails before it answers, the claim is released for the provider's
    retry. The answer is recorded with `on_answer`'s writes in one transaction.
    """
    claim = await asyncio.to_thread(_claim, inbound)
    if not claim.first:
        return Handled(body=claim.response, first=False)
    acted = False
    try:
        resolution = await asyncio.to_thread(_resolve, inbound)
        acted = True
        if resolution.actor is None:
            assert resolution.problem is not None
            reply = explain_problem(resolution.problem, resolution.language)
        elif handler is not None:
            reply = await handler(resolution.actor, inbound)
        else:
            reply = await _answer(inbound, resolution.actor, assistant, resolution.language)
        body = render(reply)
        await asyncio.to_thread(_finish, claim, inbound, resolution, reply, body, on_answer)
    except BaseException:
        # Before anything acted, the provider's retry may run it; after, it must not run twice.
        if not acted:
            await asyncio.to_thread(_release, claim)
        raise
    return Handled(body=body, first=True, reply=reply, actor=resolution.actor)


def receive_at_once(inbound: Inbound, *, render: Render, handler: InlineHandler) -> Handled:
    """Handle one provider message in a single transaction: claim, sender, effect, answer.

    For handlers that act within one transaction (a menu screen running a tool): the claim
    commits with the effect or not at all, so a retry can never act twice, and a failure
    leaves nothing behind for the retry to trip over. A concurrent duplicate waits on the
    claim's unique key and then finds the first answer. Blocking: call it from a thread.
    """
    with unit_of_work() as session:
        claim = identities.claim_inbound(session, inbound.channel, inbound.external_id)
        if not claim.first:
            return Handled(body=claim.response, first=False)
        resolution = identities.resolve(session, inbound.channel, inbound.sender)
        if resolution.actor is None:
            assert resolution.problem is not None
            reply = explain_problem(resolution.problem, resolution.language)
        else:
            reply = handler(session, resolution.actor, inbound)
        body = render(reply)
        org = resolution.actor.organization_id if resolution.actor else None
        identities.finish_inbound(session, claim, response=body, organization_id=org)
    return Handled(body=body, first=True, reply=reply, actor=resolution.actor)
