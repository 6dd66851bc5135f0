"""Where an upload's ingest runs: a Celery worker, or a thread when Celery runs eagerly.

Without `REDIS_URL`, Celery executes `delay()` inline, which would hold the upload
request for the whole embedding. This module sends those runs to one background
thread instead, after the upload has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session

from hrcore.worker import celery_app, enqueue_after_commit

log = structlog.get_logger("ajira.knowledge")

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _run_logged(document_id: int) -> None:
    from knowledge.tasks import run_ingest

    try:
        run_ingest(document_id)
    except Exception:
        log.exception("ingest_thread_failed", document_id=document_id)


def _submit(document_id: int) -> Future[None]:
    global _executor
    with _lock:
        if _executor is None:
            # One worker: the model already uses both cores, and ingests queue in order.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ajira-ingest")
        return _executor.submit(_run_logged, document_id)


class _ThreadDispatch:
    """Looks like a Celery task to `enqueue_after_commit`: `delay()` queues on the thread."""

    def __init__(self) -> None:
        self.submit: Callable[[int], object] = _submit

    def delay(self, document_id: int) -> None:
        self.submit(document_id)


thread_dispatch = _ThreadDispatch()


def schedule_ingest(session: Session, document_id: int) -> None:
    """Ingest `document_id` once `session` commits, never inside the caller's request."""
    from knowledge.tasks import ingest_document

    task: object = thread_dispatch if celery_app.conf.task_always_eager else ingest_document
    enqueue_after_commit(session, task, document_id)
