"""Notifications to a linked Telegram chat through the outbox: sendMessage to its chat id.

The address is the identity's `reply_to` (the private chat with the bot). A refusal that
only the user can undo (they blocked the bot, the chat is gone) fails for good; 429, 5xx
and timeouts are tried again later by the outbox. Choices a notification offers become
inline buttons.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from channels.messages import Outbound
from channels.outbound import SendError, SendResult
from channels.telegram import bot as bots
from channels.telegram.render import Markup, choice_data, messages
from hrcore.config import Settings


class TelegramSender:
    """Sends one notification per call with python-telegram-bot."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Outbound) -> SendResult:
        try:
            chat_id = int(message.address)
        except ValueError:
            raise SendError("invalid_chat_id", "not a Telegram chat id", retryable=False) from None
        parts = messages(message.text, _choices(message.choices))

        async def deliver(bot: Bot) -> str:
            first: str | None = None
            for part in parts:
                try:
                    with bots.classified():
                        sent = await bot.send_message(
                            chat_id=chat_id, text=part.text, reply_markup=part.markup
                        )
                except SendError as err:
                    if first is not None:
                        # Part of it reached the chat: a retry would repeat that part.
                        raise SendError(
                            err.code, f"partly sent: {err.detail}", retryable=False
                        ) from None
                    raise
                first = first or str(sent.message_id)
            assert first is not None
            return first

        return SendResult(provider_message_id=bots.run(deliver, self.settings))


def _choices(choices: tuple[tuple[str, str], ...]) -> Markup | None:
    buttons = [
        InlineKeyboardButton(label[:64], callback_data=data)
        for value, label in choices
        if (data := choice_data(value)) is not None
    ]
    return (
        InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
        if buttons
        else None
    )


def from_settings(settings: Settings) -> TelegramSender | None:
    """The Telegram sender, or None without `TELEGRAM_BOT_TOKEN`."""
    return TelegramSender(settings) if bots.configured(settings) else None
