"""Settings of the knowledge package (embeddings, upload limits), from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class KnowledgeSettings(BaseSettings):
    """What the knowledge package reads from its environment (and `.env`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    embeddings_base_url: str | None = Field(
        default=None, validation_alias="AJIRA_EMBEDDINGS_BASE_URL"
    )
    embeddings_model: str = Field(
        default="text-embedding-3-small", validation_alias="AJIRA_EMBEDDINGS_MODEL"
    )
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    max_document_bytes: int = Field(
        default=10 * MIB, ge=1, validation_alias="AJIRA_MAX_DOCUMENT_BYTES"
    )
    # Up to this many chunks an organization is searched exactly (see knowledge/README.md).
    exact_search_max_chunks: int = Field(
        default=10_000, ge=0, validation_alias="AJIRA_EXACT_SEARCH_MAX_CHUNKS"
    )


@lru_cache
def get_knowledge_settings() -> KnowledgeSettings:
    """The process-wide knowledge settings, read once."""
    return KnowledgeSettings()
