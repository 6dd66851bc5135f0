"""The Celery app runs in-process without REDIS_URL, and jobs leave only after a commit."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy.orm import Session

from hrcore.worker import celery_app, enqueue_after_commit

ROOT = Path(__file__).resolve().parents[1]
# The packages of the application, every layer (the tests declare tasks of their own).
LAYERS = ("hrcore", "knowledge", "tools", "assistant", "channels", "api")

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
    from api.cli import celery_with_every_task

    # What `ajira worker` does: every layer's task modules, imported at start.
    celery_app = celery_with_every_task()
    assert {"hrcore.leave.tasks", "hrcore.idempotency"} <= set(celery_app.conf.include)
    celery_app.loader.import_default_modules()
    schedule = celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} <= set(celery_app.tasks)
    assert "leave.roll_over_year" in celery_app.tasks


def test_the_worker_command_registers_the_upper_layers_tasks() -> None:
    from api.cli import celery_with_every_task

    celery_with_every_task().loader.import_default_modules()
    assert "knowledge.ingest_document" in celery_app.tasks
    assert {"outbox.deliver", "outbox.sweep"} <= set(celery_app.tasks)


def _declares_a_task(decorator: ast.expr) -> bool:
    # `@shared_task`, `@shared_task(...)`, `@celery_app.task(...)`, `@app.task`...
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id == "shared_task"
    return isinstance(target, ast.Attribute) and target.attr in {"task", "shared_task"}


def _modules_declaring_tasks() -> set[str]:
    found = set()
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            if any(
                _declares_a_task(decorator)
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                for decorator in node.decorator_list
            ):
                parts = path.relative_to(ROOT).with_suffix("").parts
                found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_every_module_declaring_a_task_is_in_the_one_list() -> None:
    from api.cli import TASK_MODULES

    declaring = _modules_declaring_tasks()
    # The walk must see the tasks it knows of, or it proves nothing.
    assert {"hrcore.leave.tasks", "knowledge.tasks", "channels.delivery"} <= declaring
    assert sorted(declaring - set(TASK_MODULES)) == [], "add these to api.cli.TASK_MODULES"
    assert sorted(set(TASK_MODULES) - declaring) == [], "these declare no task any more"
    assert len(TASK_MODULES) == len(set(TASK_MODULES))
