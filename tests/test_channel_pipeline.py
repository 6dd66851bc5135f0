"""The channel seam: identities, inbound messages handled once, one turn at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, ClassVar

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.service import Assistant
from channels import pipeline
from channels.messages import Inbound, Reply
from hrcore import db
from hrcore.actor import Actor, Channel
from hrcore.errors import Conflict
from hrcore.identities import service as identities
from hrcore.identities.models import ChannelIdentity, InboundMessage
from tests.factories import arranged, as_actor, make_org, make_user
from tests.fakes import ScriptedChatModel, reply

PHONE = "+254711000111"


@pytest.fixture
def person(session: Session) -> Any:
    return make_user(session, make_org(session), phone=PHONE, full_name="Wanjiku Njeri")


def identities_of(session: Session, user_id: int) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.address, ChannelIdentity.verified_via)
        .where(ChannelIdentity.user_id == user_id)
        .order_by(ChannelIdentity.id)
    ).all()
    return [(str(c), a, v) for c, a, v in rows]


# ------------------------------------------------------------------------ identities


def test_a_phone_on_the_employee_record_is_linked_on_first_use(session: Session, person) -> None:
    first = identities.resolve(session, Channel.SMS, PHONE)
    assert first.actor is not None
    assert (first.actor.user_id, first.actor.channel) == (person.id, Channel.SMS)
    assert identities_of(session, person.id) == [("sms", PHONE, "employee_record")]
    again = identities.resolve(session, Channel.SMS, PHONE)
    assert again.actor == first.actor
    assert len(identities_of(session, person.id)) == 1


def test_unknown_and_deactivated_senders_get_no_actor(session: Session, person) -> None:
    unknown = identities.resolve(session, Channel.SMS, "+254799999999")
    assert (unknown.actor, unknown.problem) == (None, "unknown")
    assert identities.resolve(session, Channel.TELEGRAM, "424242").problem == "unknown"
    person.is_active = False
    session.flush()
    gone = identities.resolve(session, Channel.USSD, PHONE)
    assert (gone.actor, gone.problem) == (None, "inactive")
    assert identities_of(session, person.id) == []


def test_an_account_linked_to_one_person_cannot_be_linked_to_another(
    session: Session, person
) -> None:
    other = make_user(session, person.organization)
    identities.link(session, person, Channel.TELEGRAM, "555", verified_via="telegram_contact")
    with pytest.raises(Conflict) as err:
        identities.link(session, other, Channel.TELEGRAM, "555", verified_via="telegram_contact")
    assert err.value.code == "identity_taken"
    assert identities.resolve(session, Channel.TELEGRAM, "555").actor.user_id == person.id


def test_an_inbound_id_is_claimed_once_and_its_answer_kept(session: Session) -> None:
    first = identities.claim_inbound(session, Channel.SMS, "msg-1")
    assert first.first
    identities.finish_inbound(session, first, response="Hello", organization_id=None)
    again = identities.claim_inbound(session, Channel.SMS, "msg-1")
    assert (again.first, again.response) == (False, "Hello")
    assert identities.claim_inbound(session, Channel.TELEGRAM, "msg-1").first


# ------------------------------------------------------------------------ receive


class Counting:
    """A channel handler that counts its calls and echoes the text."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay

    async def __call__(self, actor: Actor, inbound: Inbound) -> Reply:
        self.calls.append(inbound.text or "")
        await asyncio.sleep(self.delay)
        return Reply(text=f"echo {inbound.text} for {actor.user_id}")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_retried_message_gets_the_same_answer_and_acts_once(session: Session, person) -> None:
    handler = Counting()
    inbound = Inbound(Channel.SMS, PHONE, "ATXid_1", text="hi")
    first = run(pipeline.receive(inbound, render=lambda r: r.text, handler=handler))
    retry = run(pipeline.receive(inbound, render=lambda r: r.text, handler=handler))
    assert first.first
    assert not retry.first
    assert first.body == retry.body == f"echo hi for {person.id}"
    assert handler.calls == ["hi"]


def test_an_unknown_sender_is_told_how_to_link_and_nothing_else(session: Session, person) -> None:
    handler = Counting()
    inbound = Inbound(Channel.SMS, "+254700999888", "ATXid_2", text="nataka likizo kesho")
    handled = run(pipeline.receive(inbound, render=lambda r: r.text, handler=handler))
    assert handled.reply is not None
    assert handled.reply.problem == "unknown"
    assert handled.body == pipeline.NOT_LINKED["en"]
    assert handler.calls == []
    assert handled.actor is None


def test_a_deactivated_sender_is_told_access_ended(session: Session, person) -> None:
    person.is_active = False
    session.flush()
    handled = run(
        pipeline.receive(
            Inbound(Channel.SMS, PHONE, "ATXid_3", text="hi"),
            render=lambda r: r.text,
            handler=Counting(),
        )
    )
    assert handled.body == pipeline.INACTIVE["en"]


