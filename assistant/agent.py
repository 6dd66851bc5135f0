"""The LangChain agent: registry tools, a per-call system prompt, memory and confirmations."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import langsmith
from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    ExtendedModelResponse,
    HumanInTheLoopMiddleware,
    ModelCallResult,
    ModelRequest,
    ModelResponse,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, RemoveMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from langsmith.utils import tracing_is_enabled

from assistant.adapter import RegistryTool
from assistant.context import AssistantContext
from assistant.memory import MAX_MESSAGES, messages_to_drop
from assistant.prompt import with_system_prompt

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The chat model failed or timed out; the turn can be retried."""


class _CachedBinding:
    """The request's model, but `bind_tools` hands back the binding made the first time.

    LangChain binds the tools on every model call, and converting every tool's schema
    costs milliseconds per call; the tools and the model are the same on every call.
    """

    def __init__(self, model: Any, cache: dict[tuple[Any, ...], tuple[Any, ...]]) -> None:
        self._model = model
        self._cache = cache

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """The model bound to `tools`, made once per (model, tools, options)."""
        key = (id(self._model), tuple(id(t) for t in tools), repr(sorted(kwargs.items())))
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= _MAX_BINDINGS:
                self._cache.clear()
            # The entry holds the model and tools themselves, so their ids stay theirs.
            hit = self._cache[key] = (
                self._model,
                tuple(tools),
                self._model.bind_tools(tools, **kwargs),
            )
        return hit[2]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


_MAX_BINDINGS = 16


class ModelCall(AgentMiddleware):
    """Around every model call: old turns trimmed, the system prompt, tools bound once.

    One middleware rather than one per concern: LangChain traces each `wrap_model_call`
    hook, and a `before_model` hook is a graph step of its own, so each would add cost
    to every model call. Any failure of the call becomes `ModelUnavailable` (logged by
    type, not shown), and so does an answer with an unreadable tool call.
    """

    def __init__(self, max_messages: int = MAX_MESSAGES) -> None:
        super().__init__()
        self.max_messages = max_messages
        self._bindings: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def _prepare(self, request: ModelRequest) -> tuple[ModelRequest, list[str]]:
        drop = messages_to_drop(list(request.messages), self.max_messages)
        if drop:
            dropped = {id(m) for m in drop}
            request = request.override(
                messages=[m for m in request.messages if id(m) not in dropped]
            )
        request = with_system_prompt(request)
        # A stand-in, not a subclass: it forwards everything but `bind_tools` to the model.
        cached = _CachedBinding(request.model, self._bindings)
        request = request.override(model=cached)  # type: ignore[arg-type]  # a stand-in model
        return request, [m.id for m in drop if m.id]

    @staticmethod
    def _forgetting(response: ModelResponse, drop: list[str]) -> ModelCallResult:
        if not drop:
            return response
        # The trimmed turns leave the stored conversation too, not just this call.
        return ExtendedModelResponse(
            model_response=response,
            command=Command(update={"messages": [RemoveMessage(id=i) for i in drop]}),
        )

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelCallResult:
        try:
            request, drop = self._prepare(request)
            response = handler(request)
        except Exception as exc:
            log.warning("chat model call failed: %s", type(exc).__name__)
            raise ModelUnavailable(str(type(exc).__name__)) from exc
        _refuse_unusable(response)
        return self._forgetting(response, drop)

    async def awrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> ModelCallResult:
        try:
            request, drop = self._prepare(request)
            response = await handler(request)
        except Exception as exc:
            log.warning("chat model call failed: %s", type(exc).__name__)
            raise ModelUnavailable(str(type(exc).__name__)) from exc
        _refuse_unusable(response)
        return self._forgetting(response, drop)


def _refuse_unusable(response: ModelResponse) -> None:
    """Refuse a message with a tool call whose arguments are not a JSON object (a truncated
    or garbled answer): the whole message, calls that did parse included, since half of
    an answer is not what the model meant, and nothing runs on a guess."""
    for message in response.result:
        if isinstance(message, AIMessage) and message.invalid_tool_calls:
            log.warning("chat model answer refused: unreadable tool call")
            raise ModelUnavailable("unreadable tool call")


async def _inline_when_untraced(
    default: Callable[..., Awaitable[Any]],
    ctx: contextvars.Context,
    func: Callable[..., Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """LangSmith's run set-up and tear-down, inline when tracing is off.

    LangChain wraps every middleware hook in a LangSmith span; its book-keeping hops to
    a worker thread twice per hook, which with tracing off does nothing worth a thread
    and costs most under load. With tracing on, LangSmith's own way is kept.
    """
    if ctx.run(tracing_is_enabled):
        return await default(ctx, func, *args, **kwargs)
    return ctx.run(func, *args, **kwargs)


_overrides_set = False


def _skip_idle_trace_threads() -> None:
    global _overrides_set
    if not _overrides_set:
        langsmith.set_runtime_overrides(aio_to_thread=_inline_when_untraced)
        _overrides_set = True


def build_agent(
    model: BaseChatModel,
    tools: Sequence[RegistryTool],
    *,
    checkpointer: BaseCheckpointSaver | None = None,
    max_messages: int = MAX_MESSAGES,
    extra_middleware: Sequence[AgentMiddleware] = (),
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The agent for one role's tools; tools with `confirm` wait for the user's yes."""
    _skip_idle_trace_threads()
    interrupt_on: dict[str, Any] = {
        tool.name: {"allowed_decisions": ["approve", "reject"]}
        for tool in tools
        if tool.spec.confirm
    }
    middleware: list[AgentMiddleware] = [
        ModelCall(max_messages),
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
