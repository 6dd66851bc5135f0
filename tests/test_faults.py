"""Faults in the middle of real traffic: nothing acknowledged is lost or done twice.

One `ajira serve` process runs for the module in front of a PostgreSQL, a Redis, an
OpenAI-compatible model and Africa's Talking, each a loopback stand-in this module can
break: PostgreSQL is stopped and started under a rush of clock-ins, Redis goes away while
people act, the model times out or answers garbage. The API process is never restarted;
its clients do only what a well-behaved client does: wait `Retry-After`, then send the
same request with the same `Idempotency-Key`.

A worker killed mid-ingest leaves the document to be ingested again, once. (A worker
killed mid-delivery, and an automation killed mid-run: tests/test_outbox_faults.py.)

Each scenario also notes its figures (recovery time, the slowest answer, what was counted
exactly once); with AJIRA_FAULT_FIGURES set they are written there as JSON, which
`bench/faults.py` turns into rows of the results table.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from assistant.service import UNREACHABLE
from hrcore.attendance.models import AttendanceRecord
from hrcore.documents.models import DocumentStatus, PolicyChunk, PolicyDocument
from hrcore.idempotency import IdempotencyKey
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.payroll.models import PayrollRun
from hrcore.people.models import User
from hrcore.wellness.models import IssueReport
from hrcore.worker import celery_app
from tests.fakes import openai_server
from tests.fakes.faults_support import (
    LLM_TIMEOUT_S,
    PASSWORD,
    REQUEST_TIMEOUT_S,
    TOOLS,
    Person,
    Stack,
    chat,
    running_stack,
)
from tests.fakes.needs import REDIS_HINT, unavailable
from tests.fakes.outbox_support import ajira_worker, broker, kill_group, using, wait_for

CLIENTS = 10
ROUNDS = 3
#: Where the scenarios' figures go (bench/faults.py sets it); unset, they are only asserted.
FIGURES_ENV = "AJIRA_FAULT_FIGURES"
FIGURES: dict[str, float] = {}
#: With Redis gone a request still answers within this (a publish is given up on quickly).
REDIS_DOWN_BOUND_S = 8.0


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    FIGURES.clear()
    yield
    target = os.environ.get(FIGURES_ENV)
    if target:
        Path(target).write_text(json.dumps(FIGURES, indent=2) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ the stack


def said(result: dict[str, Any] | None) -> str:
    """The stand-in model's words after a tool ran (or failed)."""
    if result is None:
        return "Nothing happened."
    if "error" in result:
        return f"Sorry: {result['error']['message']}"
    return f"Done: {result['summary']}"


SCRIPT = {
    "clock me in": openai_server.Step("clock_in", {}, said),
    "hello": openai_server.Step(reply=lambda result: "Hello! How can I help?"),
    # A model's broken outputs: arguments that are not JSON, or not an object; nothing
    # said and nothing done; a tool nobody has; a tool this person's role does not have.
    "clock me in, garbled": openai_server.Step("clock_in", raw_args='{"note": "at the gate'),
    "clock me in, listed": openai_server.Step("clock_in", raw_args='["at the gate"]'),
    "clock me in, quietly": openai_server.Step(reply=lambda result: ""),
    "fire everyone": openai_server.Step("fire_everyone", {"confirm": True}, said),
    "run the payroll": openai_server.Step("run_payroll", {"month": "2026-11"}, said),
}


