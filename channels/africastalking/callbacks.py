"""Is a callback Africa's Talking's? Its URL token, the only proof there is (AT signs nothing).

With `AT_CALLBACK_TOKEN` set, every callback URL registered with Africa's Talking (USSD,
its end-of-session events, inbound SMS, delivery reports) carries `?token=<it>`, and a
callback without it is refused. A callback that shows the token is the gateway itself:
it carries a whole workforce's screens and texts from a few addresses, so it is not held
to the per-address limit meant for strangers (at 08:00 that limit would refuse the
people clocking in).
"""

from __future__ import annotations

import hmac
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CallbackSettings(BaseSettings):
    """Africa's Talking callbacks' own settings."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: When set, callbacks must carry `?token=` with this value (AT signs nothing).
    callback_token: str | None = Field(
        default=None, repr=False, validation_alias="AT_CALLBACK_TOKEN"
    )


@lru_cache
def get_callback_settings() -> CallbackSettings:
    """The process-wide callback settings, read once."""
    return CallbackSettings()


def token_ok(given: str | None) -> bool:
    """Whether a callback carries the configured token (any callback, when none is set)."""
    expected = get_callback_settings().callback_token
    if not expected:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


def from_gateway(given: str | None) -> bool:
    """Whether a callback proves it is Africa's Talking's: a token is set and it matches."""
    return bool(get_callback_settings().callback_token) and token_ok(given)
