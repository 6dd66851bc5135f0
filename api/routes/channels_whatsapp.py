"""The WhatsApp Cloud API webhook: the verification handshake, then signed messages.

`GET` answers Meta's handshake: the bare `hub.challenge` when `hub.mode` is `subscribe`
and `hub.verify_token` is ours, else 403. `POST` checks `X-Hub-Signature-256` against the
raw body before reading anything: no signature is 401, a wrong one 403, and nothing is
processed either way; a body that is not a JSON object is 400. A signed notification is
acknowledged at once and handled after the answer: Meta retries a slow webhook, and an
assistant turn may take seconds.
"""

from __future__ import annotations

from typing import Literal

import anyio
import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

# Registers the outbox's tasks in the API process: answers are delivered after each
# commit here when there is no broker.
import channels.delivery  # noqa: F401
from api.errors import problem, problem_responses
from channels.whatsapp import conversation, webhook
from hrcore.config import get_settings

log = structlog.get_logger("ajira.channels")

router = APIRouter(prefix="/channels/whatsapp", tags=["channels"])

SIGNATURE_HEADER = "X-Hub-Signature-256"


class Received(BaseModel):
    """The notification was read; what it carries is handled after this answer."""

    status: Literal["received"] = "received"


@router.get(
    "/webhook",
    summary="WhatsApp webhook verification",
    operation_id="whatsapp_verify",
    responses={
        200: {
            "description": "The `hub.challenge` value, as plain text.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(403),
    },
)
async def verify(request: Request) -> Response:
    """Echo `hub.challenge` when `hub.verify_token` is `WHATSAPP_VERIFY_TOKEN`."""
    # Read by their dotted names: FastAPI, unlike PHP, keeps the periods.
    params = dict(request.query_params.items())
    answer = webhook.challenge(params, get_settings().whatsapp_verify_token)
    if answer is None:
        return problem(403, "whatsapp_verification_failed", "The verify token does not match.")
    return PlainTextResponse(answer)


async def _handle(events: webhook.Events) -> None:
    try:
        await conversation.handle(events)
    except Exception:
        log.exception("whatsapp_webhook_failed")


@router.post(
    "/webhook",
    summary="WhatsApp Cloud API notifications",
    operation_id="whatsapp_webhook",
    response_model=Received,
    responses=problem_responses(400, 401, 403, 404),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def notifications(request: Request, background: BackgroundTasks) -> Response:
    """Messages and delivery statuses, signed with the app secret."""
    settings = get_settings()
    if not settings.whatsapp_app_secret:
        return problem(404, "whatsapp_not_configured", "WhatsApp is not set up here.")
    # The signature covers the bytes as sent: read them before any parsing.
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return problem(401, "whatsapp_signature_missing", f"{SIGNATURE_HEADER} is required.")
    if not webhook.signature_valid(body, signature, settings.whatsapp_app_secret):
        return problem(403, "whatsapp_signature_invalid", f"{SIGNATURE_HEADER} does not match.")
    try:
        data = webhook.load(body)
    except webhook.MalformedWebhook as exc:
        return problem(400, "malformed_whatsapp_webhook", str(exc))
    events = await anyio.to_thread.run_sync(
        lambda: webhook.events(
            data,
            phone_number_id=settings.whatsapp_phone_number_id,
            region=settings.default_region,
        )
    )
    if events.messages or events.statuses:
        background.add_task(_handle, events)
    return JSONResponse(Received().model_dump())
