"""The audit log: who did what to whom, through which channel, and how it ended."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import BigInteger, DateTime, Index, String, func, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from hrcore.actor import Actor
from hrcore.db import Base
from hrcore.errors import HRError
from hrcore.tenancy import Crossing, act_as, system
from hrcore.types import IntPK

P = ParamSpec("P")
R = TypeVar("R")


class AuditEntry(Base):
    """No foreign keys: the trail must outlive the rows it speaks of."""

    __tablename__ = "audit_log"

    id: Mapped[IntPK]
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_audit_org_at", "organization_id", "at"),
        Index("ix_audit_actor", "actor_user_id", "at"),
    )


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    outcome: str = "ok",
    target_type: str | None = None,
    target_id: object = None,
    organization_id: int | None = None,
) -> None:
    """Add one audit entry to the current transaction."""
    values = {
        "organization_id": actor.organization_id if actor else organization_id,
        "actor_user_id": actor.user_id if actor else None,
        "actor_role": str(actor.role) if actor else None,
        "channel": str(actor.channel) if actor else None,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "outcome": outcome,
    }
    if values["organization_id"] is None:
        # Nobody's entry (a sign-in with an unknown login): no employer may read it, so only
        # the system may write it; this one row, as a plain INSERT, nothing else pending.
        with system(session, Crossing.UNOWNED):
            session.execute(insert(AuditEntry).values(**values))
        return
    session.add(AuditEntry(**values))


def _record_as(
    session: Session,
    actor: Actor,
    action: str,
    *,
    outcome: str,
    target_type: str | None,
    target_id: object,
) -> None:
    # A failure's entry is written after the failed transaction, in a session of its own
    # (`db.keep_failure_writes`): it belongs to the failed call's actor's organization.
    act_as(session, actor)
    record(session, actor, action, outcome=outcome, target_type=target_type, target_id=target_id)


def audited(
    action: str,
    *,
    target_type: str | None = None,
    target_arg: str | None = None,
    savepoint: bool = True,
) -> Callable[
    [Callable[Concatenate[Session, Actor, P], R]], Callable[Concatenate[Session, Actor, P], R]
]:
    """Audit a service: its outcome is recorded, and a failed call leaves no writes behind.

    The call runs in a savepoint. On an `HRError` the savepoint is rolled back and the
    failure's audit row is handed to the error (`HRError.keep`), to be written in a
    transaction of its own once the caller has rolled back. The target is
    `kwargs[target_arg]` or the result's `id`.

    `savepoint=False` is for a service whose refusals all come before its writes or
    instead of them (a single `INSERT ... ON CONFLICT DO NOTHING`): the savepoint would
    undo nothing, and its two round trips are a third of a short call's.
    """

    def decorate(
        fn: Callable[Concatenate[Session, Actor, P], R],
    ) -> Callable[Concatenate[Session, Actor, P], R]:
        @functools.wraps(fn)
        def wrapper(session: Session, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            target = kwargs.get(target_arg) if target_arg else None
            try:
                if savepoint:
                    with session.begin_nested():
                        result = fn(session, actor, *args, **kwargs)
                else:
                    result = fn(session, actor, *args, **kwargs)
            except HRError as exc:
                outcome = exc.code
                exc.keep(
                    lambda s: _record_as(
                        s, actor, action, outcome=outcome, target_type=target_type, target_id=target
                    )
                )
                raise
            if target is None:
                target = getattr(result, "id", None)
            record(session, actor, action, target_type=target_type, target_id=target)
            return result

        return wrapper

    return decorate
