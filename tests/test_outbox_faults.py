"""Faults in the middle of delivery: nothing is lost that the provider never saw, and
nothing reaches a person twice.

A real `ajira worker` is killed (SIGKILL, its whole process group) while two SMS are in
Africa's Talking's hands, and Redis then restarts empty, taking every queued task with
it. Beat's sweep finds the rows again: the ones nobody started go out once; the ones whose
provider call was cut off are recorded as outcome unknown and never sent again.

An automation whose process dies half-way through its run (an error, or SIGKILL before
the commit) leaves nothing behind; run again for the same day it queues one message per
person, and once more it finds the day done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from channels.delivery import deliver, sweep
from hrcore.automations.models import AutomationRun
from hrcore.automations.service import run_one
from hrcore.db import unit_of_work
from hrcore.notifications import outbox
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.notifications.service import notify
from hrcore.people.models import Organization, User
from tests.factories import Team, arranging
from tests.fakes import africastalking_server as at
from tests.fakes.outbox_support import (
    ROOT,
    ajira_worker,
    at_env,
    attempts,
    broker,
    free_port,
    kill_group,
    redis_server_on,
    settings_env,
    wait_for,
)

RETRY_BASE = "0.3"
#: A Monday, a working day in Kenya.
MONDAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    outbox.skip_in_process_sweeps(3600)


pytestmark = [pytest.mark.team(committed=True), pytest.mark.one_committed_database]


# ------------------------------------------------------------------ a slow provider


Form = tuple[str, str]  # (to, message)


@dataclass
class SlowAfricasTalking(at.FakeAfricasTalking):
    """The stand-in, answering the first `prompt_calls` at once and later ones after
    `slow_s` seconds; it knows which requests it has answered."""

    prompt_calls: int = 0
    slow_s: float = 0.0
    answered: list[Form] = field(default_factory=list)
    calls: int = 0

    def _next(self, form: dict[str, str]) -> at.Answer:
        with self.lock:
            self.calls += 1
            pause = self.slow_s if self.calls > self.prompt_calls else 0.0
        time.sleep(pause)
        answer = super()._next(form)
        with self.lock:
            self.answered.append((form["to"], form["message"]))
        return answer

    def received(self) -> list[Form]:
        return [(r.form["to"], r.form["message"]) for r in self.sent()]

    def unanswered(self) -> Counter[Form]:
        with self.lock:
            answered = Counter(self.answered)
        return Counter(self.received()) - answered


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
        # A late answer to a worker that was killed meanwhile: nobody is listening.


@contextmanager
def slow_stand_in() -> Iterator[SlowAfricasTalking]:
    """`africastalking_server.running`, with the slow stand-in."""
    state = SlowAfricasTalking()
    server = _Server(("127.0.0.1", 0), at._handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/version1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ the outbox


def queue_for_everyone(engine: Engine, team: Team) -> dict[int, Form]:
    """Two SMS for each of the six people, committed together; each row's (to, message)."""
    expected: dict[int, Form] = {}
    with arranging(Session(engine, expire_on_commit=False)) as session:
        notes = []
        for user_id in (person.id for person in team.people()):
            user = session.get(User, user_id)
            assert user is not None
            assert user.phone is not None
            for subject in ("The staff meeting moves to 3 pm", "Payslips for November are out"):
                text = f"{subject}, {user.full_name}."
                notes.append((notify(session, user, kind="test.fault", text=text), user.phone))
        session.commit()  # twelve delivery tasks go to Redis
    for note, phone in notes:
        assert note.channel.value == "sms"
        expected[note.id] = (phone, note.text)
    return expected


def statuses(engine: Engine, organization_id: int) -> dict[int, Notification]:
    with arranging(Session(engine, expire_on_commit=False)) as session:
        return {
            note.id: note
            for note in session.scalars(
                select(Notification).where(Notification.organization_id == organization_id)
            )
        }


