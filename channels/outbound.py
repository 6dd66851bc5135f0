"""Senders: one per channel that delivers notifications, and what a send can end in.

A sender takes an `Outbound` and returns a `SendResult` with the provider's message id,
or raises `SendError` saying whether trying again later may work (a timeout, a 5xx, a
429) or never will (a bad key, a number the provider refuses). The outbox decides what
to do with that; a sender never retries by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from channels.messages import Outbound
from hrcore.actor import Channel
from hrcore.config import Settings, get_settings


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider took the message."""

    provider_message_id: str | None = None
    #: The medium confirms delivery at once (in-app), so no report will follow.
    delivered: bool = False


class SendError(Exception):
    """The provider did not take the message; `retryable` says whether later might work.

    `uncertain`: the request left, and no answer came back (a read timeout, a dropped
    connection): the provider may have taken it, so it is never sent again.
    """

    def __init__(
        self, code: str, detail: str = "", *, retryable: bool, uncertain: bool = False
    ) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.retryable = retryable and not uncertain
        self.uncertain = uncertain


class Sender(Protocol):
    """Hands one message to a provider."""

    def send(self, message: Outbound) -> SendResult: ...


#: Builds a channel's sender from the settings, or None when the channel is not set up.
SenderFactory = Callable[[Settings], Sender | None]

_factories: dict[Channel, SenderFactory] = {}


def register(channel: Channel, factory: SenderFactory) -> None:
    """Make `channel` deliverable: `factory` builds its sender from the settings."""
    _factories[channel] = factory


def sender_for(channel: Channel, settings: Settings | None = None) -> Sender | None:
    """The channel's sender, or None when nothing can send on it now."""
    factory = _factories.get(channel)
    return factory(settings or get_settings()) if factory is not None else None


def configured_channels(settings: Settings | None = None) -> set[Channel]:
    """The channels that can send now."""
    settings = settings or get_settings()
    return {channel for channel, factory in _factories.items() if factory(settings) is not None}


def transport_error(exc: BaseException) -> SendError:
    """An HTTP call (httpx) that got no answer: before the request left, try again later;
    after, the outcome is unknown and the message is not sent twice."""
    cause = exc if isinstance(exc, httpx.HTTPError) else exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return SendError("connection_failed", type(cause).__name__, retryable=True)
    name = type(cause or exc).__name__
    return SendError("outcome_unknown", f"no answer: {name}", retryable=False, uncertain=True)


def retryable_status(status: int) -> bool:
    """Whether an HTTP status means "not now" rather than "never" (as courier reads it)."""
    return status >= 500 or status in (408, 425, 429)


class InApp:
    """The web app: a notification is delivered once it is stored, and listed there."""

    def send(self, message: Outbound) -> SendResult:
        return SendResult(delivered=True)


def in_app(settings: Settings) -> Sender:
    """The in-app sender; always available."""
    return InApp()


register(Channel.WEB, in_app)
