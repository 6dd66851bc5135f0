"""Telegram's webhook: updates in, checked against the secret token Telegram echoes.

`setWebhook(secret_token=...)` makes Telegram send `X-Telegram-Bot-Api-Secret-Token` with
every update; it is the only proof a request is Telegram's (the body is not signed), so
without both `TELEGRAM_BOT_TOKEN` and `TELEGRAM_WEBHOOK_SECRET` the webhook is off (404
`telegram_not_configured`) and a missing or wrong token is a 401 that handles nothing.
An update is acknowledged at once and handled after the answer: Telegram waits for the
200, not for the assistant. Updates that are not ours are acknowledged and ignored, so
Telegram stops sending them again.
"""

from __future__ import annotations

import hmac
import json
from typing import Literal

import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

# Registers the outbox's tasks and senders in the API process.
import channels.delivery  # noqa: F401
from api.deps import ClientAddress
from api.errors import problem, problem_responses
from channels.telegram import bot as bots
from channels.telegram import handler, updates
from hrcore import clock, ratelimit
from hrcore.config import get_settings

log = structlog.get_logger("ajira.channels")

router = APIRouter(prefix="/channels/telegram", tags=["channels"])

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name  # nosec B105
_UPDATE_SCHEMA = {
    "type": "object",
    "required": ["update_id"],
    "description": "A Telegram Update (Bot API): update_id and one of message, "
    "callback_query, edited_message, ...",
    "properties": {
        "update_id": {"type": "integer"},
        "message": {"type": "object"},
        "callback_query": {"type": "object"},
    },
}


class Acknowledged(BaseModel):
    """The update was read: `received` to be handled, `ignored` when it is not for us."""

    status: Literal["received", "ignored"]


async def _handle(event: updates.Event) -> None:
    try:
        async with bots.opened(get_settings()) as bot:
            outcome = await handler.dispatch(event, bot)
        log.info("telegram_update", kind=str(event.kind), outcome=outcome)
    except Exception:
        # Never the text: it is someone's message.
        log.exception("telegram_update_failed", kind=str(event.kind))


@router.post(
    "/webhook",
    summary="Telegram Bot API webhook",
    operation_id="telegram_webhook",
    response_model=Acknowledged,
    responses=problem_responses(400, 401, 404, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _UPDATE_SCHEMA}},
        },
        "parameters": [
            {
                "name": SECRET_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "The secret_token given to setWebhook.",
            }
        ],
    },
)
async def webhook(request: Request, client: ClientAddress, background: BackgroundTasks) -> Response:
    """Acknowledged at once; the answer goes to the chat through the Bot API."""
    settings = get_settings()
    ratelimit.hit(
        settings.webhook_limit,
        "webhook",
        ratelimit.private(client),
        message="Too many callbacks from this address; slow down.",
    )
    expected = settings.telegram_webhook_secret
    if not (bots.configured(settings) and expected):
        return problem(404, "telegram_not_configured", "Telegram is not set up here.")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return problem(401, "invalid_telegram_secret", "The secret token is missing or wrong.")
    try:
        update = updates.parse(json.loads(await request.body()))
    except (ValueError, UnicodeDecodeError) as exc:
        # json.JSONDecodeError and updates.MalformedUpdate are both ValueErrors.
        detail = str(exc) if isinstance(exc, updates.MalformedUpdate) else "The body is not JSON."
        return problem(400, "malformed_update", detail)
    event = updates.classify(update, now=clock.now())
    if event.kind is updates.Kind.IGNORED:
        return JSONResponse(Acknowledged(status="ignored").model_dump())
    background.add_task(_handle, event)
    return JSONResponse(Acknowledged(status="received").model_dump())
