"""What operators need of the outbox: its numbers, the rows in trouble, and a way back.

Read from the database, so every process (the API, each worker, a CLI run) sees the
same figures. Nothing here returns a message's text in full or a person's address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Channel
from hrcore.automations.models import AutomationRun
from hrcore.notifications import outbox
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.notifications.outbox import DeliverAfterCommit
from hrcore.people.models import Organization, User

#: Attempts that did not get the message out (a retry later counts as a failed attempt).
FAILED_OUTCOMES = (AttemptOutcome.RETRY, AttemptOutcome.FAILED, AttemptOutcome.UNKNOWN)
PREVIEW_CHARS = 40
#: Phone-like runs of digits (with +, spaces or dashes): never shown in full.
_PHONE = re.compile(r"\+?\d[\d\s-]{6,}\d")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)\b")


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """The outbox across every organization, as one scrape sees it."""

    #: (channel, status) -> rows.
    by_channel_status: dict[tuple[str, str], int]
    #: Age in seconds of the oldest pending row that is due (0 when none is).
    lag_seconds: float
    due: int
    held: int
    #: `sending` rows whose attempt started more than `outbox.SENDING_TIMEOUT` ago.
    stuck: int
    #: channel -> attempts, and channel -> attempts that did not get the message out.
    attempts: dict[str, int]
    failed_attempts: dict[str, int]


@dataclass(frozen=True, slots=True)
class AutomationStats:
    #: (name, finished) -> runs.
    runs: dict[tuple[str, bool], int]
    #: name -> when its latest run finished.
    last_finished: dict[str, datetime]


def limit_statement_time(session: Session, milliseconds: int) -> None:
    """Cap each statement of the current transaction (a scrape must not hang on a lock)."""
    session.execute(text(f"SET LOCAL statement_timeout = {int(milliseconds)}"))


def outbox_stats(session: Session) -> OutboxStats:
    now = clock.now()
    by_channel_status = {
        (str(channel), str(status)): int(n)
        for channel, status, n in session.execute(
            select(Notification.channel, Notification.status, func.count()).group_by(
                Notification.channel, Notification.status
            )
        )
    }
    pending = Notification.status == NotificationStatus.PENDING
    oldest, due, held = session.execute(
        select(
            func.min(Notification.next_attempt_at).filter(Notification.next_attempt_at <= now),
            func.count().filter(Notification.next_attempt_at <= now),
            func.count().filter(Notification.next_attempt_at.is_(None)),
        ).where(pending)
    ).one()
    stuck = session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(NotificationAttempt, outbox.CURRENT_ATTEMPT)
        .where(outbox.stuck(now))
    )
    attempts: dict[str, int] = {}
    failed: dict[str, int] = {}
    for channel, total, bad in session.execute(
        select(
            Notification.channel,
            func.count(),
            func.count().filter(NotificationAttempt.outcome.in_(FAILED_OUTCOMES)),
        )
        .select_from(NotificationAttempt)
        .join(Notification, Notification.id == NotificationAttempt.notification_id)
        .group_by(Notification.channel)
    ):
        attempts[str(channel)] = int(total)
        failed[str(channel)] = int(bad)
    return OutboxStats(
        by_channel_status=by_channel_status,
        lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        due=int(due or 0),
        held=int(held or 0),
        stuck=int(stuck or 0),
        attempts=attempts,
        failed_attempts=failed,
    )


def automation_stats(session: Session) -> AutomationStats:
    finished = AutomationRun.finished_at.is_not(None)
    runs = {
        (str(name), bool(done)): int(n)
        for name, done, n in session.execute(
            select(AutomationRun.name, finished, func.count()).group_by(
                AutomationRun.name, finished
            )
        )
    }
    last = {
        str(name): at
        for name, at in session.execute(
            select(AutomationRun.name, func.max(AutomationRun.finished_at))
            .where(finished)
            .group_by(AutomationRun.name)
        )
        if at is not None
    }
    return AutomationStats(runs=runs, last_finished=last)


# ----------------------------------------------------------------- rows in trouble


@dataclass(frozen=True, slots=True)
class TroubledRow:
    """A delivery that needs an operator's eye: failed, held, or stuck in `sending`."""

    id: int
    organization: str
    channel: str
    kind: str
    #: failed, held or stuck.
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    #: Where it goes, masked ("+2547•••••004", "j•••@example.com").
    to: str
    preview: str = field(default="")


