"""The outbox's bookkeeping: which rows are due, who holds one, and what each attempt did.

The delivery task itself lives in `channels.delivery` (it needs the providers); hrcore
names it only by its task name, and keeps every state change here:

    pending --claim--> sending --provider took it--> sent --report--> delivered | failed
       ^                  |--timeout or 5xx------> pending (later) or failed (out of tries)
       |                  |--refused-------------> failed
       held (no date) while the channel is not configured

`claim` takes a row with `FOR UPDATE SKIP LOCKED` and commits it as `sending` before
the provider is called, so a second worker never sends it again: a row is sent at most
once. A worker that dies during the provider call leaves the row `sending`; after
`SENDING_TIMEOUT` the sweep marks it failed with outcome `unknown` rather than risk a
second copy.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, inspect, select, update
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Channel
from hrcore.config import Settings, get_settings
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.people.models import User

log = logging.getLogger("ajira.outbox")

#: Celery task names; the tasks are defined in `channels.delivery`.
DELIVER = "outbox.deliver"
SWEEP = "outbox.sweep"

#: A `sending` row whose attempt started this long ago is given up as outcome unknown
#: (provider calls time out after seconds; a worker that died never finishes them).
SENDING_TIMEOUT = timedelta(minutes=10)
#: Joins a row to the attempt it is on.
CURRENT_ATTEMPT = (NotificationAttempt.notification_id == Notification.id) & (
    NotificationAttempt.number == Notification.attempts
)


def stuck(now: datetime) -> ColumnElement[bool]:
    """A `sending` row whose attempt has run past `SENDING_TIMEOUT` without an end: its
    worker died (with `CURRENT_ATTEMPT` joined). The sweep gives these up; metrics count
    them."""
    return and_(
        Notification.status == NotificationStatus.SENDING,
        NotificationAttempt.finished_at.is_(None),
        NotificationAttempt.started_at < now - SENDING_TIMEOUT,
    )


#: The sweep leaves rows due this recently to the task already queued for them.
SWEEP_GRACE = timedelta(seconds=30)
#: Held rows older than this stay held when their channel gets configured: news that
#: old is no longer worth an SMS.
HELD_MAX_AGE = timedelta(days=1)
#: A task may arrive this much before its row's due time (clocks of two machines differ).
EARLY_OK = timedelta(seconds=5)
#: Without a broker, a sweep runs in-process at most this often (seconds).
IN_PROCESS_SWEEP_EVERY = 300.0

_ERROR_MAX = 500
# One quick second try when publishing fails: a broker that is down must not hold the
# committing request for long, and the sweep queues whatever was not published.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5}


# ------------------------------------------------------------------------ dispatch


def dispatch(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Run an outbox task by name: through the broker, or here when there is none.

    Never raises: a task that cannot be queued leaves its row pending and due, and the
    sweep picks it up. Without `REDIS_URL` the task runs now on a background thread of
    this process (a retry later, on a timer), and a sweep runs every
    `IN_PROCESS_SWEEP_EVERY` seconds of use.
    """
    from hrcore.worker import celery_app

    if _held:
        return  # a rolled-back run (the assistant eval): nothing it writes may leave
    if not celery_app.conf.task_always_eager:
        try:
            celery_app.send_task(
                task_name,
                args=list(args),
                countdown=countdown,
                retry=True,
                retry_policy=_PUBLISH_RETRY,
            )
        except Exception:
            log.warning("outbox_enqueue_failed task=%s", task_name, exc_info=True)
        return
    task = celery_app.tasks.get(task_name)
    if task is None:
        # The process did not import channels.delivery; the row waits for a sweep.
        log.warning("outbox_task_not_registered task=%s", task_name)
        return
    if countdown:
        timer = threading.Timer(countdown, _run_here, (task, args))
        timer.daemon = True
        timer.start()
        return
    if task_name != SWEEP:
        _background(_sweep_here_now_and_then, celery_app.tasks.get(SWEEP))
    _background(_run_here, task, args)


# A provider may take seconds to answer (the SDK waits up to 12 s): the request or USSD
# screen that committed must not wait for it, so in-process deliveries run on their own.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ajira-outbox")
_running: set[Future[None]] = set()
_running_lock = threading.Lock()


_inline = False


_held = 0


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Send nothing while inside: for runs whose writes are all rolled back."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1


def run_inline(enabled: bool) -> None:
    """Run in-process deliveries in the committing thread (tests sharing one connection)."""
    global _inline
    _inline = enabled


