"""Settings from the environment (and an optional `.env`)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Ajira reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="AJIRA_ENV"
    )
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(default=Path(".ajira"), validation_alias="AJIRA_DATA_DIR")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    # Unset: a random key generated once in `data_dir` (hrcore.keys); never one from the source.
    secret_key: str | None = Field(default=None, validation_alias="AJIRA_SECRET_KEY")
    # Keys being rotated out: tokens they signed still verify until they expire.
    previous_secret_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="AJIRA_PREVIOUS_SECRET_KEYS"
    )
    demo_password: str = Field(default="demo-pass-2026", validation_alias="AJIRA_DEMO_PASSWORD")
    default_region: str = Field(default="KE", validation_alias="AJIRA_DEFAULT_REGION")
    log_level: str = Field(default="INFO", validation_alias="AJIRA_LOG_LEVEL")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="AJIRA_LLM_MODEL")
    llm_timeout_s: float = Field(default=30, gt=0, validation_alias="AJIRA_LLM_TIMEOUT")

    # Africa's Talking SMS; without a username and key SMS waits in the outbox, unsent.
    at_username: str | None = Field(default=None, validation_alias="AT_USERNAME")
    at_api_key: str | None = Field(default=None, repr=False, validation_alias="AT_API_KEY")
    at_sender_id: str | None = Field(default=None, validation_alias="AT_SENDER_ID")
    # The SMS API's base URL ending in /version1 (a sandbox or a local stand-in); unset, the SDK's.
    at_api_base_url: str | None = Field(default=None, validation_alias="AT_API_BASE_URL")
    # Telegram: without a bot token the channel is off; the secret guards the webhook.
    telegram_bot_token: str | None = Field(
        default=None, repr=False, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_webhook_secret: str | None = Field(
        default=None, repr=False, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # The Bot API's base URL (a local stand-in in tests); unset, https://api.telegram.org/bot.
    telegram_api_base_url: str | None = Field(
        default=None, validation_alias="TELEGRAM_API_BASE_URL"
    )
    # WhatsApp Cloud API: off until the token and number id are set.
    whatsapp_token: str | None = Field(default=None, repr=False, validation_alias="WHATSAPP_TOKEN")
    whatsapp_phone_number_id: str | None = Field(
        default=None, validation_alias="WHATSAPP_PHONE_NUMBER_ID"
    )
    whatsapp_verify_token: str | None = Field(
        default=None, repr=False, validation_alias="WHATSAPP_VERIFY_TOKEN"
    )
    whatsapp_app_secret: str | None = Field(
        default=None, repr=False, validation_alias="WHATSAPP_APP_SECRET"
    )
    # The Graph API's base URL with its version (a local stand-in in tests).
    whatsapp_graph_url: str = Field(
        default="https://graph.facebook.com/v23.0", validation_alias="WHATSAPP_GRAPH_URL"
    )
    # Approved templates for messages outside the 24-hour window, per notification kind:
    # JSON such as {"payslip_ready": "payslip_ready_v1", "*": "ajira_update"}.
    whatsapp_templates: dict[str, str] = Field(
        default_factory=dict, validation_alias="WHATSAPP_TEMPLATES"
    )
    # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465; unset, no email.
    smtp_url: str | None = Field(default=None, repr=False, validation_alias="SMTP_URL")
    smtp_from: str | None = Field(default=None, validation_alias="SMTP_FROM")
    # Outbox retries after a provider timeout or 5xx: base * 2^(n-1) seconds, capped, n < max.
    outbox_max_attempts: int = Field(
        default=10, ge=1, le=50, validation_alias="AJIRA_OUTBOX_MAX_ATTEMPTS"
    )
    outbox_retry_base_s: float = Field(default=30, gt=0, validation_alias="AJIRA_OUTBOX_RETRY_BASE")
    outbox_retry_max_s: float = Field(default=1800, gt=0, validation_alias="AJIRA_OUTBOX_RETRY_MAX")

    # HTTP request limits (api.middleware): a request past them is refused before it is read.
    # Document uploads get AJIRA_MAX_DOCUMENT_BYTES (knowledge settings) instead of the body limit.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, validation_alias="AJIRA_MAX_BODY_BYTES")
    max_header_count: int = Field(default=100, ge=1, validation_alias="AJIRA_MAX_HEADER_COUNT")
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, validation_alias="AJIRA_MAX_HEADER_BYTES"
    )
    # Where people reach this service (https://hr.example.co.ke), so links sent in chats
    # (report charts) are absolute; unset, links are paths on this server.
    public_url: str | None = Field(default=None, validation_alias="AJIRA_PUBLIC_URL")
    # The OpenAPI document and the Swagger UI at /docs; off, both answer 404.
    docs: bool = Field(default=True, validation_alias="AJIRA_DOCS")
    # Origins (scheme://host[:port], comma-separated) whose pages embed the web chat widget
    # and may call the API from the browser; unset, only Ajira's own pages can.
    widget_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="AJIRA_WIDGET_ORIGINS"
    )
    # GET /metrics wants `Authorization: Bearer <this>`; unset, it is open (off in production).
    metrics_token: str | None = Field(
        default=None, repr=False, validation_alias="AJIRA_METRICS_TOKEN"
    )
    # Errors go to Sentry when set (api, worker and CLI), scrubbed of personal data.
    sentry_dsn: str | None = Field(default=None, repr=False, validation_alias="SENTRY_DSN")
    sentry_environment: str | None = Field(default=None, validation_alias="SENTRY_ENVIRONMENT")

    access_token_minutes: int = 15
    refresh_token_days: int = 14

    # Rate limits in the `limits` notation ("5/15 minutes;20/day"); see hrcore.ratelimit.
    # Wrong or right, every sign-in counts against its address; a success clears the count of
    # its (login, address) pair, so these are failures in a row from one place.
    login_limit_per_address: str = Field(
        default="30/minute;300/hour", validation_alias="AJIRA_LOGIN_LIMIT_PER_ADDRESS"
    )
    login_limit_per_account: str = Field(
        default="5/15 minutes;10/hour;20/day", validation_alias="AJIRA_LOGIN_LIMIT_PER_ACCOUNT"
    )
    # The pause before a refused sign-in is answered (see api.routes.auth.login).
    login_failure_delay_s: float = Field(
        default=1.0, ge=0, le=10, validation_alias="AJIRA_LOGIN_FAILURE_DELAY"
    )
    refresh_limit: str = Field(default="60/minute", validation_alias="AJIRA_REFRESH_LIMIT")
    chat_limit: str = Field(default="30/minute;500/day", validation_alias="AJIRA_CHAT_LIMIT")
    hr_case_limit: str = Field(default="5/hour;20/day", validation_alias="AJIRA_HR_CASE_LIMIT")
    webhook_limit: str = Field(default="600/minute", validation_alias="AJIRA_WEBHOOK_LIMIT")
    # Password hashes computed at once: argon2 is built to be slow, and a flood of sign-ins
    # must queue behind these few, never take every worker thread.
    hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2),
        ge=1,
        le=64,
        validation_alias="AJIRA_HASH_CONCURRENCY",
    )

    @field_validator(
        "secret_key",
        "at_username",
        "at_api_key",
        "at_sender_id",
        "at_api_base_url",
        "smtp_url",
        "smtp_from",
        "telegram_bot_token",
        "telegram_webhook_secret",
        "telegram_api_base_url",
        "whatsapp_token",
        "whatsapp_phone_number_id",
        "whatsapp_verify_token",
        "whatsapp_app_secret",
        "metrics_token",
        "sentry_dsn",
        "sentry_environment",
        "public_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("previous_secret_keys", "widget_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("widget_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        # Exact origins only: a wildcard would let any site drive the API with a stolen token.
        for origin in value:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ValueError(
                    f"not an origin such as https://intranet.example.co.ke: {origin!r}"
                )
        return [origin.lower() for origin in value]

    @field_validator(
        "login_limit_per_address",
        "login_limit_per_account",
        "refresh_limit",
        "chat_limit",
        "hr_case_limit",
        "webhook_limit",
    )
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '5/minute;100/day': {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError("AJIRA_SECRET_KEY must be a random value of at least 32 characters")
        if self.env == "production" and self.secret_key is None:
            raise ValueError(
                "AJIRA_SECRET_KEY must be set to a random value of at least 32 characters "
                "when AJIRA_ENV=production"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
