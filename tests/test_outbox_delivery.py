"""Delivering one outbox row by SMS: through the SDK to a stand-in, once, retried when it may pass.

These run the delivery itself (`channels.delivery.deliver`) against a database where
commits are real, without a broker: retries then run on in-process timers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from channels.africastalking import sms_send
from channels.delivery import deliver, sweep
from hrcore import clock
from hrcore.actor import Channel
from hrcore.notifications import outbox
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.notifications.service import notify
from hrcore.people.models import User
from tests.factories import Team, arranging
from tests.fakes import africastalking_server as at
from tests.fakes.outbox_support import (
    at_env,
    attempts,
    row,
    settings_env,
    wait_for,
)

# Deliveries without a broker run in the committing thread here (see conftest).
pytestmark = [
    pytest.mark.usefixtures("inline_outbox"),
    pytest.mark.team(committed=True),
    pytest.mark.one_committed_database,
]

TEXT = "Person 4 asked for Unpaid leave 7 Dec 2026 to 8 Dec 2026. Request #12."


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    # The in-process sweep would also deliver; these tests count every provider call.
    outbox.skip_in_process_sweeps(3600)


@pytest.fixture
def stand_in() -> Iterator[at.FakeAfricasTalking]:
    with (
        at.running() as server,
        settings_env(**at_env(server.base_url, AJIRA_OUTBOX_RETRY_BASE="0.2")),
    ):
        yield server


def queued(engine: Engine, user: User, text: str = TEXT, channel: Channel = Channel.SMS) -> int:
    """An outbox row that is due, committed without queuing a task for it."""
    with arranging(Session(engine)) as session:
        notification = Notification(
            organization_id=user.organization_id,
            recipient_id=user.id,
            channel=channel,
            kind="leave.requested",
            text=text,
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=clock.now(),
        )
        session.add(notification)
        session.commit()
        return notification.id


def outcomes(engine: Engine, notification_id: int) -> list[tuple[int, AttemptOutcome, str | None]]:
    return [(a.number, a.outcome, a.error_code) for a in attempts(engine, notification_id)]


def test_an_sms_goes_through_the_sdk_to_the_stand_in_once(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    mary = team.supervisor
    nid = queued(committed_engine, mary)

    assert deliver(nid) == "sent"

    (request,) = stand_in.sent()
    assert request.path == "/version1/messaging"
    assert request.api_key == "atsk_test_only_not_a_real_key"
    assert request.form == {
        "username": "ajira-test",
        "to": mary.phone,
        "message": TEXT,
        "from": "AJIRA",
        "bulkSMSMode": "1",
    }
    sent = row(committed_engine, nid)
    assert sent.status is NotificationStatus.SENT
    assert sent.provider_message_id is not None
    assert sent.provider_message_id.startswith("ATXid_")
    assert (sent.attempts, sent.last_error, sent.next_attempt_at) == (1, None, None)
    assert sent.sent_at is not None
    (attempt,) = attempts(committed_engine, nid)
    assert (attempt.number, attempt.outcome, attempt.provider_message_id) == (
        1,
        AttemptOutcome.SENT,
        sent.provider_message_id,
    )
    assert attempt.finished_at is not None
    # Done rows are never sent again, whoever asks.
    assert deliver(nid) == "skipped"
    assert sweep()["queued"] == 0
    assert len(stand_in.sent()) == 1


def test_two_runs_at_once_send_one_message(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    nid = queued(committed_engine, team.supervisor)
    stand_in.delay_s = 0.3  # the first run is still waiting on the provider
    start = threading.Barrier(2)

    def run(_: int) -> str:
        start.wait(5)
        return deliver(nid)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(run, range(2)))

    assert results == ["sent", "skipped"]
    assert len(stand_in.sent()) == 1
    assert row(committed_engine, nid).attempts == 1


def test_a_row_another_worker_holds_is_skipped_without_waiting(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    nid = queued(committed_engine, team.supervisor)
    with arranging(Session(committed_engine)) as other_worker:
        other_worker.execute(
            select(Notification).where(Notification.id == nid).with_for_update()
        ).all()
        started = time.monotonic()
        assert deliver(nid) == "skipped"
        assert time.monotonic() - started < 2  # SKIP LOCKED: no queue behind the lock
        other_worker.rollback()
    assert deliver(nid) == "sent"
    assert len(stand_in.sent()) == 1


def test_a_503_is_retried_with_backoff_and_delivered_once(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    stand_in.answer(at.UNAVAILABLE)
    nid = queued(committed_engine, team.supervisor)
    before = clock.now()

    assert deliver(nid) == "retry"

    waiting = row(committed_engine, nid)
    assert waiting.status is NotificationStatus.PENDING
    assert waiting.attempts == 1
    assert waiting.last_error is not None
    assert waiting.last_error.startswith("http_503")
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at >= before + timedelta(seconds=0.2)
    # Without a broker the retry runs on an in-process timer, base delay 0.2 s here.
    wait_for(lambda: row(committed_engine, nid).status is NotificationStatus.SENT)
    assert len(stand_in.sent()) == 2
    assert outcomes(committed_engine, nid) == [
        (1, AttemptOutcome.RETRY, "http_503"),
        (2, AttemptOutcome.SENT, None),
    ]


def test_retries_are_bounded(committed_engine: Engine, team: Team) -> None:
    with (
        at.running() as server,
        settings_env(
            **at_env(
                server.base_url,
                AJIRA_OUTBOX_RETRY_BASE="0.05",
                AJIRA_OUTBOX_MAX_ATTEMPTS="3",
            )
        ),
    ):
        server.answer(at.UNAVAILABLE, at.UNAVAILABLE, at.UNAVAILABLE, at.UNAVAILABLE)
        nid = queued(committed_engine, team.supervisor)
        deliver(nid)
        wait_for(lambda: row(committed_engine, nid).status is NotificationStatus.FAILED)
        assert len(server.sent()) == 3
    assert outcomes(committed_engine, nid) == [
        (1, AttemptOutcome.RETRY, "http_503"),
        (2, AttemptOutcome.RETRY, "http_503"),
        (3, AttemptOutcome.FAILED, "http_503"),
    ]


def test_no_connection_is_retried(committed_engine: Engine, team: Team) -> None:
    with at.running() as server:
        closed = server.base_url  # nothing listens here once the block ends
    with settings_env(**at_env(closed, AJIRA_OUTBOX_MAX_ATTEMPTS="1")):
        nid = queued(committed_engine, team.supervisor)
        assert deliver(nid) == "failed"  # one attempt allowed: retryable, but out of tries
    assert outcomes(committed_engine, nid) == [(1, AttemptOutcome.FAILED, "connection_failed")]


def test_a_send_with_no_answer_after_it_left_is_never_sent_again(
    committed_engine: Engine,
    stand_in: at.FakeAfricasTalking,
    team: Team,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The request reached the provider, which is slower than our read timeout: it may have
    # sent the SMS, so a retry could make two. The row fails as "unknown" instead.
    monkeypatch.setattr(sms_send, "TIMEOUT", (3.05, 0.3))
    stand_in.delay_s = 1.0
    nid = queued(committed_engine, team.supervisor)

    assert deliver(nid) == "unknown"

    given_up = row(committed_engine, nid)
    assert given_up.status is NotificationStatus.FAILED
    assert given_up.last_error is not None
    assert given_up.last_error.startswith("outcome_unknown")
    assert given_up.next_attempt_at is None
    assert outcomes(committed_engine, nid) == [(1, AttemptOutcome.UNKNOWN, "outcome_unknown")]
    wait_for(lambda: len(stand_in.sent()) == 1, timeout=5)  # the provider did take it
    sweep()
    time.sleep(0.4)  # twice the retry delay: nothing comes back
    assert deliver(nid) == "skipped"
    assert len(stand_in.sent()) == 1


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (at.BAD_KEY, "auth_failed"),
        (at.refused_recipient("+254711000001"), "InvalidPhoneNumber"),
        (
            at.Answer(201, '{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}'),
            "InvalidSenderId",
        ),
        (at.Answer(400, "Bad request", "text/plain"), "http_400"),
    ],
    ids=["401-bad-key", "403-invalid-number", "invalid-sender-id", "400"],
)
def test_a_refusal_fails_for_good_without_a_retry(
    committed_engine: Engine,
    stand_in: at.FakeAfricasTalking,
    team: Team,
    answer: at.Answer,
    code: str,
) -> None:
    stand_in.answer(answer)
    nid = queued(committed_engine, team.supervisor)

    assert deliver(nid) == "failed"

    failed = row(committed_engine, nid)
    assert failed.status is NotificationStatus.FAILED
    assert failed.last_error is not None
    assert failed.last_error.startswith(code)
    assert failed.next_attempt_at is None
    assert outcomes(committed_engine, nid) == [(1, AttemptOutcome.FAILED, code)]
    time.sleep(0.4)  # twice the retry delay: nothing comes back
    assert deliver(nid) == "skipped"
    assert len(stand_in.sent()) == 1


def test_without_credentials_sms_is_kept_then_sent_once_configured(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    with settings_env(AT_USERNAME=None, AT_API_KEY=None):
        nid = queued(committed_engine, team.supervisor)
        assert deliver(nid) == "held"
        held = row(committed_engine, nid)
        assert (held.status, held.attempts, held.next_attempt_at) == (
            NotificationStatus.PENDING,
            0,
            None,
        )
        assert held.last_error is not None
        assert held.last_error.startswith("not_configured")
        assert deliver(nid) == "skipped"
        assert sweep()["released"] == 0
    assert stand_in.sent() == []

    assert sweep()["released"] == 1

    assert row(committed_engine, nid).status is NotificationStatus.SENT
    assert len(stand_in.sent()) == 1


def test_an_attempt_whose_worker_died_is_given_up_not_sent_twice(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    nid = queued(committed_engine, team.supervisor)
    with arranging(Session(committed_engine)) as crashed:
        notification = crashed.get(Notification, nid)
        assert notification is not None
        outbox.start_attempt(crashed, notification)
        crashed.commit()
        attempt = crashed.scalar(
            select(NotificationAttempt).where(NotificationAttempt.notification_id == nid)
        )
        assert attempt is not None
        attempt.started_at = clock.now() - outbox.SENDING_TIMEOUT - timedelta(minutes=1)
        crashed.commit()
    # A redelivered task finds it `sending` and leaves it alone.
    assert deliver(nid) == "skipped"

    assert sweep()["unknown"] == 1

    given_up = row(committed_engine, nid)
    assert given_up.status is NotificationStatus.FAILED
    assert given_up.last_error is not None
    assert given_up.last_error.startswith("outcome_unknown")
    assert outcomes(committed_engine, nid) == [(1, AttemptOutcome.UNKNOWN, "outcome_unknown")]
    assert stand_in.sent() == []


def test_without_a_broker_notify_delivers_right_after_the_commit(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    with arranging(Session(committed_engine, expire_on_commit=False)) as session:
        mary = session.get(User, team.supervisor.id)
        assert mary is not None
        by_sms = notify(session, mary, kind="leave.requested", text=TEXT)
        # A USSD user hears back by SMS: a USSD session cannot be reopened from our side.
        by_ussd = notify(session, mary, kind="test.ussd", text="From USSD", channel=Channel.USSD)
        in_app = notify(session, mary, kind="test.web", text="In the app", channel=Channel.WEB)
        assert stand_in.sent() == []  # nothing leaves before the commit
        session.commit()
        ids = (by_sms.id, by_ussd.id, in_app.id)

    assert [r.form["message"] for r in stand_in.sent()] == [TEXT, "From USSD"]
    assert [row(committed_engine, i).status for i in ids] == [
        NotificationStatus.SENT,
        NotificationStatus.SENT,
        NotificationStatus.DELIVERED,
    ]
    assert row(committed_engine, ids[1]).channel is Channel.SMS
    web = row(committed_engine, ids[2])
    assert web.delivered_at is not None
    assert outcomes(committed_engine, ids[2]) == [(1, AttemptOutcome.DELIVERED, None)]


def test_a_rolled_back_notification_is_never_sent(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    with arranging(Session(committed_engine)) as session:
        mary = session.get(User, team.supervisor.id)
        assert mary is not None
        notify(session, mary, kind="leave.requested", text=TEXT)
        session.flush()
        session.rollback()
    assert stand_in.sent() == []


def test_someone_who_left_is_not_messaged(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    with arranging(Session(committed_engine)) as session:
        leaver = session.get(User, team.teammate.id)
        assert leaver is not None
        leaver.is_active = False
        session.commit()
    nid = queued(committed_engine, team.teammate)

    assert deliver(nid) == "failed"

    assert row(committed_engine, nid).last_error == "no_recipient"
    assert stand_in.sent() == []


def test_without_a_broker_a_slow_provider_does_not_hold_the_commit(
    committed_engine: Engine, stand_in: at.FakeAfricasTalking, team: Team
) -> None:
    # What a request or a USSD screen sees: the commit returns before the provider answers.
    outbox.run_inline(False)
    stand_in.delay_s = 1.0
    with arranging(Session(committed_engine, expire_on_commit=False)) as session:
        mary = session.get(User, team.supervisor.id)
        assert mary is not None
        note = notify(session, mary, kind="leave.requested", text=TEXT)
        started = time.monotonic()
        session.commit()
        committed_in = time.monotonic() - started
    assert committed_in < 0.5
    outbox.drain(timeout=10)
    assert [r.form["message"] for r in stand_in.sent()] == [TEXT]
    assert row(committed_engine, note.id).status is NotificationStatus.SENT