def _background(fn: Any, *args: Any) -> None:
    if _inline:
        fn(*args)
        return
    future = _executor.submit(fn, *args)
    with _running_lock:
        _running.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _running_lock:
        _running.discard(future)


def drain(timeout: float = 30.0) -> None:
    """Wait until the in-process deliveries queued so far have run (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    while True:
        with _running_lock:
            running = list(_running)
        if not running:
            return
        wait(running, timeout=max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return


_sweep_lock = threading.Lock()
_last_sweep = float("-inf")


def _sweep_here_now_and_then(sweep: Any) -> None:
    global _last_sweep
    if sweep is None:
        return
    with _sweep_lock:
        if time.monotonic() - _last_sweep < IN_PROCESS_SWEEP_EVERY:
            return
        _last_sweep = time.monotonic()
    _run_here(sweep, ())


def skip_in_process_sweeps(seconds: float = IN_PROCESS_SWEEP_EVERY) -> None:
    """Count the in-process sweep as just done (tests that count provider calls)."""
    global _last_sweep
    with _sweep_lock:
        _last_sweep = time.monotonic() + seconds - IN_PROCESS_SWEEP_EVERY


def _run_here(task: Any, args: tuple[Any, ...]) -> None:
    try:
        task.apply(args=args, throw=True)
    except Exception:
        log.exception("outbox_task_failed task=%s", task.name)


class DeliverAfterCommit:
    """Looks like a Celery task to `enqueue_after_commit`: delivers one row once committed.

    The row's id is read at commit time (it has none before its flush).
    """

    def __init__(self, notification: Notification) -> None:
        self.notification = notification

    def delay(self) -> None:
        identity = inspect(self.notification).identity
        if identity is not None:
            dispatch(DELIVER, identity[0])


# --------------------------------------------------------------------- one attempt


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker now holds in `sending`, with what the provider needs."""

    notification_id: int
    attempt: int
    channel: Channel
    text: str
    kind: str
    #: The answers it offers, as (value, label) pairs (see `Notification.choices`).
    choices: tuple[tuple[str, str], ...] = ()
    #: Whose row it is: recording the outcome later acts for this organization.
    organization_id: int | None = None


