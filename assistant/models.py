"""Which chat model the assistant talks to: any OpenAI-compatible endpoint, or the offline one."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from hrcore.config import Settings


def uses_remote_model(settings: Settings) -> bool:
    """True when an OpenAI-compatible endpoint is configured."""
    return bool(settings.openai_api_key or settings.openai_base_url)


def make_chat_model(settings: Settings) -> BaseChatModel:
    """`ChatOpenAI` when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else the offline model."""
    if uses_remote_model(settings):
        from langchain_openai import ChatOpenAI  # slow to import; only when configured

        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            # Local servers (vLLM, Ollama, llama.cpp) accept any key but the client needs one.
            api_key=settings.openai_api_key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=1,
        )
    from assistant.offline import OfflineChatModel

    return OfflineChatModel()
