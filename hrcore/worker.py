"""The Celery app. Without `REDIS_URL`, tasks run in-process (eagerly)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from hrcore.config import get_settings

log = logging.getLogger("ajira.worker")


def _make_app() -> Celery:
    settings = get_settings()
    app = Celery("ajira")
    app.conf.update(
        broker_url=settings.redis_url or "memory://",
        # No result backend: nothing reads a task's return value, and with one every
        # publish also subscribes to its result channel, which while Redis is down retries
        # for about 20 s and then leaves the backend broken until the process restarts.
        task_ignore_result=True,
        task_always_eager=settings.redis_url is None,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        # No `include`: the task modules span every layer, and hrcore may not name the
        # layers above it. The `ajira worker` command lists them all (`TASK_MODULES`).
        beat_schedule={
            # Daily through January (UTC, after midnight everywhere in East Africa): the job
            # is idempotent, so a missed day or a late leave decision is put right next run.
            "leave-roll-over": {
                "task": "leave.roll_over_year",
                "schedule": crontab(minute=5, hour=0, month_of_year=1),
            },
            "idempotency-purge": {
                "task": "idempotency.purge_expired",
                "schedule": crontab(minute=17),
            },
            # Retries whose queued task was lost, rows queued while Redis was down, held
            # rows whose channel is now configured (channels.delivery, by name).
            "outbox-sweep": {"task": "outbox.sweep", "schedule": 60.0},
            # Digests, reminders and invitations: each runs once its local time has come,
            # once per organization and day however often the tick runs.
            "automations-tick": {"task": "automations.tick", "schedule": 300.0},
        },
    )
    return app


celery_app = _make_app()


_PENDING = "ajira.pending_jobs"


def enqueue_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Send `task` only once `session` has committed, so workers never see uncommitted rows.

    A job enqueued inside a savepoint or transaction that is rolled back is
    dropped with it. Arguments should be ids, not objects: the worker loads
    fresh state itself.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, task, args, kwargs))


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_jobs(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [job for job in pending if not _within(job[0], previous)]


# Jobs whose broker could not take them run here, one at a time, off the committing thread.
_fallback = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ajira-jobs")


@event.listens_for(Session, "after_commit")
def _send_committed_jobs(session: Session) -> None:
    # SQLAlchemy also fires this when a savepoint is released; only the real commit counts.
    if session.get_nested_transaction() is not None:
        return
    pending = session.info.pop(_PENDING, None)
    for _transaction, task, args, kwargs in pending or ():
        try:
            task.delay(*args, **kwargs)
        except BrokerUnavailable:
            # The commit stands and the caller is told so: a broker that is down (Redis
            # restarting) must neither turn it into an error nor lose the job, which then
            # runs in this process, as every job does without REDIS_URL.
            log.warning("job_enqueue_failed task=%s, running it here", task.name, exc_info=True)
            _fallback.submit(_run_here, task, args, kwargs)


def _run_here(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        task.apply(args=args, kwargs=kwargs, throw=True)
    except Exception:
        log.exception("job_failed task=%s", task.name)
