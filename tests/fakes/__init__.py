"""Test doubles for the assistant: a scripted tool-calling chat model."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

_ids = itertools.count(1)


def reply(text: str) -> AIMessage:
    """A plain answer from the model."""
    return AIMessage(text)


def call(name: str, **args: Any) -> AIMessage:
    """A model turn that calls one tool."""
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call_{next(_ids)}"}])


class ScriptedChatModel(GenericFakeChatModel):
    """Answers with the scripted messages in order and records what it was shown.

    `GenericFakeChatModel` has no `bind_tools`; the agent needs one, and a script
    does not care which tools are bound.
    """

    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self.bound_tools = list(tools)
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The parent's stream drops tool calls; stream words, then the calls whole.
        message = self._generate(messages, stop=stop, **kwargs).generations[0].message
        for token in re.split(r"(\s)", message.text) if message.text else []:
            if run_manager:
                run_manager.on_llm_new_token(token)
            yield ChatGenerationChunk(message=AIMessageChunk(content=token, id=message.id))
        calls = getattr(message, "tool_calls", [])
        if calls:
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(calls)
            ]
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", id=message.id, tool_call_chunks=chunks)
            )


def scripted(*messages: AIMessage) -> ScriptedChatModel:
    """A scripted model that answers with `messages`, one per model call."""
    return ScriptedChatModel(messages=iter(messages))


class BrokenChatModel(ScriptedChatModel):
    """A model whose endpoint is down: every call raises."""

    error: Callable[[], Exception] = Field(default=lambda: ConnectionError("endpoint down"))

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        raise self.error()


class LoopRunner:
    """One event loop for a test module, so the checkpointer's pool lives across tests."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()

    def __call__(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        from assistant.memory import close_async_checkpointer

        self.loop.run_until_complete(close_async_checkpointer())
        self.loop.close()


async def collect(stream: Any) -> list[dict[str, Any]]:
    """Every event of an async stream."""
    return [event async for event in stream]
