"""The LangChain agent: registry tools, a per-call system prompt, memory and confirmations."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    HumanInTheLoopMiddleware,
    ModelRequest,
    ModelResponse,
)
from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from assistant.adapter import RegistryTool
from assistant.context import AssistantContext
from assistant.memory import MAX_MESSAGES, TrimHistory
from assistant.prompt import SystemPromptMiddleware

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The chat model failed or timed out; the turn can be retried."""


class ModelGuard(AgentMiddleware):
    """Turn any failure of the model call into `ModelUnavailable` (logged, not shown)."""

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        try:
            return handler(request)
        except Exception as exc:
            log.warning("chat model call failed: %s", type(exc).__name__)
            raise ModelUnavailable(str(type(exc).__name__)) from exc

    async def awrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> ModelResponse:
        try:
            return await handler(request)
        except Exception as exc:
            log.warning("chat model call failed: %s", type(exc).__name__)
            raise ModelUnavailable(str(type(exc).__name__)) from exc


def build_agent(
    model: BaseChatModel,
    tools: Sequence[RegistryTool],
    *,
    checkpointer: BaseCheckpointSaver | None = None,
    max_messages: int = MAX_MESSAGES,
    extra_middleware: Sequence[AgentMiddleware] = (),
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The agent for one role's tools; tools with `confirm` wait for the user's yes."""
    interrupt_on: dict[str, Any] = {
        tool.name: {"allowed_decisions": ["approve", "reject"]}
        for tool in tools
        if tool.spec.confirm
    }
    middleware: list[AgentMiddleware] = [
        TrimHistory(max_messages),
        ModelGuard(),
        SystemPromptMiddleware(),
        *extra_middleware,
        HumanInTheLoopMiddleware(interrupt_on=interrupt_on),
    ]
    return create_agent(
        model,
        tools=list(tools),
        context_schema=AssistantContext,
        checkpointer=checkpointer,
        middleware=middleware,
        name="ajira",
    )