def lock_due(session: Session, notification_id: int) -> Notification | None:
    """The row if it is pending and due and no other worker holds it; locked until commit."""
    return session.scalar(
        select(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.PENDING,
            Notification.next_attempt_at <= clock.now() + EARLY_OK,
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def hold(notification: Notification, reason: str) -> None:
    """Keep a locked row pending without a date: its channel cannot send now."""
    notification.next_attempt_at = None
    notification.last_error = reason[:_ERROR_MAX]


def recipient(session: Session, notification: Notification) -> User | None:
    """The person a notification is for, if they can still be reached."""
    user = session.get(User, notification.recipient_id)
    if user is None or (not user.is_active and notification.channel is not Channel.WEB):
        return None
    return user


def fail_unsent(notification: Notification, code: str) -> None:
    """Give up a locked row before any provider saw it (no address, nobody to send to)."""
    notification.status = NotificationStatus.FAILED
    notification.next_attempt_at = None
    notification.last_error = code[:_ERROR_MAX]


def start_attempt(session: Session, notification: Notification) -> Claimed:
    """Mark a locked row `sending` and record the attempt; commit before calling out."""
    notification.status = NotificationStatus.SENDING
    notification.attempts += 1
    notification.next_attempt_at = None
    session.add(
        NotificationAttempt(
            organization_id=notification.organization_id,
            notification_id=notification.id,
            number=notification.attempts,
            started_at=clock.now(),
        )
    )
    session.flush()
    return Claimed(
        notification.id,
        notification.attempts,
        notification.channel,
        notification.text,
        notification.kind,
        tuple((str(value), str(label)) for value, label in notification.choices or ()),
        notification.organization_id,
    )


def retry_delay(attempt: int, settings: Settings | None = None) -> float | None:
    """Seconds before attempt `attempt + 1`, or None when `attempt` was the last allowed."""
    settings = settings or get_settings()
    if attempt >= settings.outbox_max_attempts:
        return None
    return min(settings.outbox_retry_max_s, settings.outbox_retry_base_s * 2.0 ** (attempt - 1))


def finish_attempt(
    session: Session,
    claimed: Claimed,
    outcome: AttemptOutcome,
    *,
    provider_message_id: str | None = None,
    error_code: str | None = None,
    error_detail: str | None = None,
) -> tuple[AttemptOutcome, float | None]:
    """Record how attempt `claimed.attempt` ended; return the outcome kept (`RETRY` becomes
    `FAILED` once the attempts are used up) and the seconds until the retry, if any."""
    now = clock.now()
    notification = session.get(
        Notification, claimed.notification_id, with_for_update=True, populate_existing=True
    )
    attempt = session.scalar(
        select(NotificationAttempt).where(
            NotificationAttempt.notification_id == claimed.notification_id,
            NotificationAttempt.number == claimed.attempt,
        )
    )
    if notification is None or attempt is None:
        return outcome, None  # the row went with its organization or person meanwhile
    retry_in = retry_delay(claimed.attempt) if outcome is AttemptOutcome.RETRY else None
    if outcome is AttemptOutcome.RETRY and retry_in is None:
        outcome = AttemptOutcome.FAILED
    attempt.finished_at = now
    attempt.outcome = outcome
    attempt.provider_message_id = provider_message_id
    attempt.error_code = error_code[:64] if error_code else None
    attempt.error_detail = error_detail[:_ERROR_MAX] if error_detail else None
    ours = notification.attempts == claimed.attempt and notification.status in (
        NotificationStatus.SENDING,
        # Given up as unknown by the sweep while the provider was still answering.
        NotificationStatus.FAILED,
    )
    if not ours:
        log.warning("outbox_attempt_superseded notification=%s", claimed.notification_id)
        return outcome, None
    if outcome in (AttemptOutcome.SENT, AttemptOutcome.DELIVERED):
        notification.status = (
            NotificationStatus.DELIVERED
            if outcome is AttemptOutcome.DELIVERED
            else NotificationStatus.SENT
        )
        notification.sent_at = now
        if outcome is AttemptOutcome.DELIVERED:
            notification.delivered_at = now
        notification.provider_message_id = provider_message_id
        notification.last_error = None
        return outcome, None
    notification.last_error = _error_text(error_code, error_detail)
    if retry_in is None:
        notification.status = NotificationStatus.FAILED
        return outcome, None
    notification.status = NotificationStatus.PENDING
    notification.next_attempt_at = now + timedelta(seconds=retry_in)
    return outcome, retry_in


def _error_text(code: str | None, detail: str | None) -> str:
    text = ": ".join(part for part in (code, detail) if part) or "unknown error"
    return text[:_ERROR_MAX]


# ---------------------------------------------------------------------- the sweep


def give_up_unfinished(session: Session) -> list[int]:
    """Fail `sending` rows whose attempt never finished (their worker died): outcome unknown.

    Sending them again could send them twice; the attempt says why they stopped.
    """
    now = clock.now()
    stale = list(
        session.execute(
            select(Notification, NotificationAttempt)
            .join(NotificationAttempt, CURRENT_ATTEMPT)
            .where(stuck(now))
            .with_for_update(of=Notification, skip_locked=True)
            .limit(500)
        )
    )
    for notification, attempt in stale:
        attempt.finished_at = now
        attempt.outcome = AttemptOutcome.UNKNOWN
        attempt.error_code = "outcome_unknown"
        notification.status = NotificationStatus.FAILED
        notification.last_error = "outcome_unknown: the worker stopped during the provider call"
        log.warning("outbox_outcome_unknown notification=%s", notification.id)
    return [notification.id for notification, _ in stale]


def release_held(session: Session, channels: set[Channel]) -> list[int]:
    """Make recent held rows of `channels` (configured by now) due again."""
    if not channels:
        return []
    now = clock.now()
    return list(
        session.scalars(
            update(Notification)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.next_attempt_at.is_(None),
                Notification.channel.in_(channels),
                Notification.created_at > now - HELD_MAX_AGE,
            )
            .values(next_attempt_at=now)
            .returning(Notification.id)
        )
    )


def due(session: Session, *, limit: int = 200) -> list[int]:
    """Pending rows due for a while with no task seen to take them (lost or never queued)."""
    cutoff = clock.now() - SWEEP_GRACE
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.next_attempt_at <= cutoff,
            )
            .order_by(Notification.next_attempt_at)
            .limit(limit)
        )
    )


def attempts_of(session: Session, notification_id: int) -> list[NotificationAttempt]:
    """Every attempt at one notification, first first."""
    return list(
        session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == notification_id)
            .order_by(NotificationAttempt.number)
        )
    )
