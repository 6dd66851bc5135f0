"""The assistant over HTTP: one chat turn as JSON, or the same turn as server-sent events.

The routes are async so that a slow model never holds a worker thread. The turn does
not use a request database session: the assistant opens its own unit of work for each
tool call, and the caller's identity is a frozen `Actor` read from the bearer token.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import current_actor, oauth2_scheme
from api.errors import PROBLEM_BASE, problem, problem_responses
from assistant.service import Assistant, get_assistant
from channels import pipeline
from channels.messages import Reply
from hrcore import ratelimit
from hrcore.actor import Actor, Channel
from hrcore.config import get_settings
from hrcore.db import unit_of_work
from hrcore.errors import HRError

log = logging.getLogger(__name__)

PREFIX = "/api/v1/chat"
MAX_MESSAGE = 4000
UNAVAILABLE_CODE = pipeline.AssistantUnavailable.code
UNAVAILABLE_MESSAGE = pipeline.UNAVAILABLE["en"]
RETRY_AFTER_S = 5


class ChatRequest(BaseModel):
    """One message from the logged-in user."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"message": "clock me in"}]},
    )

    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE,
        description="What the user says, in English or Swahili (1 to 4000 characters).",
    )
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Continue this conversation of the user's; leave empty for their main one. "
        "Pass a new value to start afresh.",
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # NUL never means anything in a chat message, and PostgreSQL text cannot hold it.
        cleaned = value.replace("\x00", "").strip()
        if not cleaned:
            raise ValueError("The message is empty.")
        return cleaned


class PendingConfirmation(BaseModel):
    """An action that waits for the user's yes (or no) before it runs."""

    tool: str = Field(description="The tool that will run, e.g. request_leave.")
    args: dict[str, Any] = Field(description="Its arguments.")
    summary: str = Field(description="What will happen, in plain words.")
    question: str = Field(description="The question to show, in the user's language.")
    yes: str = Field(description="The label of the yes answer (send it as the next message).")
    no: str = Field(description="The label of the no answer.")


class ChatCitation(BaseModel):
    """A policy passage the reply relies on."""

    number: int = Field(description="The [n] the reply uses for it.")
    document_title: str
    heading_path: list[str] = Field(description="The section, from the top heading down.")
    quote: str = Field(description="The words of the policy that support the reply.")


class ChatReply(BaseModel):
    """The assistant's answer to one message."""

    reply: str = Field(description="What the assistant says, ready to show.")
    conversation_id: str = Field(description="Send it back to continue this conversation.")
    pending_confirmation: PendingConfirmation | None = Field(
        default=None,
        description="Set when an action waits for a yes: answer 'yes'/'ndiyo' or 'no'/'hapana'.",
    )
    citations: list[ChatCitation] = Field(
        default_factory=list, description="The policy passages cited in the reply, if any."
    )


def chat_reply(reply: Reply) -> ChatReply:
    """The public shape of a channel-neutral reply."""
    pending = reply.confirmation
    return ChatReply(
        reply=reply.text,
        conversation_id=reply.conversation_id,
        pending_confirmation=PendingConfirmation(
            tool=pending.tool,
            args=pending.args,
            summary=pending.summary,
            question=pending.question,
            yes=pending.yes,
            no=pending.no,
        )
        if pending is not None
        else None,
        citations=[
            ChatCitation(
                number=c.number,
                document_title=c.document_title,
                heading_path=list(c.heading_path),
                quote=c.quote,
            )
            for c in reply.citations
        ],
    )


def chat_assistant() -> Assistant:
    """The assistant that answers (a dependency, so one can be chosen per app or test)."""
    return get_assistant()


def _chat_actor(token: Annotated[str, Depends(oauth2_scheme)]) -> Actor:
    # The same check as `CurrentActor`, in a unit of work of its own that ends here: a
    # request session would otherwise stay open, holding a connection, for the whole turn.
    with unit_of_work() as session:
        actor = current_actor(token, session)
    # Per person: each turn costs a model call and database work.
    ratelimit.hit(
        get_settings().chat_limit,
        "chat",
        str(actor.organization_id),
        str(actor.user_id),
        message="You are sending messages faster than I can answer. Wait a moment.",
    )
    # The bearer token identifies a user of the web app; memory and hand-offs to hr are
    # kept per channel, so the turn runs on the web channel rather than plain REST.
    return dataclasses.replace(actor, channel=Channel.WEB)


ChatActor = Annotated[Actor, Depends(_chat_actor)]
ChatAssistant = Annotated[Assistant, Depends(chat_assistant)]


def _unavailable() -> JSONResponse:
    return problem(
        503,
        UNAVAILABLE_CODE,
        UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error_event(status: int, code: str, message: str) -> str:
    return _sse(
        "error",
        {"type": PROBLEM_BASE + code, "status": status, "code": code, "detail": message},
    )


router = APIRouter(prefix=PREFIX, tags=["chat"])


@router.post(
    "",
    summary="One assistant turn for the logged-in user",
    operation_id="chat",
    responses=problem_responses(401, 422, 429, 503),
)
async def chat(body: ChatRequest, actor: ChatActor, assistant: ChatAssistant) -> ChatReply:
    """Send a message; the assistant answers, acting only as the caller, through the tools.

    An action that needs a yes comes back as `pending_confirmation`; the next message
    answers it. When the model is unreachable the reply says so and nothing is half-done.
    """
    try:
        reply = await pipeline.converse(
            actor, body.message, conversation_id=body.conversation_id, assistant=assistant
        )
    except pipeline.AssistantUnavailable:
        # FastAPI takes the annotation as the response model; a Response passes as it is.
        return _unavailable()  # type: ignore[return-value]  # a Response, sent as it is
    return chat_reply(reply)


@router.post(
    "/stream",
    summary="The same turn as server-sent events",
    operation_id="chat_stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": '`text/event-stream`: `event: token` (`{"text"}`) as the reply is '
            'written, `event: tool` (`{"name", "status"}`) as tools run or wait for a yes, '
            "then `event: done` with the same JSON as POST /api/v1/chat; `event: error` "
            '(`{"code", "detail"}`) if the turn fails midway.',
            "content": {
                "text/event-stream": {
                    # One server-sent event; `data` is the JSON described above.
                    "schema": {
                        "type": "object",
                        "properties": {
                            "event": {"type": "string", "enum": ["token", "tool", "done", "error"]},
                            "data": {"type": "string"},
                        },
                        "required": ["event", "data"],
                    }
                }
            },
        },
        **problem_responses(401, 422, 429),
    },
)
async def chat_stream(
    body: ChatRequest, actor: ChatActor, assistant: ChatAssistant
) -> StreamingResponse:
    """Send a message and watch the answer being written."""

    async def events() -> AsyncIterator[str]:
        try:
            async for step in pipeline.converse_stream(
                actor, body.message, conversation_id=body.conversation_id, assistant=assistant
            ):
                if step.kind == "token":
                    yield _sse("token", {"text": step.text})
                elif step.kind == "tool":
                    yield _sse("tool", {"name": step.tool, "status": step.status})
                elif step.kind == "done" and step.reply is not None:
                    yield _sse("done", chat_reply(step.reply).model_dump(mode="json"))
        except HRError as exc:
            yield _error_event(exc.status, exc.code, exc.message)
        except pipeline.AssistantUnavailable:
            yield _error_event(503, UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        # Proxies must pass each event on at once rather than buffer the stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
