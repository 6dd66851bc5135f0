"""The web chat: the embeddable widget script, the page that hosts it for the demo, and the
live stream of the signed-in person's in-app notifications that the widget shows.

The widget talks to the same JSON routes as any app (`/api/v1/auth/*`, `/api/v1/chat/stream`)
with a bearer token it keeps in memory; nothing here reads a token from a URL or a cookie.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import DBAPIError

from api.deps import oauth2_scheme
from api.errors import PROBLEM_BASE, problem, problem_responses
from hrcore.actor import Actor, Channel, Permission
from hrcore.auth.service import authenticate_access_token
from hrcore.db import unit_of_work
from hrcore.errors import HRError
from hrcore.notifications import live

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STREAM_PATH = "/api/v1/notifications/stream"
#: Seconds between keep-alive comments: proxies drop connections idle for ~30-60 s, and
#: each beat also checks that the session behind the token is still open.
HEARTBEAT_S = 15.0
#: What the widget should wait before reconnecting after the stream ends (milliseconds).
RECONNECT_MS = 3000
# The script is embedded by a fixed URL, so a cached copy is kept only briefly and then
# revalidated with its ETag (a 304 without a body): a fix reaches every page within minutes.
SCRIPT_CACHE = "public, max-age=300, stale-while-revalidate=3600"
PAGE_CACHE = "no-cache"

router = APIRouter(tags=["web chat"])


# ------------------------------------------------------------------ static files


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    etag: str
    media_type: str


@lru_cache
def _asset(name: str, media_type: str) -> _Asset:
    body = (STATIC_DIR / name).read_bytes()
    return _Asset(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', media_type)


def _static(request: Request, name: str, media_type: str, cache: str, **headers: str) -> Response:
    asset = _asset(name, media_type)
    sent = {"Cache-Control": cache, "ETag": asset.etag, **headers}
    wanted = request.headers.get("if-none-match", "")
    if asset.etag in {tag.strip() for tag in wanted.split(",")}:
        return Response(status_code=304, headers=sent)
    return Response(asset.body, media_type=asset.media_type, headers=sent)


@router.get("/widget.js", include_in_schema=False)
def widget_script(request: Request) -> Response:
    """The embeddable chat widget (one file, no dependencies)."""
    # Employers load it from their own pages, on another origin.
    return _static(
        request,
        "widget.js",
        "text/javascript; charset=utf-8",
        SCRIPT_CACHE,
        **{"Cross-Origin-Resource-Policy": "cross-origin"},
    )


@router.get("/chat.css", include_in_schema=False)
def page_styles(request: Request) -> Response:
    """The styles of the demo pages (the widget carries its own)."""
    return _static(request, "chat.css", "text/css; charset=utf-8", SCRIPT_CACHE)


@router.get("/chat", include_in_schema=False)
def chat_page(request: Request) -> Response:
    """The web chat page: the widget, opened, on a page of its own."""
    # No inline script or style: the page works under the default HTML policy (`'self'`).
    return _static(request, "chat.html", "text/html; charset=utf-8", PAGE_CACHE)


@router.get("/", include_in_schema=False)
def start_page(request: Request) -> Response:
    """The demo's start page: where to chat and where the API is described."""
    return _static(request, "index.html", "text/html; charset=utf-8", PAGE_CACHE)


# ------------------------------------------------------------------ live notifications


def _signed_in(token: str) -> Actor:
    """The actor behind `token` as of now: an ended session or expired token raises."""
    with unit_of_work() as session:
        return authenticate_access_token(session, token, Channel.WEB)


def _stream_actor(token: Annotated[str, Depends(oauth2_scheme)]) -> Actor:
    # Its own short unit of work: a request session would stay open for the whole stream.
    actor = _signed_in(token)
    actor.require(Permission.NOTIFICATION_READ)
    return actor


StreamActor = Annotated[Actor, Depends(_stream_actor)]