def later(engine: Engine, organization_id: int, *, by: timedelta, started_too: bool) -> None:
    """Move the organization's clock-sensitive columns back by `by`: the sweep then sees
    the rows as beat would `by` from now (due rows overdue, attempts running that long)."""
    with arranging(Session(engine)) as session:
        session.execute(
            update(Notification)
            .where(
                Notification.organization_id == organization_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(next_attempt_at=Notification.next_attempt_at - by)
        )
        if started_too:
            session.execute(
                update(NotificationAttempt)
                .where(
                    NotificationAttempt.organization_id == organization_id,
                    NotificationAttempt.finished_at.is_(None),
                )
                .values(started_at=NotificationAttempt.started_at - by)
            )
        session.commit()


def test_a_worker_killed_mid_send_and_an_empty_redis_send_each_message_at_most_once(
    committed_engine: Engine, team: Team, tmp_path: Path
) -> None:
    engine, org_id = committed_engine, team.org.id
    port = free_port()
    with (
        slow_stand_in() as provider,
        settings_env(**at_env(provider.base_url, AJIRA_OUTBOX_RETRY_BASE=RETRY_BASE)),
    ):
        # Four SMS go through at once; from the fifth on the provider takes 3 s to answer.
        provider.prompt_calls, provider.slow_s = 4, 3.0
        with (
            redis_server_on(port) as url,
            ajira_worker(url, engine, provider.base_url, tmp_path, "first") as first,
        ):
            expected = queue_for_everyone(engine, team)

            # Both pool processes are inside a provider call that has had no answer.
            def mid_send() -> Counter[Form] | None:
                cut = provider.unanswered()
                return cut if len(provider.answered) == 4 and cut.total() == 2 else None

            cut = wait_for(mid_send, timeout=20)
            kill_group(first)
            assert provider.unanswered() == cut  # their answers came after the kill
            assert len(provider.received()) == 6

        # What the dead worker left: four sent, the two cut off `sending`, six untouched.
        left = statuses(engine, org_id)
        by_status = Counter(note.status for note in left.values())
        assert by_status == {
            NotificationStatus.SENT: 4,
            NotificationStatus.SENDING: 2,
            NotificationStatus.PENDING: 6,
        }
        cut_ids = {i for i, note in left.items() if note.status is NotificationStatus.SENDING}
        assert Counter(expected[i] for i in cut_ids) == cut
        for note in left.values():
            if note.status is NotificationStatus.PENDING:
                assert note.attempts == 0

        # Redis comes back empty at the same address: the six queued tasks are gone.
        provider.slow_s = 0.0
        with redis_server_on(port) as url:
            # A minute later, beat's sweep queues the six overdue rows (through this
            # process's connections to the Redis that went away), and leaves the two
            # `sending` ones alone: a live worker may still be waiting on the provider.
            later(engine, org_id, by=outbox.SWEEP_GRACE * 2, started_too=False)
            with broker(url):
                assert sweep() == {"unknown": 0, "released": 0, "queued": 6}
            with ajira_worker(url, engine, provider.base_url, tmp_path, "second"):

                def six_more_sent() -> bool:
                    done = Counter(n.status for n in statuses(engine, org_id).values())
                    return done[NotificationStatus.SENT] == 10

                wait_for(six_more_sent, timeout=20)
                assert Counter(n.status for n in statuses(engine, org_id).values()) == {
                    NotificationStatus.SENT: 10,
                    NotificationStatus.SENDING: 2,
                }

                # Past `SENDING_TIMEOUT`, the sweep gives the two up as outcome unknown.
                later(
                    engine,
                    org_id,
                    by=outbox.SENDING_TIMEOUT + timedelta(minutes=1),
                    started_too=True,
                )
                assert sweep() == {"unknown": 2, "released": 0, "queued": 0}
                later(engine, org_id, by=outbox.SWEEP_GRACE * 2, started_too=True)
                assert sweep() == {"unknown": 0, "released": 0, "queued": 0}

                # A task for any row arriving again (a broker that kept its messages) finds
                # nothing to do.
                assert {deliver(i) for i in expected} == {"skipped"}

    final = statuses(engine, org_id)
    # Every row is final: ten sent by the provider's word, two failed as unknown.
    assert {i for i, n in final.items() if n.status is NotificationStatus.FAILED} == cut_ids
    assert {i for i, n in final.items() if n.status is NotificationStatus.SENT} == (
        set(expected) - cut_ids
    )
    # Each message reached the provider exactly once: none lost, none twice.
    assert Counter(provider.received()) == Counter(expected.values())
    assert max(Counter(provider.received()).values()) == 1
    # One attempt per row, and it says how the row ended.
    for note_id, note in final.items():
        tries = attempts(engine, note_id)
        assert note.attempts == 1
        assert [t.number for t in tries] == [1]
        (attempt,) = tries
        assert attempt.finished_at is not None
        if note_id in cut_ids:
            assert (attempt.outcome, attempt.error_code) == (
                AttemptOutcome.UNKNOWN,
                "outcome_unknown",
            )
            assert note.last_error is not None
            assert note.last_error.startswith("outcome_unknown")
            assert (note.sent_at, note.provider_message_id) == (None, None)
        else:
            assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.SENT, None)
            assert attempt.provider_message_id is not None
            assert attempt.provider_message_id == note.provider_message_id
            assert note.sent_at is not None


