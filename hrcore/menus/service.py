"""Load, lock and keep phone menu sessions; record how they ended; forget old ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from hrcore import clock
from hrcore.actor import Actor, Channel
from hrcore.menus.models import MenuSession
from hrcore.tenancy import Crossing, system

#: Sessions untouched for this long are deleted (a USSD session lasts 3 minutes at most).
KEEP = timedelta(days=1)


def _insert(session: Session, channel: Channel, key: str, **values: object) -> None:
    session.execute(
        insert(MenuSession)
        .values(channel=channel, session_key=key, updated_at=clock.now(), **values)
        .on_conflict_do_nothing(index_elements=["channel", "session_key"])
    )


def lock_session(session: Session, actor: Actor, *, channel: Channel, key: str) -> MenuSession:
    """The menu session `key` of `actor`, created if new, locked until the transaction ends.

    The lock puts two screens of one session (a provider's retry racing the next input)
    one after the other. A session that began as someone else's starts afresh as this
    actor's: a provider's session id is not a credential.
    """
    query = (
        select(MenuSession)
        .where(MenuSession.channel == channel, MenuSession.session_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # The provider's session id is global: it may name a row of nobody's or of another
    # employer's, which this block reads and takes over, and nothing else.
    with system(session, Crossing.IDENTITY):
        row = session.scalar(query)
        if row is None:
            _insert(
                session,
                channel,
                key,
                organization_id=actor.organization_id,
                user_id=actor.user_id,
                state={},
                trail=[],
                hops=0,
            )
            row = session.scalar(query)
            assert row is not None
        if row.user_id != actor.user_id:
            row.organization_id, row.user_id, row.state, row.trail = (
                actor.organization_id,
                actor.user_id,
                {},
                [],
            )
            session.flush()
    return row


def save(row: MenuSession, *, state: dict[str, Any], trail: list[Any], language: str) -> None:
    """Keep where the menu stands after one more screen."""
    row.state, row.trail, row.language = state, trail, language
    # JSON columns are compared by identity: say they changed even if edited in place.
    flag_modified(row, "state")
    flag_modified(row, "trail")
    row.hops = (row.hops or 0) + 1
    row.updated_at = clock.now()


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """The provider's report of a finished session."""

    status: str
    duration_ms: int | None = None
    hops: int | None = None
    error_message: str | None = None
    last_response: str | None = None


def record_end(session: Session, *, channel: Channel, key: str, end: SessionEnd) -> MenuSession:
    """Keep the provider's end report on the session (created for a session we never saw)."""
    # The report names the session by the provider's id alone, whoever's it was.
    with system(session, Crossing.IDENTITY):
        _insert(session, channel, key, state={}, trail=[], hops=0)
        row = session.scalar(
            select(MenuSession)
            .where(MenuSession.channel == channel, MenuSession.session_key == key)
            .with_for_update()
        )
        assert row is not None
        row.ended_at = clock.now()
        row.end_status = end.status
        row.duration_ms = end.duration_ms
        row.end_hops = end.hops
        row.error_message = end.error_message
        row.last_response = end.last_response
        row.updated_at = clock.now()
        session.flush()
    return row


def forget_old(session: Session, *, keep: timedelta = KEEP) -> int:
    """Delete sessions untouched for longer than `keep`, every employer's; how many went."""
    with system(session, Crossing.SCHEDULE):
        result = session.execute(
            delete(MenuSession).where(MenuSession.updated_at < clock.now() - keep)
        )
    return int(getattr(result, "rowcount", 0) or 0)
