"""Logging for the server and every command: structlog and stdlib through one renderer.

Its own module, light to import: every `ajira` command sets logging up before it runs,
and a worker or a chat at the terminal should not load the web app to do so.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from hrcore.config import Settings

_HANDLER_NAME = "ajira"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging (uvicorn too) through one renderer.

    JSON lines in production, readable console output in development; under tests the
    runner's own handlers are left alone. Tracebacks never
    include local variables: they may hold passwords, PINs or tokens.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if settings.env == "production":
        final: list[Any] = [
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
    else:
        final = [structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    if settings.env == "test":
        # The test runner owns stdlib logging (capture, levels); structlog still feeds it.
        return
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every outbound URL at INFO, and some carry credentials (Telegram's bot
    # token is part of its URL); the embedded database narrates every command it runs.
    for name in ("httpx", "httpcore", "pgserver"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    # Our access line replaces uvicorn's, which would print query strings (tokens, phones).
    logging.getLogger("uvicorn.access").disabled = True
