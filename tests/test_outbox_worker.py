"""A real Celery worker delivers the outbox: John's leave request reaches Mary once, and
Mary's decision reaches John once, even with the delivery task running twice at once.

Twice: in this process over the memory transport (any machine), and as `ajira worker`
against a real `redis-server` (skipped without one, failed under CI=true).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from channels.delivery import sweep
from hrcore import clock
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest
from hrcore.notifications import outbox
from hrcore.notifications.models import AttemptOutcome, Notification, NotificationStatus
from hrcore.notifications.service import notify
from hrcore.people.models import User
from hrcore.worker import enqueue_after_commit
from tests.factories import Team, arranging
from tests.fakes import africastalking_server as at
from tests.fakes.outbox_support import (
    ajira_worker,
    at_env,
    attempts,
    broker,
    free_port,
    in_process_worker,
    quiet_weekdays,
    redis_server,
    row,
    rows_for,
    settings_env,
    wait_for,
)

# Deliveries without a broker run in the committing thread here (see conftest).
pytestmark = [
    pytest.mark.usefixtures("inline_outbox"),
    pytest.mark.team(committed=True),
    pytest.mark.one_committed_database,
]

ROOT = Path(__file__).resolve().parents[1]
RETRY_BASE = "0.3"


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    outbox.skip_in_process_sweeps(3600)


@pytest.fixture
def stand_in() -> Iterator[at.FakeAfricasTalking]:
    with (
        at.running() as server,
        settings_env(**at_env(server.base_url, AJIRA_OUTBOX_RETRY_BASE=RETRY_BASE)),
    ):
        # The first call answers late, so a second run of the task overlaps it.
        server.delay_s = 0.2
        yield server


def _twice(session: Session, user: User, kind: str) -> None:
    """Queue the delivery task a second time for the row just written: both run at once."""
    session.flush()
    note = session.scalars(
        select(Notification).where(Notification.recipient_id == user.id, Notification.kind == kind)
    ).one()
    enqueue_after_commit(session, outbox.DeliverAfterCommit(note))


def _sent_once(engine: Engine, user: User, kind: str) -> Notification:
    def done() -> Notification | None:
        rows = rows_for(engine, user.id, kind)
        return rows[0] if rows and rows[0].status is NotificationStatus.SENT else None

    note: Notification = wait_for(done, timeout=20)
    assert len(rows_for(engine, user.id, kind)) == 1
    return note


def leave_round_trip(engine: Engine, team: Team, stand_in: at.FakeAfricasTalking) -> None:
    """John asks, Mary decides; each side gets exactly one SMS, whatever runs twice."""
    john, mary = team.employee, team.supervisor
    start, end = quiet_weekdays()
    with arranging(Session(engine, expire_on_commit=False)) as session:
        request = leave.request_leave(
            session,
            team.actor("employee"),
            leave_type="unpaid",
            start_date=start,
            end_date=end,
            reason="A family wedding",
        )
        _twice(session, mary, "leave.requested")
        session.commit()
    asked = _sent_once(engine, mary, "leave.requested")

    with arranging(Session(engine, expire_on_commit=False)) as session:
        leave.approve_leave(
            session, team.actor("supervisor"), request_id=request.id, decision="approve"
        )
        _twice(session, john, "leave.approved")
        session.commit()
    decided = _sent_once(engine, john, "leave.approved")

    assert [(r.form["to"], r.form["message"]) for r in stand_in.sent()] == [
        (mary.phone, asked.text),
        (john.phone, decided.text),
    ]
    assert "#" in asked.text
    assert asked.text.startswith(john.full_name)
    for note in (asked, decided):
        assert note.attempts == 1
        assert note.provider_message_id is not None
    with arranging(Session(engine)) as session:
        assert session.get(LeaveRequest, request.id) is not None


def retry_then_delivered(engine: Engine, team: Team, stand_in: at.FakeAfricasTalking) -> None:
    """The stand-in answers 503, then 201: one delivery, after a retry, two attempts."""
    before = len(stand_in.sent())
    stand_in.answer(at.UNAVAILABLE)
    with arranging(Session(engine, expire_on_commit=False)) as session:
        mary = session.get(User, team.supervisor.id)
        assert mary is not None
        note = notify(session, mary, kind="test.retry", text="Payslips are out.")
        session.commit()
    wait_for(lambda: row(engine, note.id).status is NotificationStatus.SENT, timeout=20)
    assert len(stand_in.sent()) - before == 2
    assert [(a.number, a.outcome, a.error_code) for a in attempts(engine, note.id)] == [
        (1, AttemptOutcome.RETRY, "http_503"),
        (2, AttemptOutcome.SENT, None),
    ]


def test_an_in_process_worker_delivers_each_message_once(
    committed_engine: Engine,
    stand_in: at.FakeAfricasTalking,
    team: Team,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ajira.outbox")
    with in_process_worker(concurrency=2):
        leave_round_trip(committed_engine, team, stand_in)
        # The second run of each task did happen, and found its row taken.
        wait_for(lambda: len(_skips(caplog)) == 2)
        retry_then_delivered(committed_engine, team, stand_in)
    asked, decided = (
        rows_for(committed_engine, user.id, kind)[0].id
        for user, kind in (
            (team.supervisor, "leave.requested"),
            (team.employee, "leave.approved"),
        )
    )
    assert sorted(_skips(caplog)) == sorted([asked, decided])


def _skips(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        int(record.args[0])  # type: ignore[index]
        for record in caplog.records
        if record.msg == "outbox_skipped notification=%s"
    ]


def test_ajira_worker_over_redis_delivers_each_message_once(
    committed_engine: Engine,
    stand_in: at.FakeAfricasTalking,
    team: Team,
    tmp_path: Path,
) -> None:
    with (
        redis_server() as url,
        ajira_worker(
            url, committed_engine, stand_in.base_url, tmp_path, "worker", retry_base=RETRY_BASE
        ),
    ):
        leave_round_trip(committed_engine, team, stand_in)
        retry_then_delivered(committed_engine, team, stand_in)


def test_a_notification_committed_while_redis_is_down_is_kept_and_swept_later(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # no Redis there
    with broker(url), arranging(Session(committed_engine, expire_on_commit=False)) as session:
        mary = session.get(User, team.supervisor.id)
        assert mary is not None
        note = notify(session, mary, kind="test.outage", text="Payroll is ready.")
        started = time.monotonic()
        session.commit()  # publishing fails after the commit: logged, never raised
        assert time.monotonic() - started < 10
    waiting = row(committed_engine, note.id)
    assert (waiting.status, waiting.attempts) == (NotificationStatus.PENDING, 0)
    assert stand_in.sent() == []
    # A minute later, beat's sweep finds it due with nobody working on it.
    with arranging(Session(committed_engine)) as session:
        session.execute(
            update(Notification)
            .where(Notification.id == note.id)
            .values(next_attempt_at=clock.now() - outbox.SWEEP_GRACE * 2)
        )
        session.commit()
    assert sweep()["queued"] == 1
    assert row(committed_engine, note.id).status is NotificationStatus.SENT
    assert len(stand_in.sent()) == 1
