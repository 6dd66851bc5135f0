"""The assistant's own work per turn: one conversation read, trimmed memory, tools bound once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from assistant import memory
from assistant.service import Assistant
from tests.fakes import LoopRunner, ScriptedChatModel, call, reply, scripted

# Monday 23 November 2026, 09:00 in Nairobi.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

run = LoopRunner()


@pytest.fixture(scope="module", autouse=True)
def _checkpointer(engine: object) -> Iterator[None]:
    memory.setup_checkpointer()
    yield
    run.close()


pytestmark = [pytest.mark.frozen_at(NOW), pytest.mark.team(leave_types=True)]


class CountingSaver(InMemorySaver):
    """An in-memory checkpointer that counts how often a checkpoint is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        self.reads += 1
        return await super().aget_tuple(config)


class CountingBindModel(ScriptedChatModel):
    """A scripted model that counts how often tools are bound to it."""

    binds: list[int]

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> CountingBindModel:
        self.binds.append(len(tools))
        return self


def thread_messages(actor: Any, conversation: str = "main") -> list[Any]:
    saver = run(memory.async_checkpointer())
    config = {"configurable": {"thread_id": f"{actor.channel}:{actor.user_id}:{conversation}"}}
    saved = run(saver.aget_tuple(config))
    return list(saved.checkpoint["channel_values"]["messages"]) if saved else []


def test_a_turn_reads_the_conversation_once_even_through_a_confirmation(session, team):
    saver = CountingSaver()
    model = scripted(
        call("clock_in"),
        reply("You are clocked in."),
        call("request_leave", leave_type="annual", start_date="2026-12-01", end_date="2026-12-02"),
        reply("Your leave request is in."),
    )
    assistant = Assistant(model=model, checkpointer=saver)
    actor = team.actor("employee")

    run(assistant.turn(actor, "clock me in"))
    assert saver.reads == 1

    asked = run(assistant.turn(actor, "leave 1 to 2 December"))
    assert asked.pending_confirmation is not None
    assert saver.reads == 2

    done = run(assistant.turn(actor, "yes"))
    assert done.pending_confirmation is None
    assert [c["status"] for c in done.tool_calls] == ["ok"]
    assert done.reply == "Your leave request is in."
    assert saver.reads == 3


def test_trimmed_turns_leave_the_stored_conversation(session, team):
    script: list[AIMessage] = []
    for n in range(4):
        script += [call("leave_balance"), reply(f"Answer {n}.")]
    assistant = Assistant(model=scripted(*script), max_messages=6)
    actor = team.actor("employee")
    for n in range(4):
        run(assistant.turn(actor, f"balance {n}?"))

    stored = thread_messages(actor)
    assert len(stored) <= 6
    assert [m.text for m in stored if isinstance(m, HumanMessage)] == ["balance 3?"]
    calls = [c["id"] for m in stored if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls == [m.tool_call_id for m in stored if isinstance(m, ToolMessage)]
    assert stored[-1].text == "Answer 3."


def test_tools_are_bound_once_per_agent_not_per_model_call(session, team):
    model = CountingBindModel(
        messages=iter(
            [call("clock_in"), reply("In."), call("clock_out"), reply("Out."), reply("Hi.")]
        ),
        binds=[],
    )
    assistant = Assistant(model=model)
    actor = team.actor("employee")
    for message in ("clock me in", "clock me out", "hello"):
        run(assistant.turn(actor, message))

    assert len(model.seen) == 5
    assert len(model.binds) == 1
    assert model.binds[0] > 0


def test_the_read_once_checkpointer_forgets_its_read_after_a_write():
    inner = CountingSaver()
    saver = memory.ReadOnceSaver(inner)
    config: RunnableConfig = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}

    async def scenario() -> dict[str, Any]:
        await inner.aput(config, empty_checkpoint(), {}, {})
        seen: dict[str, Any] = {}
        with memory.turn_reads("t-1"):
            seen["read"] = await saver.read_latest(config)
            seen["served"] = await saver.aget_tuple(config)  # the turn's read, reused
            seen["reads_after_reuse"] = inner.reads
            await saver.aget_tuple(config)  # held once only: a real read
            await saver.read_latest(config)
            await saver.adelete_thread("t-1")  # a write forgets the held read
            seen["after_delete"] = await saver.aget_tuple(config)
        seen["reads"] = inner.reads
        return seen

    seen = run(scenario())
    assert seen["read"] is not None
    assert seen["served"] is seen["read"]
    assert seen["reads_after_reuse"] == 1
    assert seen["after_delete"] is None
    assert seen["reads"] == 4
