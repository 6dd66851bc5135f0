"""Africa's Talking callbacks: inbound SMS and SMS delivery reports, and their guard.

Public webhooks (Africa's Talking signs nothing): with `AT_CALLBACK_TOKEN` set, a callback
must carry `?token=`, and one that does is the gateway, never limited per address; others
are rate-limited per address. A report only names a provider message id, unguessable.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
import structlog
from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

# Registers the outbox's tasks in the API process: notifications are delivered after
# each commit here when there is no broker.
import channels.delivery  # noqa: F401
from api.deps import ClientAddress
from api.errors import problem, problem_responses
from channels.africastalking import callbacks, delivery_reports, sms
from hrcore import ratelimit
from hrcore.config import get_settings
from hrcore.db import unit_of_work
from hrcore.notifications import service as notifications

log = structlog.get_logger("ajira.channels")

router = APIRouter(prefix="/channels/africastalking", tags=["channels"])

_FORM = "application/x-www-form-urlencoded"
_REPORT_SCHEMA = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "description": "The messageId the send API returned."},
        "status": {"type": "string", "enum": list(delivery_reports.STATUSES)},
        "phoneNumber": {"type": "string"},
        "networkCode": {"type": "string"},
        "failureReason": {"type": "string"},
        "retryCount": {"type": "string", "pattern": "^[0-9]+$"},
    },
}


Token = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Required when the server sets AT_CALLBACK_TOKEN: register the callback "
        "URL with it.",
    ),
]


def guard(client: str, token: str | None) -> Response | None:
    """Let Africa's Talking's callback through, or say why not (a 429 raised, a 403 answered).

    Every caller's screens and texts reach us from Africa's Talking's few gateway
    addresses, so a callback that shows the configured token is not counted against its
    address: at 08:00 one address carries a whole workforce clocking in. Without the
    token, it is a stranger's request, limited per address before the token is judged.
    """
    if callbacks.from_gateway(token):
        return None
    ratelimit.hit(
        get_settings().webhook_limit,
        "webhook",
        ratelimit.private(client),
        message="Too many callbacks from this address; slow down.",
    )
    if not callbacks.token_ok(token):
        return problem(403, "invalid_callback_token", "The callback token is missing or wrong.")
    return None


class Received(BaseModel):
    """The callback was read; unknown message ids are accepted and ignored."""

    status: Literal["received"] = "received"


def _record(report: delivery_reports.DeliveryReport) -> bool:
    with unit_of_work() as session:
        row = notifications.record_delivery_report(
            session,
            channel=delivery_reports.CHANNEL,
            provider_message_id=report.provider_message_id,
            status=report.status,
            reason=report.reason,
        )
        return row is not None


@router.post(
    "/sms/delivery",
    summary="Africa's Talking SMS delivery report",
    operation_id="africastalking_sms_delivery",
    response_model=Received,
    responses=problem_responses(400, 403, 429),
    openapi_extra={
        "requestBody": {"required": True, "content": {_FORM: {"schema": _REPORT_SCHEMA}}}
    },
)
async def sms_delivery_report(
    request: Request, client: ClientAddress, token: Token = None
) -> Response:
    """Update the notification the report is about (form-encoded, as Africa's Talking posts)."""
    refused = guard(client, token)
    if refused is not None:
        return refused
    try:
        form = await request.form()
        report = delivery_reports.parse(form)
    except delivery_reports.MalformedReport as exc:
        # (A body Starlette cannot read as a form at all is its own 400 problem.)
        return problem(400, "malformed_delivery_report", str(exc))
    known = await anyio.to_thread.run_sync(_record, report)
    if not known:
        log.info("delivery_report_unknown_id", status=report.provider_status)
    return JSONResponse(Received().model_dump())


_SMS_SCHEMA = {
    "type": "object",
    "required": ["from", "text", "id"],
    "properties": {
        "from": {"type": "string", "description": "The sender, E.164 (+2547...)."},
        "to": {"type": "string", "description": "Our shortcode."},
        "text": {"type": "string"},
        "date": {"type": "string"},
        "id": {"type": "string", "description": "The message id; a retry carries the same."},
        "linkId": {"type": "string"},
        "networkCode": {"type": "string"},
    },
}


async def _handle_sms(form: dict[str, str]) -> None:
    try:
        await sms.handle(form)
    except Exception:
        # Never the text: it is someone's message.
        log.exception("inbound_sms_failed")


@router.post(
    "/sms",
    summary="Africa's Talking inbound SMS",
    operation_id="africastalking_sms_inbound",
    response_model=Received,
    responses=problem_responses(400, 403, 429),
    openapi_extra={"requestBody": {"required": True, "content": {_FORM: {"schema": _SMS_SCHEMA}}}},
)
async def sms_inbound(
    request: Request, client: ClientAddress, background: BackgroundTasks, token: Token = None
) -> Response:
    """Acknowledged at once; the assistant answers by SMS through the outbox."""
    refused = guard(client, token)
    if refused is not None:
        return refused
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        sms.parse(form)
    except sms.MalformedSms as exc:
        return problem(400, "malformed_sms", str(exc))
    # After the answer: Africa's Talking waits for the 200, not for the assistant.
    background.add_task(_handle_sms, form)
    return JSONResponse(Received().model_dump())