@pytest.fixture(scope="module")
def stack(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # After `engine`: the suite's own database chose pgserver's lock directory.
    with running_stack(tmp_path_factory.mktemp("faults"), SCRIPT, clients=CLIENTS) as stack:
        yield stack


# ------------------------------------------------------------------ PostgreSQL restarted


@dataclass
class Answer:
    """One response a client got (status 0: no response at all)."""

    status: int
    seconds: float
    at: float = field(default_factory=time.monotonic)
    code: str | None = None
    retry_after: str | None = None
    content_type: str | None = None
    replayed: bool = False
    error: str | None = None


@dataclass
class Action:
    """One thing a person asked for, under one Idempotency-Key, and every answer to it."""

    person: Person
    tool: str
    body: dict[str, Any]
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    answers: list[Answer] = field(default_factory=list)
    result: dict[str, Any] | None = None

    @property
    def acknowledged(self) -> bool:
        return self.result is not None


def _perform(http: httpx.Client, action: Action, deadline: float) -> None:
    """Send `action` until it is acknowledged, as a careful client would."""
    headers = {**action.person.auth, "Idempotency-Key": action.key}
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            response = http.post(f"{TOOLS}/{action.tool}", json=action.body, headers=headers)
        except httpx.TransportError as exc:
            # No answer in time (a hang) or a dropped connection: recorded, then retried.
            action.answers.append(Answer(0, time.monotonic() - started, error=type(exc).__name__))
            continue
        is_problem = response.headers.get("content-type") == "application/problem+json"
        answer = Answer(
            response.status_code,
            time.monotonic() - started,
            code=response.json().get("code") if is_problem else None,
            retry_after=response.headers.get("retry-after"),
            content_type=response.headers.get("content-type"),
            replayed=response.headers.get("idempotent-replayed") == "true",
        )
        action.answers.append(answer)
        if response.status_code == 200:
            action.result = response.json()
            return
        if response.status_code != 503:
            return  # anything else is not worth retrying: the test fails on it
        time.sleep(float(answer.retry_after or 1))


def _rush(stack: Stack, person: Person, index: int, actions: list[Action]) -> None:
    """One person's morning: clock in, report a dripping tap, clock out; `ROUNDS` times."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=stack.base, timeout=REQUEST_TIMEOUT_S) as http:
        for round_ in range(ROUNDS):
            for tool, body in (
                ("clock_in", {"note": f"round {round_}"}),
                ("report_issue", {"category": "facilities", "text": f"Tap {index}.{round_}"}),
                ("clock_out", {}),
            ):
                action = Action(person, tool, body)
                actions.append(action)
                _perform(http, action, deadline)
                if not action.acknowledged:
                    return
                time.sleep(0.05)


def test_postgres_restarted_during_a_rush_loses_and_doubles_nothing(stack: Stack) -> None:
    # The conversation memory's own pool holds connections to the server about to go.
    hello = chat(stack, stack.hr, "hello", "rush")
    assert hello.status_code == 200, hello.text
    people = stack.employees
    actions: list[Action] = []
    lanes = [
        threading.Thread(target=_rush, args=(stack, person, i, actions), daemon=True)
        for i, person in enumerate(people)
    ]
    total = len(people) * ROUNDS * 3

    def acknowledged() -> int:
        return sum(a.acknowledged for a in list(actions))

    for lane in lanes:
        lane.start()
    # An orderly restart (every session ended at once), then a crash (no shutdown at all).
    outages = []
    back_at: list[float] = []
    for share, mode in ((0.2, "fast"), (0.55, "immediate")):
        wait_for(lambda: acknowledged() >= total * share, timeout=60)  # noqa: B023 - waited here
        before = acknowledged()
        stack.postgres.stop(mode)
        time.sleep(2)
        stack.postgres.start()
        back_at.append(time.monotonic())
        outages.append((mode, before))
    for lane in lanes:
        lane.join(timeout=150)
        assert not lane.is_alive(), "a client never finished"

    answers = [answer for action in actions for answer in action.answers]
    statuses = Counter(answer.status for answer in answers)
    # Every action was acknowledged in the end, and nothing was ever a 500 or no answer.
    assert all(action.acknowledged for action in actions), [
        (a.tool, [(x.status, x.code, x.error) for x in a.answers])
        for a in actions
        if not a.acknowledged
    ]
    assert len(actions) == total
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] >= 2, f"the outages {outages} were never seen: {statuses}"
    assert max(answer.seconds for answer in answers) < REQUEST_TIMEOUT_S
    for answer in answers:
        if answer.status == 503:
            assert answer.content_type == "application/problem+json"
            assert answer.code == "database_unavailable"
            assert answer.retry_after is not None
            assert int(answer.retry_after) > 0

    # Service again without a restart: the first 200 after each return of the database.
    recoveries = [
        min(a.at for a in answers if a.status == 200 and a.at > back) - back for back in back_at
    ]
    FIGURES.update(
        postgres_actions=len(actions),
        postgres_answers=len(answers),
        postgres_503=statuses[503],
        postgres_slowest_s=max(answer.seconds for answer in answers),
        postgres_recovery_s=max(recoveries),
        postgres_bound_s=REQUEST_TIMEOUT_S,
    )

    # The database holds each acknowledged action exactly once.
    with Session(stack.engine) as session:
        for person in people:
            mine = [a for a in actions if a.person is person]
            records = session.scalars(
                select(AttendanceRecord)
                .where(AttendanceRecord.employee_id == person.user_id)
                .order_by(AttendanceRecord.clock_in_at)
            ).all()
            clocked_in = [a.result["record_id"] for a in mine if a.tool == "clock_in" and a.result]
            assert [r.id for r in records] == clocked_in
            assert [r.note for r in records] == [f"round {n}" for n in range(ROUNDS)]
            assert all(r.clock_out_at is not None for r in records)
            keys = session.scalars(
                select(IdempotencyKey).where(IdempotencyKey.user_id == person.user_id)
            ).all()
            assert sorted(k.key for k in keys) == sorted(a.key for a in mine)
            assert {k.status_code for k in keys} == {200}
        reports = Counter(
            session.scalars(
                select(IssueReport.text).where(
                    IssueReport.organization_id == stack.organization_id,
                    IssueReport.text.like("Tap %"),
                )
            )
        )
        asked = Counter(a.body["text"] for a in actions if a.tool == "report_issue")
        assert reports == asked
        assert set(reports.values()) == {1}
    FIGURES["postgres_held_once"] = len(actions)

    # It serves as before, without a restart of its own: the REST tools, and the first
    # chat turn through the memory's pool, which lost every connection it had.
    again = chat(stack, stack.hr, "hello", "rush")
    assert again.status_code == 200, again.text
    assert again.json()["reply"] == "Hello! How can I help?"
    stack.assert_healthy()


# ------------------------------------------------------------------ the model misbehaving


def _records(stack: Stack, person: Person) -> int:
    with Session(stack.engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AttendanceRecord)
                .where(AttendanceRecord.employee_id == person.user_id)
            )
            or 0
        )


def _open_shifts(stack: Stack, person: Person) -> int:
    with Session(stack.engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AttendanceRecord)
                .where(
                    AttendanceRecord.employee_id == person.user_id,
                    AttendanceRecord.clock_out_at.is_(None),
                )
            )
            or 0
        )


#: (what the model does, what the person says): the model unreachable or incoherent.
UNUSABLE = {
    "too slow": ("slow", "clock me in"),
    "a 500": ("500", "clock me in"),
    "a body that is not JSON": ("not_json", "clock me in"),
    "no choices": ("no_choices", "clock me in"),
    "arguments that are not JSON": ("ok", "clock me in, garbled"),
    "arguments that are not an object": ("ok", "clock me in, listed"),
    "an empty answer": ("ok", "clock me in, quietly"),
}


@pytest.mark.parametrize("case", UNUSABLE)
def test_a_model_that_times_out_or_talks_garbage_does_nothing_and_the_next_turn_works(
    stack: Stack, case: str
) -> None:
    mode, message = UNUSABLE[case]
    person = stack.employees[list(UNUSABLE).index(case)]
    conversation = f"garbage-{list(UNUSABLE).index(case)}"
    stack.llm.mode, stack.llm.delay_s = mode, LLM_TIMEOUT_S * 3
    refused_before = len(stack.llm.refused)
    before = _records(stack, person)
    try:
        started = time.monotonic()
        answer = chat(stack, person, message, conversation)
        took = time.monotonic() - started
    finally:
        stack.llm.mode = "ok"

    # A clear answer, in bounded time (the client's timeout and its one retry), and the
    # tool never ran on what the model sent.
    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"] == UNREACHABLE["en"]
    assert answer.json()["pending_confirmation"] is None
    # Far below a hang: the default wait for a model is 30 s.
    assert took < LLM_TIMEOUT_S * 2 + 8
    assert _records(stack, person) == before

    # The conversation is not corrupted: the same message works once the model does,
    # and what goes to the model is a conversation OpenAI accepts.
    stack.llm.requests.clear()
    retried = chat(stack, person, "clock me in", conversation)
    assert retried.status_code == 200, retried.text
    assert retried.json()["reply"].startswith("Done: Clocked in"), retried.json()
    assert stack.llm.refused[refused_before:] == []
    assert _records(stack, person) == before + 1
    assert _open_shifts(stack, person) == 1
    FIGURES["model_slowest_s"] = max(FIGURES.get("model_slowest_s", 0.0), took)
    FIGURES["model_cases"] = FIGURES.get("model_cases", 0) + 1
    FIGURES["model_bound_s"] = LLM_TIMEOUT_S * 2 + 8
    out = httpx.post(f"{stack.base}{TOOLS}/clock_out", json={}, headers=person.auth, timeout=10)
    assert out.status_code == 200, out.text
    stack.assert_healthy()


@pytest.mark.parametrize("message", ["fire everyone", "run the payroll"])
def test_a_tool_call_the_person_has_no_such_tool_for_runs_nothing(
    stack: Stack, message: str
) -> None:
    person = stack.employees[-1]
    conversation = f"nonsense-{message.split()[0]}"
    before = _records(stack, person)

    answer = chat(stack, person, message, conversation)

    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"].startswith("Sorry: "), answer.json()
    with Session(stack.engine) as session:
        runs = session.scalar(
            select(func.count())
            .select_from(PayrollRun)
            .where(PayrollRun.organization_id == stack.organization_id)
        )
    assert runs == 0
    assert _records(stack, person) == before
    # The next turn in the same conversation works, and was sent as OpenAI accepts it.
    refused_before = len(stack.llm.refused)
    hello = chat(stack, person, "hello", conversation)
    assert hello.status_code == 200, hello.text
    assert hello.json()["reply"] == "Hello! How can I help?"
    assert stack.llm.refused[refused_before:] == []
    stack.assert_healthy()


# ------------------------------------------------------------------ Redis stopped


HANDBOOK = (
    b"# Leave policy\n\n## Paternity leave\n\nFathers get 14 calendar days of paternity leave.\n"
)


def test_redis_down_people_still_act_and_every_notification_goes_out_once_it_is_back(
    stack: Stack, engine: Engine
) -> None:
    redis = stack.redis
    if redis is None:
        unavailable(REDIS_HINT)  # fails under CI=true (the stack already did)
    employee = stack.employees[0]
    hr = stack.hr
    queued_before = set(_notifications(stack))
    redis.stop()
    try:
        with httpx.Client(base_url=stack.base, timeout=REQUEST_TIMEOUT_S) as http:
            timings: dict[str, float] = {}

            def timed(name: str, response: httpx.Response, started: float) -> httpx.Response:
                timings[name] = time.monotonic() - started
                return response

            started = time.monotonic()
            login = timed(
                "login",
                http.post("/api/v1/auth/login", json={"login": hr.email, "password": PASSWORD}),
                started,
            )
            assert login.status_code == 200, login.text
            for n in range(3):
                started = time.monotonic()
                report = timed(
                    f"report {n}",
                    http.post(
                        f"{TOOLS}/report_issue",
                        json={"category": "safety", "text": f"Loading bay light {n} is out"},
                        headers={**employee.auth, "Idempotency-Key": str(uuid.uuid4())},
                    ),
                    started,
                )
                assert report.status_code == 200, report.text
            started = time.monotonic()
            hello = timed("chat", chat(stack, employee, "hello", "redis"), started)
            assert hello.status_code == 200, hello.text
            started = time.monotonic()
            upload = timed(
                "upload",
                http.post(
                    "/api/v1/knowledge/documents",
                    files={"file": ("paternity.md", HANDBOOK, "text/markdown")},
                    headers=hr.auth,
                ),
                started,
            )
            assert upload.status_code == 202, upload.text
            # Answered at once: a broker that does not answer is given up on quickly.
            assert max(timings.values()) < REDIS_DOWN_BOUND_S, timings
            document_id = upload.json()["id"]

            # The upload is not lost: this process ingests it itself meanwhile.
            def ingested() -> bool:
                got = http.get(f"/api/v1/knowledge/documents/{document_id}", headers=hr.auth)
                return bool(got.json()["status"] == DocumentStatus.READY)

            wait_for(ingested, timeout=60, every=0.25)
    finally:
        redis.start()

    # Every notification row is committed and waits; Redis came back empty, so beat's
    # sweep queues them, and a worker delivers each one exactly once.
    notes = _notifications(stack)
    during = [note for i, note in notes.items() if i not in queued_before]
    assert [(n.recipient_id, n.status) for n in during] == [
        (hr.user_id, NotificationStatus.PENDING)
    ] * 3
    with Session(stack.engine) as session:
        phones = {row.id: row.phone for row in session.execute(select(User.id, User.phone))}
        chunks = session.scalar(
            select(func.count())
            .select_from(PolicyChunk)
            .where(PolicyChunk.document_id == document_id)
        )
        document = session.get(PolicyDocument, document_id)
        assert document is not None
        # Ingested once: as many passages as it says, none twice.
        assert chunks
        assert (document.status, document.chunks_total) == (DocumentStatus.READY, chunks)
    from channels.delivery import sweep
    from hrcore.notifications import outbox

    with using(stack.engine, engine), broker(redis.url):
        # As beat would a minute later: every due row is queued again.
        later = outbox.SWEEP_GRACE * 2
        with Session(stack.engine) as session:
            session.execute(
                update(Notification)
                .where(
                    Notification.organization_id == stack.organization_id,
                    Notification.status == NotificationStatus.PENDING,
                )
                .values(next_attempt_at=Notification.next_attempt_at - later)
            )
            session.commit()
        swept = sweep()
        assert swept["queued"] >= len(during), swept
    with ajira_worker(redis.url, stack.engine, stack.sms.base_url, stack.workdir, "worker"):

        def all_sent() -> bool:
            with Session(stack.engine) as session:
                statuses = session.scalars(
                    select(Notification.status).where(
                        Notification.organization_id == stack.organization_id
                    )
                ).all()
            return set(statuses) == {NotificationStatus.SENT}

        wait_for(all_sent, timeout=60, every=0.2)
    # Each row reached the provider once, in one attempt: none lost, none twice.
    sent = Counter((r.form["to"], r.form["message"]) for r in stack.sms.sent())
    assert sent == Counter((phones[n.recipient_id], n.text) for n in notes.values())
    final = _notifications(stack)
    assert set(final) == set(notes)
    assert {(n.status, n.attempts) for n in final.values()} == {(NotificationStatus.SENT, 1)}
    assert len({n.provider_message_id for n in final.values()}) == len(final)
    FIGURES.update(
        redis_slowest_s=max(timings.values()),
        redis_sent_once=sum(
            1 for n in final.values() if (n.status, n.attempts) == (NotificationStatus.SENT, 1)
        ),
        redis_received=sum(sent.values()),
        redis_bound_s=REDIS_DOWN_BOUND_S,
    )
    stack.assert_healthy()


def _notifications(stack: Stack) -> dict[int, Notification]:
    with Session(stack.engine, expire_on_commit=False) as session:
        return {
            note.id: note
            for note in session.scalars(
                select(Notification)
                .where(Notification.organization_id == stack.organization_id)
                .order_by(Notification.id)
            )
        }


# ------------------------------------------------------------------ a worker killed


HANDBOOK_48 = (
    "# Staff handbook\n\n"
    + "\n\n".join(
        f"## Rule {n}\n\n"
        + " ".join(f"Clause {n} part {w} applies to every shift at the depot." for w in range(12))
        for n in range(48)
    )
).encode()


def _document(stack: Stack, document_id: int) -> tuple[PolicyDocument, list[int]]:
    """The document and the ids of its chunks, in order."""
    with Session(stack.engine, expire_on_commit=False) as session:
        document = session.get(PolicyDocument, document_id)
        assert document is not None
        chunks = session.scalars(
            select(PolicyChunk.id)
            .where(PolicyChunk.document_id == document_id)
            .order_by(PolicyChunk.ordinal)
        ).all()
        return document, list(chunks)


def _queue_drained(redis_url: str) -> bool:
    """Nothing waits in the queue, and no worker holds a task."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        if client.llen("celery"):
            return False
    finally:
        client.close()
    inspect = celery_app.control.inspect(timeout=0.5)
    held = [*(inspect.active() or {}).values(), *(inspect.reserved() or {}).values()]
    return not any(held)


def test_a_worker_killed_mid_ingest_leaves_the_document_to_be_ingested_once(
    stack: Stack,
) -> None:
    redis = stack.redis
    if redis is None:
        unavailable(REDIS_HINT)  # fails under CI=true (the stack already did)
    hr = stack.hr
    # The worker embeds through the stand-in, each request of 16 passages taking a second.
    embeddings = {"AJIRA_EMBEDDINGS_BASE_URL": stack.llm.base_url}
    stack.llm.embed_delay_s = 1.0
    try:
        with ajira_worker(
            redis.url, stack.engine, stack.sms.base_url, stack.workdir, "ingest-1",
            extra_env=embeddings,
        ) as first:  # fmt: skip
            upload = httpx.post(
                f"{stack.base}/api/v1/knowledge/documents",
                files={"file": ("handbook.md", HANDBOOK_48, "text/markdown")},
                headers=hr.auth,
                timeout=REQUEST_TIMEOUT_S,
            )
            assert upload.status_code == 202, upload.text
            document_id = upload.json()["id"]

            def mid_way() -> bool:
                document, _ = _document(stack, document_id)
                return 0 < document.chunks_done < document.chunks_total

            wait_for(mid_way, timeout=30, every=0.02)
            kill_group(first)

        # Killed between two batches: progress shows, and no passage was written.
        document, chunks = _document(stack, document_id)
        assert document.status is DocumentStatus.PROCESSING
        assert (document.chunks_done, document.chunks_total, chunks) == (16, 48, [])
        stack.llm.embed_delay_s = 0.0
        with ajira_worker(
            redis.url, stack.engine, stack.sms.base_url, stack.workdir, "ingest-2",
            extra_env=embeddings,
        ):  # fmt: skip
            # The task was never acknowledged: the broker hands it out again once its
            # visibility timeout (an hour) has passed. Sent again now, it finishes the job.
            celery_app.send_task("knowledge.ingest_document", args=[document_id])

            def ready() -> bool:
                return _document(stack, document_id)[0].status is DocumentStatus.READY

            wait_for(ready, timeout=30)
            done, chunks = _document(stack, document_id)
            assert (done.chunks_done, done.chunks_total, len(chunks)) == (48, 48, 48)
            assert done.indexed_hash == done.content_hash

            # The original delivery, restored later, finds the document done.
            embedded = len(stack.llm.embedded)
            celery_app.send_task("knowledge.ingest_document", args=[document_id])
            wait_for(lambda: _queue_drained(redis.url), timeout=30, every=0.2)
            again, same = _document(stack, document_id)
            assert (again.status, same) == (DocumentStatus.READY, chunks)
            assert len(stack.llm.embedded) == embedded
            FIGURES.update(worker_passages=len(same), worker_passages_expected=48)
    finally:
        stack.llm.embed_delay_s = 0.0
    stack.assert_healthy()
