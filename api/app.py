"""The FastAPI application factory: `uvicorn api.app:create_app --factory`."""

from __future__ import annotations

import re
import time
import traceback
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.exc import StatementError
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import install_docs
from api.errors import install_error_handlers, problem_json_openapi
from api.logs import configure_logging
from api.middleware import RequestLimits, SecurityHeaders
from api.observability import init_api_sentry
from api.routes import (
    auth,
    channels_at,
    channels_telegram,
    channels_whatsapp,
    chat,
    health,
    knowledge,
    metrics,
    payroll,
    reports,
    resources,
    tools,
    ussd,
    web,
)
from hrcore.config import Settings, get_settings
from knowledge.settings import get_knowledge_settings

log = structlog.get_logger("ajira.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Room for a document upload's multipart framing and form fields beside the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


def _version() -> str:
    try:
        return version("ajira")
    except PackageNotFoundError:
        return "0.0.0"


def _log_unhandled(exc: Exception, scope: Scope) -> None:
    where = {"method": scope["method"], "path": scope["path"]}
    if isinstance(exc, StatementError):
        # Database errors quote the statement's parameters and the offending values
        # (phones, hashes): keep only their kind and where they were raised.
        frames = [
            f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__)
        ]
        log.error(
            "unhandled_error",
            error=type(exc).__name__,
            db_error=type(exc.orig).__name__,
            sqlstate=getattr(exc.orig, "sqlstate", None),
            frames=frames[-8:],
            **where,
        )
    else:
        log.exception("unhandled_error", **where)


class AccessLog:
    """One log line per request: method, path, status, duration and a request id.

    Never bodies, headers or query strings: they carry passwords, tokens and phone numbers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                _log_unhandled(exc, scope)
                raise  # ServerErrorMiddleware answers with the 500 problem
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Ajira API. The database is opened on first use, not here."""
    settings = settings or get_settings()
    configure_logging(settings)
    init_api_sentry(settings)
    app = FastAPI(
        title="Ajira",
        version=_version(),
        summary="Chat-first HR assistant for employers in Kenya and Tanzania.",
        docs_url=None,  # api.docs serves it, without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    install_error_handlers(app)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_header_count=settings.max_header_count,
        max_header_bytes=settings.max_header_bytes,
        body_limits={
            ("POST", knowledge.router.url_path_for("upload_document")): (
                get_knowledge_settings().max_document_bytes + _MULTIPART_OVERHEAD
            )
        },
    )
    app.add_middleware(AccessLog)
    metrics.install(app)
    if settings.widget_origins:
        # The widget on an employer's intranet calls the API from another origin. Bearer
        # tokens only, never cookies, so credentials stay off and only the listed origins
        # get an answer a browser will hand over.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.widget_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            allow_credentials=False,
            max_age=600,
        )
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(tools.build_router())
    app.include_router(resources.build_router())
    app.include_router(knowledge.router)
    app.include_router(chat.router)
    app.include_router(payroll.router)
    app.include_router(channels_at.router)
    app.include_router(ussd.router)
    app.include_router(channels_telegram.router)
    app.include_router(channels_whatsapp.router)
    app.include_router(web.router)
    app.include_router(reports.router)
    app.include_router(metrics.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_json_openapi(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    if settings.docs:
        install_docs(app)

    build_middleware_stack = app.build_middleware_stack

    def with_security_headers() -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, so that its 500s carry the headers too.
        return SecurityHeaders(build_middleware_stack())

    app.build_middleware_stack = with_security_headers  # type: ignore[method-assign]  # wraps it
    return app
