"""The Celery app. Without `REDIS_URL`, tasks run in-process (eagerly)."""

from __future__ import annotations

from typing import Any

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session

from hrcore.config import get_settings


def _make_app() -> Celery:
    settings = get_settings()
    app = Celery("ajira")
    app.conf.update(
        broker_url=settings.redis_url or "memory://",
        result_backend=settings.redis_url,
        task_always_eager=settings.redis_url is None,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        include=[],
    )
    return app


celery_app = _make_app()


def enqueue_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Send `task` only once `session` has committed, so workers never see uncommitted rows.

    Arguments should be ids, not objects: the worker loads fresh state itself.
    """

    def _send(_session: Session) -> None:
        task.delay(*args, **kwargs)

    event.listen(session, "after_commit", _send, once=True)