def test_a_handler_that_failed_after_acting_is_not_run_again(session: Session, person) -> None:
    calls: list[str] = []

    async def broken(actor: Actor, inbound: Inbound) -> Reply:
        calls.append("ran")
        raise RuntimeError("half-way")

    inbound = Inbound(Channel.SMS, PHONE, "ATXid_4", text="hi")
    with pytest.raises(RuntimeError):
        run(pipeline.receive(inbound, render=lambda r: r.text, handler=broken))
    retry = run(pipeline.receive(inbound, render=lambda r: r.text, handler=broken))
    assert (retry.first, retry.body) == (False, None)
    assert calls == ["ran"]


def test_the_answer_is_recorded_with_the_adapters_writes(session: Session, person) -> None:
    seen: list[tuple[Any, str]] = []

    def on_answer(s: Session, actor: Actor | None, inbound: Inbound, r: Reply, body: str) -> None:
        seen.append((actor.user_id if actor else None, body))

    run(
        pipeline.receive(
            Inbound(Channel.SMS, PHONE, "ATXid_5", text="yo"),
            render=lambda r: r.text.upper(),
            handler=Counting(),
            on_answer=on_answer,
        )
    )
    assert seen == [(person.id, f"ECHO YO FOR {person.id}")]
    stored = session.scalar(
        select(InboundMessage.response).where(InboundMessage.external_id == "ATXid_5")
    )
    assert stored == f"ECHO YO FOR {person.id}"


def test_two_deliveries_of_one_message_at_once_act_once(committed_engine: Engine) -> None:
    with arranged() as s:
        make_user(s, make_org(s), phone=PHONE)
    handler = Counting(delay=0.2)
    inbound = Inbound(Channel.SMS, PHONE, "ATXid_race", text="once")

    async def both() -> list[pipeline.Handled]:
        render = lambda r: r.text  # noqa: E731
        return await asyncio.gather(
            pipeline.receive(inbound, render=render, handler=handler),
            pipeline.receive(inbound, render=render, handler=handler),
        )

    results = run(both())
    assert handler.calls == ["once"]
    assert sorted(r.first for r in results) == [False, True]
    with arranged() as s:
        claims = s.scalar(select(func.count()).select_from(InboundMessage))
    assert claims == 1


# ------------------------------------------------------------------------ one turn at a time


def test_an_advisory_lock_makes_the_second_holder_wait(committed_engine: Engine) -> None:
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with db.advisory_lock("conversation:test"):
            order.append("first in")
            holding.set()
            time.sleep(0.3)
            order.append("first out")

    worker = threading.Thread(target=first)
    worker.start()
    holding.wait(5)
    with db.advisory_lock("conversation:test"):
        order.append("second in")
    worker.join()
    assert order == ["first in", "first out", "second in"]

    outcome: list[BaseException] = []

    def contender() -> None:
        try:
            with db.advisory_lock("conversation:busy", timeout_s=0.2):
                pass
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with db.advisory_lock("conversation:busy"):
        t = threading.Thread(target=contender)
        t.start()
        t.join()
    assert isinstance(outcome[0], Conflict)
    assert outcome[0].code == "conversation_busy"


class SlowModel(ScriptedChatModel):
    """Answers after a pause and records when each answer was being written."""

    spans: ClassVar[list[tuple[float, float]]] = []

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        started = time.monotonic()
        time.sleep(0.3)
        result = super()._generate(messages, stop=stop, run_manager=run_manager, **kw)
        self.spans.append((started, time.monotonic()))
        return result


@pytest.fixture
def slow_model() -> type[SlowModel]:
    SlowModel.spans = []
    return SlowModel


def test_two_processes_never_run_one_conversation_at_once(
    committed_engine: Engine, slow_model: type[SlowModel]
) -> None:
    with arranged() as s:
        user = make_user(s, make_org(s))
        actor = as_actor(user, Channel.SMS)
    memory = InMemorySaver()
    # Two assistants with their own in-process locks stand for two API replicas.
    replicas = [
        Assistant(model=slow_model(messages=iter([reply("one")])), checkpointer=memory),
        Assistant(model=slow_model(messages=iter([reply("two")])), checkpointer=memory),
    ]

    async def both() -> list[Any]:
        return await asyncio.gather(*(a.turn(actor, "hello") for a in replicas))

    results = run(both())
    assert sorted(r.reply for r in results) == ["one", "two"]
    (_, first_end), (second_start, _) = sorted(slow_model.spans)
    assert first_end <= second_start, "the two turns ran at the same time"


# ------------------------------------------------------------------------ every path


def test_web_chat_cli_and_provider_messages_share_one_turn_path(
    session: Session, person, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.commands.chat import _say
    from tests.factories import bearer

    paths: list[Channel] = []
    real = pipeline.converse

    async def spy(actor: Actor, text: str, **kwargs: Any) -> Reply:
        paths.append(actor.channel)
        return await real(actor, text, **kwargs)

    monkeypatch.setattr(pipeline, "converse", spy)
    client = TestClient(create_app())
    assert (
        client.post("/api/v1/chat", json={"message": "habari"}, headers=bearer(person)).status_code
        == 200
    )
    with asyncio.Runner() as runner:
        _say(runner, identities.resolve(session, Channel.SMS, PHONE).actor, "habari", None)
    run(
        pipeline.receive(
            Inbound(Channel.SMS, PHONE, "ATXid_paths", text="habari"), render=lambda r: r.text
        )
    )
    assert paths == [Channel.WEB, Channel.SMS, Channel.SMS]
