"""Registry tools as LangChain tools: the model sees the args schema, never the identity."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from langchain.tools import BaseTool, ToolRuntime
from langchain_core.messages import ToolMessage
from pydantic import ConfigDict

from assistant.context import AssistantContext
from hrcore.actor import Actor
from hrcore.db import unit_of_work
from hrcore.errors import HRError
from tools.registry import ToolSpec, run_tool, tools_for

log = logging.getLogger(__name__)

INTERNAL_ERROR = {
    "code": "internal_error",
    "message": "Something went wrong; nothing was changed.",
}


_actor_locks: weakref.WeakValueDictionary[tuple[int, int], threading.Lock] = (
    weakref.WeakValueDictionary()
)
_locks_guard = threading.Lock()


def _lock_for(actor: Actor) -> threading.Lock:
    with _locks_guard:
        key = (actor.organization_id, actor.user_id)
        lock = _actor_locks.get(key)
        if lock is None:
            lock = threading.Lock()
            _actor_locks[key] = lock
        return lock


def call_tool(actor: Actor, name: str, args: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Run one tool as `actor` in its own transaction; return (JSON payload, succeeded).

    Calls one model step makes at once (a leave split at the new year) run one after the
    other: each reads what the one before wrote.
    """
    lock = _lock_for(actor)
    try:
        with lock, unit_of_work(actor) as session:
            result = run_tool(session, actor, name, args)
            payload = result.model_dump(mode="json")
        return payload, True
    except HRError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}, False
    except Exception:
        # Arguments may hold personal data, so only the tool's name is logged.
        log.exception("tool %s failed", name)
        return {"error": dict(INTERNAL_ERROR)}, False


def _injected(runtime: ToolRuntime[AssistantContext]) -> None:
    """Never called: its signature tells LangGraph's ToolNode to inject the runtime."""


class RegistryTool(BaseTool):
    """One `ToolSpec` bound into the agent; it always answers with a ToolMessage."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: ToolSpec
    # ToolNode looks for injected parameters on `func` (and the args schema, which
    # must stay exactly the spec's model so the model sees no identity field).
    func: Callable[..., None] = _injected

    # The registry validates arguments itself (extra fields refused, errors with a
    # stable code), so LangChain passes the model's raw arguments through untouched.
    def _parse_input(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> str | dict[str, Any]:
        return tool_input

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if isinstance(tool_input, str):
            return (), {"__raw__": tool_input}
        return (), dict(tool_input)

    def _run(self, runtime: ToolRuntime[AssistantContext], **kwargs: Any) -> ToolMessage:
        ctx = runtime.context
        if not isinstance(ctx, AssistantContext):
            raise TypeError("the assistant needs an AssistantContext on every run")
        if "__raw__" in kwargs:
            payload: dict[str, Any] = {
                "error": {"code": "invalid_arguments", "message": "Arguments must be an object."}
            }
            ok = False
        else:
            payload, ok = call_tool(ctx.actor, self.name, kwargs)
        return ToolMessage(
            content=json.dumps(payload, ensure_ascii=False),
            tool_call_id=runtime.tool_call_id or "",
            name=self.name,
            status="success" if ok else "error",
        )

    async def _arun(self, runtime: ToolRuntime[AssistantContext], **kwargs: Any) -> ToolMessage:
        # Services are synchronous: keep the event loop free while the database works.
        return await asyncio.to_thread(self._run, runtime, **kwargs)


def to_langchain_tool(spec: ToolSpec) -> RegistryTool:
    """The LangChain tool for one registry spec; its schema is the spec's args model."""
    return RegistryTool(
        name=spec.name, description=spec.description, args_schema=spec.args_model, spec=spec
    )


def tools_for_actor(actor: Actor) -> list[RegistryTool]:
    """The LangChain tools `actor`'s role may use."""
    return [to_langchain_tool(spec) for spec in tools_for(actor)]
