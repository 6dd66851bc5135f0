"""Sentry for the API process: the core's scrubbed setup plus the web framework's hooks."""

from __future__ import annotations

from hrcore.config import Settings, get_settings
from hrcore.observability import init_sentry


def init_api_sentry(settings: Settings | None = None) -> bool:
    """Report the API's unhandled errors (5xx) to Sentry when `SENTRY_DSN` is set."""
    settings = settings or get_settings()
    if not settings.sentry_dsn:
        return False
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    return init_sentry(
        "api", integrations=[StarletteIntegration(), FastApiIntegration()], settings=settings
    )
