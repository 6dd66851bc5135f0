"""Conversation memory: the LangGraph Postgres checkpointer, and trimming of old turns."""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.runtime import Runtime
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hrcore.db import get_engine

#: Messages kept in a thread; older turns are dropped whole.
MAX_MESSAGES = 40


def checkpointer_url() -> str:
    """The process database as a plain libpq URL (psycopg does not read SQLAlchemy's form)."""
    url = get_engine().url.render_as_string(hide_password=False)
    return "postgresql://" + url.split("://", 1)[1]


_CONNECTION_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": 0,
    "row_factory": dict_row,
}


def setup_checkpointer() -> None:
    """Create or upgrade the checkpointer's tables; `ajira migrate` calls it."""
    with PostgresSaver.from_conn_string(checkpointer_url()) as saver:
        saver.setup()


_setup_done = False
_setup_lock = threading.Lock()
# A psycopg async pool belongs to the event loop that opened it.
_savers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncPostgresSaver] = (
    weakref.WeakKeyDictionary()
)


async def async_checkpointer() -> AsyncPostgresSaver:
    """The Postgres checkpointer of the running event loop, opened on first use."""
    global _setup_done
    loop = asyncio.get_running_loop()
    saver = _savers.get(loop)
    if saver is not None:
        return saver
    pool = AsyncConnectionPool(
        checkpointer_url(), min_size=1, max_size=4, kwargs=_CONNECTION_KWARGS, open=False
    )
    await pool.open()
    saver = AsyncPostgresSaver(conn=pool)  # type: ignore[arg-type]
    if not _setup_done:
        # Cheap when the tables exist; spares a fresh database a failing first turn.
        await saver.setup()
        with _setup_lock:
            _setup_done = True
    _savers[loop] = saver
    return saver


async def close_async_checkpointer() -> None:
    """Close the running loop's checkpointer pool (shutdown, tests)."""
    saver = _savers.pop(asyncio.get_running_loop(), None)
    if saver is not None and isinstance(saver.conn, AsyncConnectionPool):
        await saver.conn.close()


def messages_to_drop(messages: list[AnyMessage], max_messages: int) -> list[AnyMessage]:
    """The oldest messages to forget so at most about `max_messages` remain.

    The kept window starts at a user message, so an AI tool call is never separated
    from its tool results; the latest user turn is always kept whole, even if long.
    """
    if len(messages) <= max_messages:
        return []
    first_allowed = len(messages) - max_messages
    starts = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    cut = next((i for i in starts if i >= first_allowed), starts[-1] if starts else 0)
    # A dangling AI tool call (awaiting confirmation) must stay with what follows it.
    while cut > 0 and isinstance(messages[cut - 1], AIMessage) and messages[cut - 1].tool_calls:
        cut -= 1
    return messages[:cut]


class TrimHistory(AgentMiddleware):
    """Before each model call, forget whole old turns beyond `max_messages`."""

    def __init__(self, max_messages: int = MAX_MESSAGES) -> None:
        super().__init__()
        self.max_messages = max_messages

    def before_model(self, state: AgentState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        drop = messages_to_drop(state["messages"], self.max_messages)
        if not drop:
            return None
        return {"messages": [RemoveMessage(id=m.id) for m in drop if m.id]}

    async def abefore_model(
        self, state: AgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        return self.before_model(state, runtime)
