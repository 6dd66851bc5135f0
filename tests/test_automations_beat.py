"""Celery beat and a worker over a real Redis run the day's automations, each exactly once.

`ajira beat` ticks every second here (five minutes in production) and `ajira worker` runs
the ticks with the clock frozen at a Monday 12:05 in Nairobi, so the late digest, the
midday check and the mood invitation are all due; many ticks later every person still
has exactly one of each, and the SMS stand-in received each message once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as time_module
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hrcore.automations.models import AutomationRun
from hrcore.notifications import outbox
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.worker import celery_app
from tests.factories import Team, arranging
from tests.fakes import africastalking_server as at
from tests.fakes.outbox_support import (
    at_env,
    broker,
    committed_database,
    committed_team,
    quiet_weekdays,
    redis_server,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[1]
#: The automations due by 12:05 on a Monday with default settings and nobody clocked in.
DUE = ("late_digest", "low_balance", "approval_reminder", "mood_invitation", "midday_check")


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    outbox.skip_in_process_sweeps(3600)


@pytest.fixture
def committed_engine(engine: Engine) -> Iterator[Engine]:
    with committed_database(engine) as own:
        yield own


@contextmanager
def frozen_command(
    command: list[str], at_utc: datetime, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("wb")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.fakes.frozen_celery", at_utc.isoformat(), "1", *command],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()


def test_beat_and_a_worker_over_redis_run_each_automation_once_a_day(
    committed_engine: Engine, tmp_path: Path
) -> None:
    monday, _ = quiet_weekdays()
    noon_past = datetime.combine(monday, time(12, 5), UTC) - timedelta(hours=3)  # Nairobi
    with ExitStack() as stack:
        team: Team = stack.enter_context(committed_team(committed_engine))
        stand_in = stack.enter_context(at.running())
        url = stack.enter_context(redis_server())
        env = {
            **os.environ,
            **{k: v for k, v in at_env(stand_in.base_url).items() if v is not None},
            "REDIS_URL": url,
            "DATABASE_URL": committed_engine.url.render_as_string(hide_password=False),
            "AJIRA_DATA_DIR": str(tmp_path / "data"),
            "AJIRA_ENV": "test",
        }
        worker = ["worker", "--concurrency", "2", "--loglevel", "WARNING"]
        stack.enter_context(frozen_command(worker, noon_past, env, tmp_path / "worker.log"))
        stack.enter_context(broker(url))
        wait_for(lambda: bool(celery_app.control.ping(timeout=0.3)), timeout=40)
        beat = ["beat", "--loglevel", "WARNING"]
        stack.enter_context(frozen_command(beat, noon_past, env, tmp_path / "beat.log"))

        def runs() -> dict[str, AutomationRun]:
            with arranging(Session(committed_engine)) as s:
                rows = s.scalars(
                    select(AutomationRun).where(AutomationRun.organization_id == team.org.id)
                )
                return {r.name: r for r in rows if r.finished_at is not None}

        def delivered() -> list[Notification]:
            with arranging(Session(committed_engine)) as s:
                notes = list(
                    s.scalars(
                        select(Notification)
                        .where(Notification.organization_id == team.org.id)
                        .order_by(Notification.id)
                    )
                )
            return notes if all(n.status is NotificationStatus.SENT for n in notes) else []

        def log_tail() -> str:
            return "\n".join(
                (tmp_path / name).read_text()[-3000:] for name in ("worker.log", "beat.log")
            )

        try:
            wait_for(lambda: set(DUE) <= set(runs()), timeout=60, every=0.5)
            first = wait_for(delivered, timeout=30, every=0.2)
        except pytest.fail.Exception:
            pytest.fail(log_tail())
        # Beat goes on ticking every second: nothing new may be queued or sent.
        sent_then = len(stand_in.sent())
        time_module.sleep(4)
        notes = delivered()
        assert [n.id for n in notes] == [n.id for n in first]
        assert len(stand_in.sent()) == sent_then
        assert {name: run.sent for name, run in runs().items()}["midday_check"] > 0

    kinds = Counter((n.recipient_id, n.kind) for n in notes)
    assert set(kinds.values()) == {1}, kinds
    staff = [p for p in team.people() if p is not team.admin]
    assert {p.id for p in staff} <= {r for r, k in kinds if k == "midday_check"}
    assert {r for r, k in kinds if k == "late_digest"} >= {team.supervisor.id}
    assert {(r.form["to"], r.form["message"]) for r in stand_in.sent()} == {
        (next(p.phone for p in team.people() if p.id == n.recipient_id), n.text) for n in notes
    }
    assert len(stand_in.sent()) == len(notes)
