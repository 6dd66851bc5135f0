"""Conversation memory: the LangGraph Postgres checkpointer, and trimming of old turns."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
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
        checkpointer_url(),
        min_size=1,
        max_size=4,
        kwargs=_CONNECTION_KWARGS,
        # Each connection is checked as it is handed out, as the engine's `pool_pre_ping`
        # does: after a database restart the pool holds only dead ones, and without the
        # check each of them would fail one chat turn before being thrown away.
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
    await pool.open()
    saver = AsyncPostgresSaver(conn=pool)  # type: ignore[arg-type]  # dict_row is set in kwargs
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


@dataclass
class _LatestRead:
    """The turn's own read of its thread's latest checkpoint, until the graph takes it."""

    thread_id: str
    saved: CheckpointTuple | None = None
    ready: bool = False


_latest: ContextVar[_LatestRead | None] = ContextVar("ajira_latest_checkpoint", default=None)


@contextmanager
def turn_reads(thread_id: str) -> Iterator[None]:
    """Within a turn on `thread_id`, a run reuses the turn's read of the latest checkpoint."""
    token = _latest.set(_LatestRead(thread_id))
    try:
        yield
    finally:
        _latest.reset(token)


def _is_latest_of(config: RunnableConfig, thread_id: str) -> bool:
    conf = config.get("configurable") or {}
    return (
        conf.get("thread_id") == thread_id
        and not conf.get("checkpoint_ns")
        and not conf.get("checkpoint_id")
    )


class ReadOnceSaver(BaseCheckpointSaver[Any]):
    """A checkpointer that spares a run its first read when the turn has just made it.

    A turn reads the thread's latest checkpoint to see whether a confirmation is waiting
    (`read_latest`), and the graph run that follows would read the very same row again.
    Inside `turn_reads`, that second read is served from the first one, once; any write
    forgets it. Everything else goes to the wrapped checkpointer unchanged.
    """

    def __init__(self, inner: BaseCheckpointSaver[Any]) -> None:
        # No super().__init__(): `serde` belongs to the wrapped checkpointer.
        self.inner = inner

    @property
    def serde(self) -> Any:  # type: ignore[override]  # read from the wrapped saver, never set
        """The wrapped checkpointer's serializer."""
        return self.inner.serde

    @property
    def config_specs(self) -> list[Any]:
        """The wrapped checkpointer's configuration options."""
        return self.inner.config_specs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def read_latest(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The thread's latest checkpoint; the turn's next run reuses this read."""
        saved = await self.inner.aget_tuple(config)
        held = _latest.get()
        if held is not None and _is_latest_of(config, held.thread_id):
            held.saved, held.ready = saved, True
        return saved

    def _forget(self) -> None:
        held = _latest.get()
        if held is not None:
            held.saved, held.ready = None, False

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint for `config`; the turn's own read of the latest one, once."""
        held = _latest.get()
        if held is not None and held.ready and _is_latest_of(config, held.thread_id):
            saved = held.saved
            held.saved, held.ready = None, False
            return saved
        return await self.inner.aget_tuple(config)

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint."""
        self._forget()
        return await self.inner.aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's pending writes."""
        self._forget()
        await self.inner.aput_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Forget a thread."""
        self._forget()
        await self.inner.adelete_thread(thread_id)

    async def adelete_for_runs(self, run_ids: Any) -> None:
        """Delete the checkpoints of some runs."""
        self._forget()
        await self.inner.adelete_for_runs(run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread."""
        self._forget()
        await self.inner.acopy_thread(source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Any, *, strategy: str = "keep_latest") -> None:
        """Prune old checkpoints."""
        self._forget()
        await self.inner.aprune(thread_ids, strategy=strategy)

    def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """List checkpoints."""
        return self.inner.alist(config, filter=filter, before=before, limit=limit)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        """The wrapped checkpointer's delta history."""
        return await self.inner.aget_delta_channel_history(config=config, channels=channels)

    # The synchronous API: no turn state to reuse, so straight through.
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint for `config`."""
        return self.inner.get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """List checkpoints."""
        return self.inner.list(config, filter=filter, before=before, limit=limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint."""
        self._forget()
        return self.inner.put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's pending writes."""
        self._forget()
        self.inner.put_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        """Forget a thread."""
        self._forget()
        self.inner.delete_thread(thread_id)

    def delete_for_runs(self, run_ids: Any) -> None:
        """Delete the checkpoints of some runs."""
        self._forget()
        self.inner.delete_for_runs(run_ids)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread."""
        self._forget()
        self.inner.copy_thread(source_thread_id, target_thread_id)

    def prune(self, thread_ids: Any, *, strategy: str = "keep_latest") -> None:
        """Prune old checkpoints."""
        self._forget()
        self.inner.prune(thread_ids, strategy=strategy)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        """The wrapped checkpointer's delta history."""
        return self.inner.get_delta_channel_history(config=config, channels=channels)

    def get_next_version(self, current: Any, channel: None) -> Any:
        """The wrapped checkpointer's next channel version."""
        return self.inner.get_next_version(current, channel)

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> ReadOnceSaver:
        """The same wrapper around the wrapped checkpointer's allow-listed clone."""
        inner = self.inner.with_allowlist(extra_allowlist)
        return self if inner is self.inner else ReadOnceSaver(inner)


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
    while cut > 0 and isinstance(before := messages[cut - 1], AIMessage) and before.tool_calls:
        cut -= 1
    return messages[:cut]
