"""Settings from the environment (and an optional `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "ajira-development-key-not-for-production-use"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """Everything Ajira reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="AJIRA_ENV"
    )
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(default=Path(".ajira"), validation_alias="AJIRA_DATA_DIR")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    secret_key: str = Field(default=DEV_SECRET_KEY, validation_alias="AJIRA_SECRET_KEY")
    demo_password: str = Field(default="demo-pass-2026", validation_alias="AJIRA_DEMO_PASSWORD")
    default_region: str = Field(default="KE", validation_alias="AJIRA_DEFAULT_REGION")
    log_level: str = Field(default="INFO", validation_alias="AJIRA_LOG_LEVEL")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="AJIRA_LLM_MODEL")
    llm_timeout_s: float = Field(default=30, gt=0, validation_alias="AJIRA_LLM_TIMEOUT")

    access_token_minutes: int = 15
    refresh_token_days: int = 14
    max_failed_logins: int = 5
    lockout_minutes: int = 15

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "AJIRA_SECRET_KEY must be set to a random value of at least 32 characters "
                "when AJIRA_ENV=production"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
