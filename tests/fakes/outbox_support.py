"""What the outbox tests share: settings for a block, a Celery worker, a Redis, waiting."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from hrcore import db
from hrcore.audit import AuditEntry
from hrcore.config import get_settings
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest
from hrcore.migrate import owner_engine, upgrade
from hrcore.notifications import outbox
from hrcore.notifications.models import Notification, NotificationAttempt
from hrcore.people.models import Organization
from hrcore.worker import celery_app
from tests.factories import Team, arranging
from tests.fakes.needs import redis_server_binary

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def committed_database(engine: Engine) -> Iterator[Engine]:
    """A database of its own where commits are real, shared by one test module.

    Like conftest's `committed_engine`, made once per module: creating and migrating a
    database takes about a second, and each test here removes its own rows anyway
    (`committed_team`). Use it through `using(engine)` in each test.
    """
    name = f"ajira_outbox_{secrets.token_hex(4)}"
    # Creating a database is the login role's right, not the application role's.
    with (
        owner_engine(engine) as owner,
        owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
    ):
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    own = db.make_engine(engine.url.set(database=name), pool_size=20, max_overflow=10)
    try:
        upgrade(own)
        yield own
    finally:
        own.dispose()
        db.configure_engine(engine)
        with (
            owner_engine(engine) as owner,
            owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def using(own: Engine, default: Engine) -> Iterator[Engine]:
    """Make `own` the process's database for the block (the app, tasks, workers)."""
    db.configure_engine(own)
    try:
        yield own
    finally:
        db.configure_engine(default)


@contextmanager
def settings_env(**values: str | None) -> Iterator[None]:
    """Set environment variables (None: unset) and re-read the settings for the block."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def at_env(base_url: str, **extra: str | None) -> dict[str, str | None]:
    """Africa's Talking settings pointing the SDK at a stand-in."""
    return {
        "AT_USERNAME": "ajira-test",
        "AT_API_KEY": "atsk_test_only_not_a_real_key",
        "AT_SENDER_ID": "AJIRA",
        "AT_API_BASE_URL": base_url,
        **extra,
    }


def wait_for(check: Callable[[], Any], *, timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {timeout}s: {check}")
        time.sleep(every)


def row(engine: Engine, notification_id: int) -> Notification:
    """A fresh copy of one outbox row."""
    with arranging(Session(engine, expire_on_commit=False)) as session:
        found = session.get(Notification, notification_id)
        assert found is not None
        session.expunge(found)
        return found


def attempts(engine: Engine, notification_id: int) -> list[NotificationAttempt]:
    with arranging(Session(engine, expire_on_commit=False)) as session:
        return outbox.attempts_of(session, notification_id)


def rows_for(engine: Engine, user_id: int, kind: str | None = None) -> list[Notification]:
    with arranging(Session(engine, expire_on_commit=False)) as session:
        query = select(Notification).where(Notification.recipient_id == user_id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query.order_by(Notification.id)))


@contextmanager
def committed_team(engine: Engine) -> Iterator[Team]:
    """A team whose rows are committed (workers see them), removed afterwards."""
    with arranging(Session(engine, expire_on_commit=False)) as setup:
        team = Team(setup)
        leave.ensure_default_leave_types(setup, team.org)
        setup.commit()
    try:
        yield team
    finally:
        with arranging(Session(engine)) as cleanup:
            org_id = team.org.id
            cleanup.execute(delete(LeaveRequest).where(LeaveRequest.organization_id == org_id))
            cleanup.execute(delete(AuditEntry).where(AuditEntry.organization_id == org_id))
            cleanup.execute(delete(Organization).where(Organization.id == org_id))
            cleanup.commit()


def quiet_weekdays() -> tuple[date, date]:
    """A Monday and Tuesday a few weeks ahead, within one year and clear of the holidays."""
    start = date.today() + timedelta(days=14)
    if (start.month == 12 and start.day >= 10) or (start.month == 1 and start.day <= 10):
        start = date(start.year + (start.month == 12), 2, 1)
    start += timedelta(days=(7 - start.weekday()) % 7)
    return start, start + timedelta(days=1)


def _reset_producers() -> None:
    # The app keeps its broker connection pools; a new broker needs new ones.
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Send tasks through the broker at `url` (not in-process) for the block."""
    conf = celery_app.conf
    names = (
        "broker_url",
        "task_always_eager",
        "worker_hijack_root_logger",
        "broker_transport_options",
    )
    saved = {name: conf[name] for name in names}
    conf.broker_url = url
    conf.task_always_eager = False
    conf.worker_hijack_root_logger = False
    # The memory transport polls its queues; once a second by default.
    conf.broker_transport_options = {"polling_interval": 0.05}
    _reset_producers()
    try:
        yield
    finally:
        _reset_producers()
        conf.update(saved)


@contextmanager
def in_process_worker(*, concurrency: int = 2) -> Iterator[None]:
    """A real Celery worker in this process over the memory transport (threads pool)."""
    from celery.contrib.testing.worker import start_worker
    from celery.worker import state

    import channels.delivery  # noqa: F401  (registers the tasks before the worker starts)

    with (
        broker("memory://"),
        start_worker(
            celery_app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ),
    ):
        yield
        # The worker notices a stop between two polls of up to 2 s each, and polls once
        # more after it: two messages wake it at once (a built-in task that does nothing).
        state.should_terminate = 0
        for _ in range(2):
            celery_app.send_task("celery.accumulate")


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway `redis-server` on a free loopback port; its URL (see `tests.fakes.needs`
    for a machine without one)."""
    with redis_server_on(free_port()) as url:
        yield url


@contextmanager
def redis_server_on(port: int) -> Iterator[str]:
    """A `redis-server` on a given loopback port, with no persistence; its URL.

    For a Redis that stops and starts again at the same address (what a restart looks
    like to its clients): each start is empty, as after a crash without persistence.
    Skipped locally or failed under CI=true without the binary (`tests.fakes.needs`).
    """
    binary = redis_server_binary()
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory(prefix="ajira-redis-") as data:
        process = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = redis.Redis.from_url(url)

            def answers() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"redis-server could not start on port {port}")
                try:
                    return bool(client.ping())
                except redis.ConnectionError:
                    return False

            wait_for(answers, timeout=10)
            client.close()
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def ajira_worker(
    redis_url: str,
    engine: Engine,
    base_url: str,
    workdir: Path,
    name: str,
    *,
    retry_base: str = "0.3",
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`ajira worker` in a process group of its own, on `engine`'s database and the Africa's
    Talking stand-in at `base_url`; stopped warmly at the end unless it was killed before."""
    env = {
        **os.environ,
        **{k: v for k, v in at_env(base_url).items() if v is not None},
        "REDIS_URL": redis_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "AJIRA_OUTBOX_RETRY_BASE": retry_base,
        "AJIRA_DATA_DIR": str(workdir / "data"),
        "AJIRA_ENV": "test",
        **(extra_env or {}),
    }
    log_path = workdir / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # After a Redis restart at the same address, this process's pooled connections are
        # dead: publishing reconnects by itself, the control channel (ping) does not.
        kombu.pools.reset()
        with broker(redis_url):

            def ready() -> bool:
                if process.poll() is not None:
                    pytest.fail(log_path.read_text())
                return bool(celery_app.control.ping(timeout=0.3))

            wait_for(ready, timeout=30)
            yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish running tasks
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process)
        log.close()


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its pool processes at once: no task finishes, none is acked."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
