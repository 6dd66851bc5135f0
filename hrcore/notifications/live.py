"""In-app notifications as they are stored: PostgreSQL LISTEN/NOTIFY, fanned out in-process.

Migration 0008 makes the database announce every stored in-app notification on
`CHANNEL` when its transaction commits, whichever process stored it (a request, the
worker, a command). Each event loop keeps one LISTEN connection and wakes the waiters of
the notification's recipient. A wake-up carries no data: the waiter then reads, under
its own actor, every in-app notification newer than the last one it passed on, so an
announcement missed while reconnecting, or two merged into one wake-up, lose nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator

import psycopg
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Channel, Permission
from hrcore.db import get_engine
from hrcore.notifications.models import Notification

log = logging.getLogger("ajira.notifications")

#: The channel migration 0008's trigger notifies on.
CHANNEL = "ajira_notifications"
#: Open streams per person and process: a few tabs, not a flood of connections.
MAX_WAITERS_PER_USER = 5
#: Seconds between reconnection attempts after the LISTEN connection is lost.
_RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)
#: How long a new waiter waits for the LISTEN connection before giving up.
READY_TIMEOUT_S = 10.0


class ListenerUnavailable(Exception):
    """The database cannot be listened to right now."""


def in_app_since(
    session: Session, actor: Actor, *, after_id: int, limit: int = 20
) -> list[Notification]:
    """The acting user's in-app notifications stored after `after_id`, oldest first."""
    actor.require(Permission.NOTIFICATION_READ)
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.organization_id == actor.organization_id,
                Notification.recipient_id == actor.user_id,
                Notification.channel == Channel.WEB,
                Notification.id > after_id,
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def latest_in_app_id(session: Session, actor: Actor) -> int:
    """The id of the acting user's newest in-app notification (0 when there is none)."""
    actor.require(Permission.NOTIFICATION_READ)
    latest = session.scalar(
        select(func.max(Notification.id)).where(
            Notification.organization_id == actor.organization_id,
            Notification.recipient_id == actor.user_id,
            Notification.channel == Channel.WEB,
        )
    )
    return int(latest or 0)


class Waiter:
    """One reader's wake-up: set when a notification for its person may have been stored."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken within `timeout` seconds; False when the time ran out."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class Listener:
    """One LISTEN connection for an event loop, open while anyone waits."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._waiters: dict[tuple[int, int], set[Waiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def waiting(self, organization_id: int, user_id: int) -> int:
        """How many readers wait for this person's notifications here."""
        return len(self._waiters.get((organization_id, user_id), ()))

    @property
    def total_waiting(self) -> int:
        return sum(len(group) for group in self._waiters.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, organization_id: int, user_id: int) -> AsyncIterator[Waiter]:
        """Wait for one person's notifications; the LISTEN is in place once this yields."""
        key = (organization_id, user_id)
        waiter = Waiter()
        self._waiters.setdefault(key, set()).add(waiter)
        try:
            if self._task is None or self._task.done():
                self._listening.clear()
                self._task = asyncio.create_task(self._run(), name="ajira-notifications-listen")
            try:
                await asyncio.wait_for(self._listening.wait(), READY_TIMEOUT_S)
            except TimeoutError:
                raise ListenerUnavailable("the database is not answering") from None
            yield waiter
        finally:
            group = self._waiters.get(key, set())
            group.discard(waiter)
            if not group:
                self._waiters.pop(key, None)
            if not self._waiters and self._task is not None:
                # Nobody waits: give the connection back until somebody does.
                self._task.cancel()
                self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    failures = 0
                    self._listening.set()
                    # Whatever was stored while (re)connecting is read now.
                    self._wake_all()
                    async for note in conn.notifies():
                        self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._listening.clear()
                delay = _RECONNECT_DELAYS[min(failures, len(_RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning(
                    "notifications_listen_lost error=%s retry_in=%s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)

    def _dispatch(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            key = (int(data["organization_id"]), int(data["recipient_id"]))
        except (ValueError, KeyError, TypeError):
            log.warning("notifications_bad_announcement")
            return
        for waiter in self._waiters.get(key, ()):
            waiter.wake()

    def _wake_all(self) -> None:
        for group in self._waiters.values():
            for waiter in group:
                waiter.wake()


# An asyncio connection and its events belong to the loop that made them.
_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Listener] = (
    weakref.WeakKeyDictionary()
)


def _conninfo() -> str:
    url = get_engine().url.render_as_string(hide_password=False)
    return "postgresql://" + url.split("://", 1)[1]


def listener() -> Listener:
    """The running event loop's listener for the process database."""
    loop = asyncio.get_running_loop()
    conninfo = _conninfo()
    current = _listeners.get(loop)
    if current is None or (current.conninfo != conninfo and current.total_waiting == 0):
        current = Listener(conninfo)
        _listeners[loop] = current
    return current
