"""The Bot API client (python-telegram-bot's `Bot`), built from the settings, and what a
failed call means for the outbox.

A bot is opened per use and closed after it: its HTTP client belongs to one event loop,
and the webhook, the poller and the outbox's worker threads each run their own.
`initialize()` is never called (it would ask `getMe` every time); the HTTP client is
ready once built.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import httpx
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from channels.outbound import SendError, transport_error
from hrcore.config import Settings

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
#: Seconds for one Bot API call (long polls add their own timeout on top).
TIMEOUT_S = 10.0

T = TypeVar("T")


def configured(settings: Settings) -> bool:
    """Whether the bot can talk to Telegram: it has a token."""
    return bool(settings.telegram_bot_token)


def build(settings: Settings, *, requests: tuple[HTTPXRequest, HTTPXRequest] | None = None) -> Bot:
    """A `Bot` for the configured token, at `TELEGRAM_API_BASE_URL` when set."""
    if not settings.telegram_bot_token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    calls, updates = requests or _requests()
    return Bot(
        settings.telegram_bot_token,
        base_url=(settings.telegram_api_base_url or DEFAULT_BASE_URL).rstrip("/"),
        request=calls,
        get_updates_request=updates,
    )


def _requests() -> tuple[HTTPXRequest, HTTPXRequest]:
    # getUpdates holds its connection open for the long poll's whole timeout: its own pool.
    return _request(pool_size=4), _request(pool_size=1)


def _request(*, pool_size: int) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=pool_size,
        connect_timeout=5.0,
        read_timeout=TIMEOUT_S,
        write_timeout=TIMEOUT_S,
    )


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Bot]:
    """A bot for the block, its connections closed afterwards."""
    requests = _requests()
    bot = build(settings, requests=requests)
    try:
        yield bot
    finally:
        for request in requests:
            await request.shutdown()


def run(call: Callable[[Bot], Awaitable[T]], settings: Settings) -> T:
    """Run one async use of a fresh bot from synchronous code (the outbox's sender).

    In a thread that already runs an event loop, on a thread of its own: a sender may be
    called right after a commit made inside async code.
    """

    async def main() -> T:
        async with opened(settings) as bot:
            return await call(bot)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def send_error(exc: TelegramError) -> SendError:
    """How a failed Bot API call ends for the outbox: later (429, 5xx, timeouts) or never."""
    detail = str(exc)[:200]
    if isinstance(exc, RetryAfter):
        return SendError("rate_limited", detail, retryable=True)
    if isinstance(exc, TimedOut):
        return transport_error(exc)  # before the request left, or after: they differ
    if isinstance(exc, Forbidden):
        # "bot was blocked by the user", "user is deactivated": only the user can undo it.
        return SendError("bot_blocked", detail, retryable=False)
    if isinstance(exc, BadRequest):
        code = "chat_not_found" if "chat not found" in detail.lower() else "bad_request"
        return SendError(code, detail, retryable=False)
    if isinstance(exc, InvalidToken):
        return SendError("auth_failed", "the bot token was refused", retryable=False)
    if isinstance(exc, ChatMigrated):
        return SendError("chat_migrated", detail, retryable=False)
    if isinstance(exc, NetworkError):
        if isinstance(exc.__cause__, httpx.HTTPError):
            return transport_error(exc)  # the network's trouble
        return SendError("unavailable", detail, retryable=True)  # Telegram answered 5xx
    return SendError("telegram_error", detail, retryable=False)


@contextmanager
def classified() -> Iterator[None]:
    """Raise a Bot API failure inside the block as the outbox's `SendError`."""
    try:
        yield
    except TelegramError as exc:
        raise send_error(exc) from None
