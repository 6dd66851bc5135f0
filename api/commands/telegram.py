"""`ajira telegram-poll` and `ajira telegram-set-webhook URL`: connect the Telegram bot.

Polling is for development without a public URL: each update goes through the very
handler the webhook uses. In production, Telegram posts to the webhook instead, with
the secret token `setWebhook` registers.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated
from urllib.parse import urlsplit

import typer

from hrcore.config import Settings

#: What Telegram accepts as `secret_token` (Bot API, setWebhook).
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: The updates the bot acts on; Telegram then sends no others.
ALLOWED_UPDATES = ["message", "callback_query"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def register(app: typer.Typer) -> None:
    """Add `telegram-poll` and `telegram-set-webhook` to the `ajira` command line."""
    app.command("telegram-poll")(poll)
    app.command("telegram-set-webhook")(set_webhook)


def _settings() -> Settings:
    from api.cli import Failure
    from hrcore.config import get_settings

    settings = get_settings()
    if not settings.telegram_bot_token:
        raise Failure("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather first")
    return settings


def poll(
    timeout: Annotated[
        int, typer.Option(help="Seconds each long poll waits for updates.", min=0, max=50)
    ] = 30,
    delete_webhook: Annotated[
        bool,
        typer.Option(help="Remove a webhook that is set (getUpdates does not work beside one)."),
    ] = False,
    once: Annotated[bool, typer.Option(help="Handle the updates waiting now, then stop.")] = False,
) -> None:
    """Fetch the bot's updates by long polling and answer them (development; Ctrl-C stops)."""
    from api.cli import failing, out

    with failing():
        settings = _settings()
        out().print("Polling Telegram for updates. Ctrl-C stops.")
        try:
            asyncio.run(
                _poll(settings, timeout=0 if once else timeout, delete=delete_webhook, once=once)
            )
        except KeyboardInterrupt:
            out().print("Stopped.")


async def _poll(settings: Settings, *, timeout: int, delete: bool, once: bool) -> None:
    # Registers the outbox's tasks and senders: notifications are delivered from here too.
    from telegram.error import NetworkError, TelegramError

    import channels.delivery  # noqa: F401
    from api.cli import Failure, out
    from assistant.memory import close_async_checkpointer
    from channels.telegram import bot as bots
    from channels.telegram import handler

    try:
        async with bots.opened(settings) as bot:
            try:
                info = await bot.get_webhook_info()
                if info.url:
                    if not delete:
                        raise Failure(
                            f"a webhook is set ({info.url}); Telegram sends updates there, not "
                            "to getUpdates. Run again with --delete-webhook to remove it"
                        )
                    await bot.delete_webhook()
                    out().print(f"Removed the webhook {info.url}.")
            except TelegramError as exc:
                raise Failure(f"Telegram refused: {exc}") from None
            offset: int | None = None
            while True:
                try:
                    updates = await bot.get_updates(
                        offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
                    )
                except NetworkError as exc:
                    if once:
                        raise Failure(f"Telegram did not answer: {exc}") from None
                    out().print(f"Telegram did not answer ({exc}); trying again in 3 s.")
                    await asyncio.sleep(3)
                    continue
                for update in updates:
                    offset = update.update_id + 1
                    try:
                        outcome = await handler.handle(update, bot)
                    except Exception as exc:
                        # One bad update must not stop the others; never its text in the log.
                        outcome = f"failed ({type(exc).__name__})"
                    out().print(f"update {update.update_id}: {outcome}")
                if once and not updates:
                    return
    finally:
        await close_async_checkpointer()


def set_webhook(
    url: Annotated[str, typer.Argument(help="https://<your host>/channels/telegram/webhook")],
    drop_pending: Annotated[
        bool, typer.Option(help="Forget the updates Telegram holds for the bot.")
    ] = False,
) -> None:
    """Tell Telegram to post the bot's updates to URL, with TELEGRAM_WEBHOOK_SECRET."""
    from api.cli import Failure, failing, out

    with failing():
        settings = _settings()
        secret = settings.telegram_webhook_secret
        if not secret:
            raise Failure("TELEGRAM_WEBHOOK_SECRET is not set: the webhook refuses every update")
        if not SECRET_FORMAT.fullmatch(secret):
            raise Failure(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        _check_url(url)
        lines = asyncio.run(_set_webhook(settings, url, secret, drop_pending=drop_pending))
        for line in lines:
            out().print(line, soft_wrap=True)


def _check_url(url: str) -> None:
    from api.cli import Failure

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return  # a local Bot API server, or a tunnel's local end
    raise Failure(f"{url!r} is not an https:// URL (plain http is only for localhost)")


async def _set_webhook(
    settings: Settings, url: str, secret: str, *, drop_pending: bool
) -> list[str]:
    from telegram.error import TelegramError

    from api.cli import Failure
    from channels.telegram import bot as bots

    async with bots.opened(settings) as bot:
        try:
            done = await bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=drop_pending,
            )
            info = await bot.get_webhook_info()
        except TelegramError as exc:
            raise Failure(f"Telegram refused the webhook: {exc}") from None
    lines = [f"setWebhook: {'ok' if done else 'not accepted'}", f"url: {info.url}"]
    lines.append(f"pending updates: {info.pending_update_count}")
    if info.last_error_message:
        lines.append(f"last delivery error: {info.last_error_message}")
    return lines