def _baseline(token: str) -> int:
    with unit_of_work() as session:
        actor = authenticate_access_token(session, token, Channel.WEB)
        return live.latest_in_app_id(session, actor)


def _newer(token: str, after_id: int) -> list[dict[str, Any]]:
    # The token is checked again with every read: a stream ends with its session.
    with unit_of_work() as session:
        actor = authenticate_access_token(session, token, Channel.WEB)
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "text": row.text,
                "created_at": row.created_at.isoformat(),
            }
            for row in live.in_app_since(session, actor, after_id=after_id)
        ]


def _event(event: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error_event(exc: HRError) -> str:
    return _event(
        "error",
        {
            "type": PROBLEM_BASE + exc.code,
            "status": exc.status,
            "code": exc.code,
            "detail": exc.message,
        },
    )


def _last_seen(value: str | None) -> int | None:
    """The id in a `Last-Event-ID` header, if it is one of ours."""
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value.strip())


async def _notification_events(token: str, actor: Actor, after: int | None) -> AsyncIterator[str]:
    try:
        async with live.listener().subscribe(actor.organization_id, actor.user_id) as waiter:
            # Subscribed before the baseline is read: nothing stored in between is missed.
            last = after if after is not None else await anyio.to_thread.run_sync(_baseline, token)
            yield f"retry: {RECONNECT_MS}\n" + _event("ready", {})
            woken = after is not None  # a reconnecting reader first gets what it missed
            while True:
                if woken:
                    while rows := await anyio.to_thread.run_sync(partial(_newer, token, last)):
                        for row in rows:
                            last = row["id"]
                            yield _event("notification", row, event_id=last)
                woken = await waiter.wait(HEARTBEAT_S)
                if not woken:
                    await anyio.to_thread.run_sync(_signed_in, token)
                    yield ": heartbeat\n\n"
    except HRError as exc:
        # The token expired or its session ended: the widget renews it and reconnects.
        yield _error_event(exc)
    except (live.ListenerUnavailable, DBAPIError):
        # The database is out of reach: the widget reconnects after a pause.
        yield _event(
            "error",
            {
                "type": PROBLEM_BASE + "notifications_unavailable",
                "status": 503,
                "code": "notifications_unavailable",
                "detail": "Live notifications are unavailable for a moment.",
            },
        )


@router.get(
    STREAM_PATH,
    summary="The caller's new in-app notifications, as server-sent events",
    operation_id="notifications_stream",
    tags=["notifications"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`, open until the client leaves or the access "
            'token expires: `event: ready` once listening, then `event: notification` (`{"id", '
            '"kind", "text", "created_at"}`, with `id:` set) for each in-app notification as it '
            "is stored, and a `: heartbeat` comment every 15 s. Send the last id back as "
            "`Last-Event-ID` when reconnecting to receive what was stored meanwhile. "
            '`event: error` (`{"code", "detail"}`) ends the stream: renew the token and '
            "reconnect.",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "event": {"type": "string", "enum": ["ready", "notification", "error"]},
                            "id": {"type": "string"},
                            "data": {"type": "string"},
                        },
                        "required": ["event", "data"],
                    }
                }
            },
        },
        **problem_responses(401, 429),
    },
)
async def notifications_stream(
    actor: StreamActor,
    token: Annotated[str, Depends(oauth2_scheme)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> Response:
    """Watch for new in-app notifications without polling (the web chat widget does)."""
    listener = live.listener()
    if listener.waiting(actor.organization_id, actor.user_id) >= live.MAX_WAITERS_PER_USER:
        return problem(
            429,
            "too_many_streams",
            "Too many notification streams are open for you; close one and try again.",
            headers={"Retry-After": str(RECONNECT_MS // 1000)},
        )
    return StreamingResponse(
        _notification_events(token, actor, _last_seen(last_event_id)),
        media_type="text/event-stream",
        # Proxies must pass each event on at once rather than buffer the stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
