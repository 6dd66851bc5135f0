"""Idempotency keys: a retried state-changing call returns the first call's stored outcome.

A key is scoped to (organization, user, key). The first call inserts the key row
before doing any work, inside its own transaction; a concurrent duplicate then waits
on the unique index until the first transaction ends, and replays what it stored.
Only successes are stored: a failed call removes its key (its other writes were
undone too), so a corrected retry with the same key runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from hrcore import audit, clock, db, tenancy
from hrcore.actor import Actor
from hrcore.db import Base
from hrcore.errors import Conflict, Invalid
from hrcore.types import IntPK, OrgScoped
from hrcore.worker import celery_app

KEY_TTL = timedelta(hours=24)
# Visible ASCII only (no spaces or control characters), as the key travels in a header.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyKey(OrgScoped, Base):
    """One key a user sent, the fingerprint of the call it named, and that call's outcome."""

    __tablename__ = "idempotency_keys"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    #: Null while the first call is still running inside its transaction.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    # Set from hrcore.clock rather than the server, so expiry follows the same "now".
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    @property
    def is_complete(self) -> bool:
        """Whether the call behind this key finished and its outcome is stored."""
        return self.status_code is not None


def request_hash(operation: str, payload: Any) -> str:
    """A stable fingerprint of an operation and its (JSON-compatible) arguments."""
    canonical = json.dumps(
        {"operation": operation, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    """Return `key` if it is 1 to 255 visible ASCII characters; raise `Invalid` otherwise."""
    if not _KEY.fullmatch(key):
        raise Invalid(
            "An Idempotency-Key is 1 to 255 visible ASCII characters, without spaces.",
            code="invalid_idempotency_key",
        )
    return key


def claim(session: Session, actor: Actor, *, key: str, fingerprint: str) -> IdempotencyKey:
    """Reserve `key` for a call, or return the completed row of the call that holds it.

    A returned row that `is_complete` is a replay; otherwise the caller owns the key
    and must `complete` it on success or `release` it on failure.
    """
    check_key(key)
    scope = (
        IdempotencyKey.organization_id == actor.organization_id,
        IdempotencyKey.user_id == actor.user_id,
        IdempotencyKey.key == key,
    )
    now = clock.now()
    session.execute(
        delete(IdempotencyKey).where(*scope, IdempotencyKey.created_at <= now - KEY_TTL)
    )
    # Blocks on the unique index while another transaction holds the same key, so a
    # concurrent duplicate sees the first call's committed outcome, never a half-done one.
    inserted = session.scalar(
        insert(IdempotencyKey)
        .values(
            organization_id=actor.organization_id,
            user_id=actor.user_id,
            key=key,
            request_hash=fingerprint,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "user_id", "key"])
        .returning(IdempotencyKey.id)
    )
    row = session.scalar(
        select(IdempotencyKey).where(*scope).execution_options(populate_existing=True)
    )
    if row is None:  # the holder's row expired and was purged in between; rare, retryable
        raise Conflict("That Idempotency-Key is busy; try again.", code="idempotency_key_busy")
    if inserted is not None:
        return row
    if row.request_hash != fingerprint:
        raise Invalid(
            "This Idempotency-Key was already used for a different request. "
            "Use a new key for a new request.",
            code="idempotency_key_reused",
        )
    if not row.is_complete:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed.",
            code="idempotency_key_in_progress",
        )
    audit.record(
        session, actor, "idempotency.replay", target_type="idempotency_key", target_id=row.id
    )
    return row


def complete(session: Session, row: IdempotencyKey, *, status_code: int, body: Any) -> None:
    """Store the outcome of the call that claimed `row`, for its retries to replay."""
    row.status_code = status_code
    row.response_body = body
    session.flush()


def release(session: Session, row: IdempotencyKey) -> None:
    """Forget a claimed key whose call failed, so that a retry runs the call again."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
    session.expunge(row)


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete keys older than `KEY_TTL` in every organization; return how many went."""
    cutoff = (now or clock.now()) - KEY_TTL
    result = session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at <= cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@celery_app.task(name="idempotency.purge_expired")
def purge_expired_task() -> int:
    """Scheduled: drop idempotency keys past their 24 hours, every employer's."""
    with db.unit_of_work() as session, tenancy.system(session, tenancy.Crossing.SCHEDULE):
        return purge_expired(session)
