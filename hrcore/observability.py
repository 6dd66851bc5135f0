"""Error reporting to Sentry, scrubbed of personal data before anything leaves the process.

`init_sentry` does nothing without `SENTRY_DSN`. Every event passes `scrub` first:
request bodies, cookies and credential headers are dropped, values under keys such as
`password`, `pin`, `token`, `phone` or `national_id` are replaced, and anything in the
remaining text that looks like a phone number, a national id, an email address or a
PIN is masked. An event that cannot be scrubbed is not sent at all.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from typing import Any

from hrcore.config import Settings, get_settings

log = logging.getLogger("ajira.observability")

FILTERED = "[Filtered]"
#: Headers never sent, whatever their value.
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-telegram-bot-api-secret-token",
        "x-hub-signature",
        "x-hub-signature-256",
        "idempotency-key",
    }
)
#: Words of keys whose values are secrets or personal data, wherever they appear in an
#: event ("access_token", "national_id", "pin", "phone_number", "text").
_SECRET_WORDS = frozenset(
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "key",
        "auth",
        "authorization",
        "cookie",
        "cookies",
        "pin",
        "otp",
        "phone",
        "msisdn",
        "mobile",
        "national",
        "nida",
        "kra",
        "email",
        "text",
        "body",
        "question",
        "answer",
    ]
)
_SECRET_KEYS = frozenset({"api_key", "id_number", "idnumber", "pin_hash", "password_hash"})
#: Keys Sentry itself uses for structure, left alone even when they match the above.
_STRUCTURAL_KEYS = frozenset({"message", "formatted", "type", "module", "mechanism", "value"})


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in _STRUCTURAL_KEYS:
        return False
    parts = re.split(r"[_\-\s.]+|(?<=[a-z])(?=[A-Z])", key)
    return lowered in _SECRET_KEYS or any(part.lower() in _SECRET_WORDS for part in parts)


#: Seven or more digits, possibly with a leading + and spaces or dashes inside: phone
#: numbers (0712 345 678, +254712345678) and national ids (12345678, NIDA's 20 digits).
#: Dates (2026-11-23) are left alone.
_LONG_NUMBER = re.compile(r"(?<![\w.:-])(?!\d{4}-\d\d-\d\d\b)\+?\d(?:[\s-]?\d){6,}(?![\w.])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: A Telegram bot token inside a URL ("/bot123456:AAE.../sendMessage").
_BOT_TOKEN = re.compile(r"\bbot\d+:[\w-]+")
#: A PIN said as such ("pin 4321", "PIN=4321") or typed into a phone menu ("1*4*4321").
_PIN = re.compile(r"(?i)(\bpin\b\W{0,3})\d{4,6}\b|(\*)\d{4}(?=\*|$|\b)")


def scrub_text(text: str) -> str:
    """`text` with phone numbers, national ids, emails and PINs replaced."""
    text = _BOT_TOKEN.sub("bot" + FILTERED, text)
    text = _EMAIL.sub(FILTERED, text)
    text = _PIN.sub(lambda m: (m.group(1) or m.group(2) or "") + FILTERED, text)
    return _LONG_NUMBER.sub(FILTERED, text)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: (
                FILTERED
                if isinstance(key, str) and _secret_key(key) and value_is_data(item)
                else _scrub(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, depth + 1) for item in value]
    return value


def _scrub_dict(value: dict[str, Any]) -> dict[str, Any]:
    scrubbed: dict[str, Any] = _scrub(value)  # a dict comes back as a dict
    return scrubbed


def value_is_data(value: Any) -> bool:
    """Whether a value is a leaf worth hiding (text or a number), not a nested structure."""
    return value is not None and not isinstance(value, dict | list | tuple | bool)


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    request = dict(request)
    for key in ("data", "cookies", "env"):
        request.pop(key, None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {
            name: value
            for name, value in headers.items()
            if str(name).lower() not in _SECRET_HEADERS
        }
    if request.get("query_string"):
        # Webhooks and links carry tokens and phone numbers in their query strings.
        request["query_string"] = FILTERED
    return request


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Sentry's `before_send`: the event without personal data, or None to drop it."""
    try:
        event = dict(event)
        if isinstance(event.get("request"), dict):
            event["request"] = _scrub_request(event["request"])
        user = event.get("user")
        if isinstance(user, dict):
            event["user"] = {"id": user["id"]} if "id" in user else {}
        return _scrub_dict(event)
    except Exception:
        # Never send what could not be cleaned.
        log.warning("sentry_event_dropped: could not scrub it", exc_info=True)
        return None


def init_sentry(
    component: str,
    *,
    integrations: Sequence[Any] = (),
    settings: Settings | None = None,
) -> bool:
    """Start reporting errors to Sentry when `SENTRY_DSN` is set; True when it started.

    `component` ("api", "worker", "cli") is a tag on every event. The API passes its web
    framework's integrations; the Celery integration is always on, for the worker.
    """
    settings = settings or get_settings()
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration

    with warnings.catch_warnings():
        # sentry-sdk 2.75 prefers `data_collection`; False here means the same: no
        # addresses, cookies or user details are attached by the SDK itself.
        warnings.filterwarnings("ignore", message=".*send_default_pii", category=DeprecationWarning)
        _init(sentry_sdk, settings, integrations=[CeleryIntegration(), *integrations])
    sentry_sdk.get_global_scope().set_tag("component", component)
    log.info("sentry_enabled component=%s", component)
    return True


def _init(sentry_sdk: Any, settings: Settings, *, integrations: list[Any]) -> None:
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment or settings.env,
        release=_release(),
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=_scrub_breadcrumb,
        integrations=integrations,
    )


def _scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None) -> dict[str, Any]:
    return _scrub_dict(crumb)


def _release() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ajira@{version('ajira')}"
    except PackageNotFoundError:
        return None
