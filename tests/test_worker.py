"""The Celery app runs in-process without REDIS_URL, and jobs leave only after a commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hrcore.worker import celery_app, enqueue_after_commit

seen: list[int] = []


@celery_app.task(name="tests.remember")
def remember(value: int) -> int:
    seen.append(value)
    return value


def test_without_redis_tasks_run_in_process() -> None:
    assert celery_app.conf.task_always_eager is True
    assert remember.delay(7).get() == 7


def test_enqueued_job_waits_for_the_commit(session: Session) -> None:
    seen.clear()
    enqueue_after_commit(session, remember, 1)
    assert seen == []
    session.commit()
    assert seen == [1]


def test_enqueued_job_is_dropped_on_rollback(session: Session) -> None:
    seen.clear()
    nested = session.begin_nested()
    enqueue_after_commit(session, remember, 2)
    nested.rollback()
    session.rollback()
    session.commit()
    assert seen == []


def test_job_from_a_failed_savepoint_is_dropped_but_others_survive(session: Session) -> None:
    seen.clear()
    enqueue_after_commit(session, remember, 3)
    nested = session.begin_nested()
    enqueue_after_commit(session, remember, 4)
    nested.rollback()
    session.commit()
    assert seen == [3]


def test_the_worker_loads_the_scheduled_jobs() -> None:
    import importlib

    from api.cli import UPPER_TASK_MODULES

    assert {"hrcore.leave.tasks", "hrcore.idempotency"} <= set(celery_app.conf.include)
    celery_app.loader.import_default_modules()
    # What `ajira worker` adds: the layers above hrcore own some scheduled jobs' tasks.
    for module in UPPER_TASK_MODULES:
        importlib.import_module(module)
    schedule = celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} <= set(celery_app.tasks)
    assert "leave.roll_over_year" in celery_app.tasks


def test_the_worker_command_registers_the_upper_layers_tasks() -> None:
    import importlib

    from api.cli import UPPER_TASK_MODULES

    for module in UPPER_TASK_MODULES:
        importlib.import_module(module)
    assert "knowledge.ingest_document" in celery_app.tasks
    assert {"outbox.deliver", "outbox.sweep"} <= set(celery_app.tasks)
