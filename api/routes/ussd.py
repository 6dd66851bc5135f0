"""Africa's Talking USSD callbacks: one screen per request, and the end-of-session report.

Public webhooks, guarded as every Africa's Talking callback (`channels_at.guard`): with
`AT_CALLBACK_TOKEN` set a callback must carry `?token=` (restrict the route to AT's
addresses at the proxy as well). Malformed forms are a 400 problem; everything a caller
can type is a screen.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

import anyio
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from api.deps import ClientAddress
from api.errors import PROBLEM_JSON, problem, problem_responses
from api.routes.channels_at import Token, guard
from channels.africastalking import ussd
from hrcore.config import get_settings

log = structlog.get_logger("ajira.channels")

router = APIRouter(prefix="/channels/africastalking", tags=["channels"])

_FORM = "application/x-www-form-urlencoded"
_TEXT_FIELD = {"type": "string"}
_SCREEN_SCHEMA = {
    "type": "object",
    "required": ["sessionId", "serviceCode", "phoneNumber", "networkCode", "text"],
    "properties": {
        "sessionId": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,100}$"},
        "serviceCode": {"type": "string", "description": "The code dialled, e.g. *384*12345#."},
        "phoneNumber": {"type": "string", "description": "The caller, E.164 (+2547...)."},
        "networkCode": {"type": "string", "pattern": "^[0-9]{0,10}$"},
        "text": {
            "type": "string",
            "description": "Every input of the session so far joined by `*`; empty at first.",
        },
    },
}
_END_SCHEMA = {
    "type": "object",
    "required": ["sessionId", "status"],
    "properties": {
        "sessionId": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,100}$"},
        "status": {"type": "string", "description": "Success, Incomplete or Failed."},
        "durationInMillis": {"type": "string", "pattern": "^[0-9]{0,12}$"},
        "hopsCount": {"type": "string", "pattern": "^[0-9]{0,6}$"},
        "errorMessage": _TEXT_FIELD,
        "lastAppResponse": _TEXT_FIELD,
        "input": _TEXT_FIELD,
        "date": _TEXT_FIELD,
        "cost": _TEXT_FIELD,
        "phoneNumber": _TEXT_FIELD,
        "serviceCode": _TEXT_FIELD,
        "networkCode": _TEXT_FIELD,
    },
}
# Explicit, so that a text/plain route documents its errors as the problem+json they are.
_SCREEN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 403, 429)
}
_SCREEN: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The screen: `CON ` (waits for input) or `END ` (closes), then at most "
        "160 GSM-7 characters.",
        "content": {"text/plain": {"schema": {"type": "string", "pattern": "^(CON|END) "}}},
    }
}


class UssdEventReceived(BaseModel):
    """The end-of-session report was recorded."""

    status: Literal["received"] = "received"


@router.post(
    "/ussd",
    summary="Africa's Talking USSD callback: the next screen",
    operation_id="africastalking_ussd",
    response_class=PlainTextResponse,
    responses={**_SCREEN, **_SCREEN_PROBLEMS},
    openapi_extra={
        "requestBody": {"required": True, "content": {_FORM: {"schema": _SCREEN_SCHEMA}}}
    },
)
async def ussd_screen(request: Request, client: ClientAddress, token: Token = None) -> Response:
    """Answer one USSD screen (form-encoded, as Africa's Talking posts it) as `text/plain`."""
    refused = guard(client, token)
    if refused is not None:
        return refused
    try:
        form = await request.form()
        parsed = ussd.parse_request(form, region=get_settings().default_region)
    except ussd.MalformedCallback as exc:
        return problem(400, "malformed_ussd_request", str(exc))
    except Exception:
        # A body that is not a form at all (bad multipart, bad encoding).
        return problem(400, "malformed_ussd_request", "The body is not a form.")
    return PlainTextResponse(await ussd.answer(parsed))


@router.post(
    "/ussd/events",
    summary="Africa's Talking USSD end-of-session report",
    operation_id="africastalking_ussd_events",
    response_model=UssdEventReceived,
    responses=problem_responses(400, 403, 429),
    openapi_extra={"requestBody": {"required": True, "content": {_FORM: {"schema": _END_SCHEMA}}}},
)
async def ussd_session_end(
    request: Request, client: ClientAddress, token: Token = None
) -> Response:
    """Record how a session ended: status, duration, hops, error (never the caller's input)."""
    refused = guard(client, token)
    if refused is not None:
        return refused
    try:
        form = await request.form()
        session_id, end = ussd.parse_session_end(form)
    except ussd.MalformedCallback as exc:
        return problem(400, "malformed_ussd_event", str(exc))
    except Exception:
        return problem(400, "malformed_ussd_event", "The body is not a form.")
    await anyio.to_thread.run_sync(ussd.record_session_end, session_id, end)
    log.info("ussd_session_end", status=end.status, hops=end.hops, duration_ms=end.duration_ms)
    return JSONResponse(UssdEventReceived().model_dump())
