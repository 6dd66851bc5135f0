"""Message tools: hr and admin tell a person, a department or everyone something."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from hrcore.actor import Permission
from hrcore.notifications import broadcasts
from hrcore.people import service as people
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

#: How much of the text a summary quotes.
QUOTE_CHARS = 120


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


class SendMessageArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"to": "everyone", "text": "The canteen is closed on Friday."}]
        }
    )

    to: str = Field(
        min_length=1,
        max_length=200,
        description='Who gets it: "everyone" (the whole organization), a department\'s name '
        '("Logistics"), or a person\'s name ("John Kamau") or id ("#4").',
    )
    text: str = Field(
        min_length=1,
        max_length=broadcasts.MAX_TEXT,
        description="The message itself, as the recipients will read it.",
    )


class MessageSent(ToolResult):
    broadcast_id: int = Field(description="The message's id; message_status shows its deliveries.")
    audience: Literal["person", "department", "everyone"]
    audience_id: int | None = Field(description="The person's or department's id; null for all.")
    audience_name: str = Field(description="Who it is for, by name.")
    recipients: int = Field(description="How many people it goes to.")
    text: str


@tool_spec(
    name="send_message",
    permission=Permission.MESSAGE_SEND,
    changes_state=True,
    confirm=True,
)
def send_message(ctx: ToolContext, args: SendMessageArgs) -> MessageSent:
    """Send a message from hr to one person, a department or everyone (hr and admin).

    Each person gets it on their own channel (their chat app, SMS or email). Use it for
    "tell everyone the canteen is closed on Friday" or "tell Logistics the meeting is at
    ten". A name that fits several people or departments is refused with the candidates.
    """
    to = broadcasts.find_addressee(ctx.session, ctx.actor, args.to)
    sent = broadcasts.send_message(ctx.session, ctx.actor, to.audience, to.audience_id, args.text)
    if to.audience == "everyone":
        org = people.get_organization(ctx.session, ctx.actor)
        name = f"everyone at {org.name}"
    elif to.audience == "department":
        name = f"the {to.name} department"
    else:
        name = to.name
    return MessageSent(
        summary=f"Message for {name} ({_people(sent.recipients)}): “{_quote(sent.text)}”",
        broadcast_id=sent.id,
        audience=to.audience,
        audience_id=to.audience_id,
        audience_name=name,
        recipients=sent.recipients,
        text=sent.text,
    )


class MessageStatusArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"broadcast_id": 12}]})

    broadcast_id: int = Field(gt=0, description="The id send_message returned.")


class MessageStatus(ToolResult):
    broadcast_id: int
    recipients: int = Field(description="How many people it was sent to.")
    pending: int = Field(description="Still on their way (waiting, or being handed over).")
    sent: int = Field(description="Taken by the provider, no delivery report yet.")
    delivered: int = Field(description="Reached the person.")
    failed: int = Field(description="Could not be delivered.")


@tool_spec(name="message_status", permission=Permission.MESSAGE_SEND)
def message_status(ctx: ToolContext, args: MessageStatusArgs) -> MessageStatus:
    """How a message from hr is doing: how many are delivered, sent, pending or failed."""
    counts = broadcasts.delivery_counts(ctx.session, ctx.actor, args.broadcast_id)
    return MessageStatus(
        summary=f"Message #{counts.broadcast_id} to {_people(counts.recipients)}: "
        f"{counts.delivered} delivered, {counts.sent} sent, {counts.pending} on their way, "
        f"{counts.failed} failed.",
        broadcast_id=counts.broadcast_id,
        recipients=counts.recipients,
        pending=counts.pending,
        sent=counts.sent,
        delivered=counts.delivered,
        failed=counts.failed,
    )