def mask(text: str | None) -> str:
    """`text` with phone numbers and email addresses masked: only their edges show."""
    if not text:
        return ""

    def phone(m: re.Match[str]) -> str:
        digits = m.group(0)
        kept = re.sub(r"[\s-]", "", digits)
        return kept[:5] + "•" * max(3, len(kept) - 8) + kept[-3:] if len(kept) > 8 else "•••"

    masked = _PHONE.sub(phone, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}•••@{m.group(2)}", masked)


def preview(text: str | None, chars: int = PREVIEW_CHARS) -> str:
    """The start of a message, masked, for telling rows apart."""
    flat = " ".join((text or "").split())
    short = flat if len(flat) <= chars else flat[: chars - 1].rstrip() + "…"
    return mask(short)


def _address(user: User | None, channel: str) -> str:
    if user is None:
        return ""
    if channel in (Channel.SMS, Channel.WHATSAPP) and user.phone:
        return mask(user.phone)
    if channel == Channel.EMAIL and user.email:
        return mask(user.email)
    return f"user #{user.id}"


def _troubled_filter(now: datetime) -> ColumnElement[bool]:
    return (
        (Notification.status == NotificationStatus.FAILED)
        | (
            (Notification.status == NotificationStatus.PENDING)
            & Notification.next_attempt_at.is_(None)
        )
        | select(NotificationAttempt.id).where(outbox.CURRENT_ATTEMPT, outbox.stuck(now)).exists()
    )


def troubled(
    session: Session, *, organization: str | None = None, limit: int = 100
) -> list[TroubledRow]:
    """Failed, held and stuck deliveries, newest first; `organization` is a slug."""
    now = clock.now()
    query = (
        select(Notification, Organization.slug, User)
        .join(Organization, Organization.id == Notification.organization_id)
        .outerjoin(User, User.id == Notification.recipient_id)
        .where(_troubled_filter(now))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if organization is not None:
        query = query.where(Organization.slug == organization)
    rows = []
    for notification, slug, user in session.execute(query):
        state = {
            NotificationStatus.FAILED: "failed",
            NotificationStatus.PENDING: "held",
            NotificationStatus.SENDING: "stuck",
        }.get(notification.status, str(notification.status))
        rows.append(
            TroubledRow(
                id=notification.id,
                organization=slug,
                channel=str(notification.channel),
                kind=notification.kind,
                state=state,
                attempts=notification.attempts,
                last_error=mask(notification.last_error),
                created_at=notification.created_at,
                to=_address(user, notification.channel),
                preview=preview(notification.text),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Retried:
    retried: list[int]
    #: id -> why it was left alone (not found, already sent...).
    skipped: dict[int, str]


def retry(
    session: Session,
    *,
    ids: Sequence[int] = (),
    all_failed: bool = False,
    organization: str | None = None,
) -> Retried:
    """Put failed, held or stuck rows back to pending and due; they go out after the commit.

    A stuck row's unfinished attempt is closed as outcome unknown first: its provider may
    have taken it, so retrying it can send it twice (the operator's call to make).
    """
    now = clock.now()
    query = (
        select(Notification)
        .join(Organization, Organization.id == Notification.organization_id)
        .with_for_update(of=Notification)
        .order_by(Notification.id)
    )
    if organization is not None:
        query = query.where(Organization.slug == organization)
    if all_failed:
        query = query.where(Notification.status == NotificationStatus.FAILED)
    if ids:
        query = query.where(Notification.id.in_(list(ids)))
    elif not all_failed:
        return Retried([], {})
    found = {n.id: n for n in session.scalars(query)}
    retried: list[int] = []
    skipped: dict[int, str] = {i: "not found" for i in ids if i not in found}
    troubled_ids = set(
        session.scalars(
            select(Notification.id).where(
                Notification.id.in_(list(found)),
                _troubled_filter(now),
            )
        )
    )
    from hrcore.worker import enqueue_after_commit

    for notification in found.values():
        if notification.id not in troubled_ids:
            skipped[notification.id] = f"{notification.status}, nothing to retry"
            continue
        if notification.status is NotificationStatus.SENDING:
            _close_unfinished(session, notification, now)
        notification.status = NotificationStatus.PENDING
        notification.next_attempt_at = now
        retried.append(notification.id)
        enqueue_after_commit(session, DeliverAfterCommit(notification))
    session.flush()
    return Retried(retried, skipped)


def _close_unfinished(session: Session, notification: Notification, now: datetime) -> None:
    attempt = session.scalar(
        select(NotificationAttempt).where(
            NotificationAttempt.notification_id == notification.id,
            NotificationAttempt.number == notification.attempts,
            NotificationAttempt.finished_at.is_(None),
        )
    )
    if attempt is not None:
        attempt.finished_at = now
        attempt.outcome = AttemptOutcome.UNKNOWN
        attempt.error_code = "outcome_unknown"
