"""What is kept of a conversation, and what a turn's result reports from it.

The checkpointer holds a thread's messages and the interrupts waiting for a yes. A
message is cut of its secrets (`assistant.redact`) before it is kept, and the person is
told so (`SECRET_NOTE`). Read back, the messages give a turn's tool calls with their
outcome and the citations of its policy search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from assistant.catalog import in_every_language
from assistant.memory import ReadOnceSaver
from hrcore.actor import Actor
from hrcore.errors import NotFound
from tools.registry import get_tool

#: The conversation a channel continues when it names none: one thread per (channel, user).
DEFAULT_CONVERSATION = "main"
#: The channel LangGraph keeps a run's interrupts in (pending writes, stream updates).
INTERRUPT = "__interrupt__"
SECRET_NOTE = in_every_language("secret_removed")


@dataclass
class Citation:
    number: int
    document_title: str
    heading_path: list[str]
    quote: str


@dataclass
class State:
    """What a turn needs of the conversation: its messages and what waits for a yes."""

    messages: list[AnyMessage]
    #: LangGraph `Interrupt`s; their `value` holds the HITL `action_requests`.
    interrupts: list[Any]
    #: The checkpoint's own config (a restore point) when read from the checkpointer.
    config: RunnableConfig | None = None


def thread_id(actor: Actor, conversation_id: str | None) -> str:
    """The checkpointer thread of one conversation: per channel, person and conversation."""
    return f"{actor.channel}:{actor.user_id}:{conversation_id or DEFAULT_CONVERSATION}"


async def read_state(
    agent: CompiledStateGraph[Any, Any, Any, Any],
    saver: BaseCheckpointSaver,
    config: RunnableConfig,
) -> State:
    """The thread's latest checkpoint in one read, without building a full state snapshot."""
    if isinstance(saver, ReadOnceSaver):
        saved = await saver.read_latest(config)
    else:
        saved = await saver.aget_tuple(config)
    if saved is None:
        return State(messages=[], interrupts=[])
    interrupts: list[Any] = []
    for _task, channel, value in saved.pending_writes or []:
        if channel == INTERRUPT:
            interrupts.extend(value if isinstance(value, list | tuple) else [value])
        else:
            # Writes a failed run left behind belong in the state: let LangGraph apply them.
            return snapshot_state(await agent.aget_state(config))
    return State(
        messages=list(saved.checkpoint["channel_values"].get("messages") or []),
        interrupts=interrupts,
        config=saved.config.copy(),
    )


def snapshot_state(snapshot: StateSnapshot) -> State:
    """The state as LangGraph's full snapshot has it (pending writes applied)."""
    return State(
        messages=list(snapshot.values.get("messages") or []),
        interrupts=list(snapshot.interrupts),
        config=snapshot.config.copy(),
    )


def said_nothing(messages: list[AnyMessage], seen: set[str | None]) -> bool:
    """Whether the turn's last answer from the model has neither words nor tool calls."""
    last = next(
        (m for m in reversed(messages) if isinstance(m, AIMessage) and m.id not in seen), None
    )
    return last is not None and not last.tool_calls and not last.text.strip()


def messages_of(update: Any) -> list[Any]:
    """The messages a graph node's update adds."""
    if isinstance(update, dict):
        return list(update.get("messages", []))
    if isinstance(update, Command) and isinstance(update.update, dict):
        return list(update.update.get("messages", []))
    return []


def done_actions(messages: list[AnyMessage]) -> list[ToolMessage]:
    """The calls among `messages` that changed something and succeeded."""
    return [
        m
        for m in messages
        if isinstance(m, ToolMessage) and m.status == "success" and _changes_state(m.name)
    ]


def summary_of(message: ToolMessage) -> str:
    """What a tool's result says it did (its summary), or the tool's name."""
    data = _payload(message) or {}
    return str(data.get("summary") or message.name or "")


def tool_calls(
    messages: list[AnyMessage], new_ids: set[str | None], rejected: set[str]
) -> list[dict[str, Any]]:
    """The tool calls this turn made or settled, in order, with their outcome."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    calls = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            result = results.get(call.get("id") or "")
            if message.id not in new_ids and (result is None or result.id not in new_ids):
                continue
            if result is None:
                status, payload = "pending", None
            elif call.get("id") in rejected:
                status, payload = "rejected", None
            else:
                status = "ok" if result.status == "success" else "error"
                payload = _payload(result)
                if payload is None and status == "error":
                    payload = {"error": {"code": "tool_refused", "message": result.text}}
            calls.append(
                {"name": call["name"], "args": call["args"], "status": status, "result": payload}
            )
    return calls


def citations(messages: Any) -> list[Citation]:
    """Citations of the turn's last successful policy search, with their quotes."""
    found: list[Citation] = []
    for message in messages:
        if not (
            isinstance(message, ToolMessage)
            and message.name == "search_policy"
            and message.status == "success"
        ):
            continue
        data = _payload(message) or {}
        results = data.get("results") or []
        found = []
        for cite in data.get("citations") or []:
            number = int(cite.get("number", 0))
            quote = _quote_for(cite, results, number)
            found.append(
                Citation(
                    number=number,
                    document_title=str(cite.get("document_title", "")),
                    heading_path=list(cite.get("heading_path") or []),
                    quote=quote,
                )
            )
    return found


def _payload(message: ToolMessage) -> dict[str, Any] | None:
    try:
        data = json.loads(message.text)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _changes_state(name: str | None) -> bool:
    try:
        return get_tool(name or "").changes_state
    except NotFound:
        return False


def _quote_for(cite: dict[str, Any], results: list[dict[str, Any]], number: int) -> str:
    for passage in results:
        if passage.get("document_title") == cite.get("document_title") and passage.get(
            "heading_path"
        ) == cite.get("heading_path"):
            return str(passage.get("quote", ""))
    if 1 <= number <= len(results):
        return str(results[number - 1].get("quote", ""))
    return ""