# ------------------------------------------------------------------ automations


class WorkerLost(Exception):
    """The process running the automation stops here, before its commit."""


#: A process that runs `midday_check` for MONDAY, says how many messages it queued, and
#: is killed before its commit.
_DIES_BEFORE_COMMIT = """
import os, signal, sys
from datetime import date
from hrcore.automations.service import run_one
from hrcore.db import unit_of_work
from hrcore.people.models import Organization

org_id, day = int(sys.argv[1]), date.fromisoformat(sys.argv[2])
with unit_of_work(org_id) as session:
    org = session.get(Organization, org_id)
    outcome = run_one(session, org, "midday_check", day, force_time=True)
    session.flush()
    print(outcome.status, outcome.sent, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def midday_check(organization_id: int, *, dies_with: int | None = None) -> str:
    """Run `midday_check` for MONDAY in a unit of work; with `dies_with`, check that the run
    queued that many messages, then fail before the commit."""
    with unit_of_work(organization_id) as session:
        org = session.get(Organization, organization_id)
        assert org is not None
        outcome = run_one(session, org, "midday_check", MONDAY, force_time=True)
        if dies_with is not None:
            assert (outcome.status, outcome.sent) == ("ran", dies_with)
            session.flush()
            raise WorkerLost
    return f"{outcome.status} {outcome.sent}"


def midday_rows(
    engine: Engine, organization_id: int
) -> tuple[list[Notification], list[AutomationRun]]:
    with arranging(Session(engine, expire_on_commit=False)) as session:
        notes = session.scalars(
            select(Notification)
            .where(
                Notification.organization_id == organization_id,
                Notification.kind == "midday_check",
            )
            .order_by(Notification.recipient_id)
        )
        runs = session.scalars(
            select(AutomationRun).where(AutomationRun.organization_id == organization_id)
        )
        return list(notes), list(runs)


@pytest.mark.usefixtures("inline_outbox")
def test_an_automation_that_dies_mid_run_then_runs_twice_sends_once(
    committed_engine: Engine, team: Team
) -> None:
    engine, org_id = committed_engine, team.org.id
    # Everyone who clocks in (all but the administrator) is asked at midday: nobody has.
    asked = sorted(p.id for p in team.people() if p is not team.admin)
    phones = {p.id: p.phone for p in team.people()}
    with at.running() as provider, settings_env(**at_env(provider.base_url)):
        # Dies after the run has queued its messages: an error before the commit.
        with pytest.raises(WorkerLost):
            midday_check(org_id, dies_with=len(asked))
        assert midday_rows(engine, org_id) == ([], [])

        # Killed outright in the same place, holding the day's run row.
        env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
        killed = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _DIES_BEFORE_COMMIT, str(org_id), MONDAY.isoformat()],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
        assert killed.stdout.decode().split() == ["ran", str(len(asked))]
        assert midday_rows(engine, org_id) == ([], [])
        assert provider.sent() == []

        # Run again, then once more: the day is done after the first.
        assert midday_check(org_id) == f"ran {len(asked)}"
        assert midday_check(org_id) == "already_done 0"

    notes, runs = midday_rows(engine, org_id)
    assert [n.recipient_id for n in notes] == asked
    assert [n.dedupe_key for n in notes] == [f"midday_check:{MONDAY}:{i}" for i in asked]
    assert {n.status for n in notes} == {NotificationStatus.SENT}
    assert [(r.name, r.day, r.sent, r.finished_at is not None) for r in runs] == [
        ("midday_check", MONDAY, len(asked), True)
    ]
    assert sorted((r.form["to"], r.form["message"]) for r in provider.sent()) == sorted(
        (phones[n.recipient_id], n.text) for n in notes
    )
