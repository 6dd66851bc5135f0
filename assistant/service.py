"""The `Assistant`: one chat turn for an actor, with memory, confirmations and citations.

This is the entry point channels and the API call, and the turn loop itself: one
conversation at a time, the agent run, and what is said when the model fails. What waits
for a yes is `assistant.confirmations`; what is kept of the conversation and read back
from it is `assistant.transcript`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from assistant import confirmations, transcript
from assistant.adapter import tools_for_actor
from assistant.agent import ModelUnavailable, build_agent
from assistant.catalog import in_every_language
from assistant.confirmations import PendingAction
from assistant.context import AssistantContext
from assistant.language import confirmation_answer, detect_language
from assistant.memory import MAX_MESSAGES, ReadOnceSaver, async_checkpointer, turn_reads
from assistant.redact import redact
from assistant.transcript import DEFAULT_CONVERSATION, Citation, State
from hrcore.actor import Actor, Role
from hrcore.config import get_settings
from hrcore.db import advisory_lock, unit_of_work
from hrcore.people.service import get_speaker, set_language

log = logging.getLogger(__name__)

UNREACHABLE = in_every_language("unreachable")
UNREACHABLE_AFTER = in_every_language("unreachable_after")
#: Write the checkpoint once per run (at its end or at an interrupt), not after every
#: step: a turn's steps are not worth resuming half-way, and it saves round-trips.
DURABILITY: Literal["sync", "async", "exit"] = "exit"


@dataclass
class TurnResult:
    reply: str
    conversation_id: str
    pending_confirmation: PendingAction | None = None
    citations: list[Citation] = field(default_factory=list)
    #: [{"name", "args", "status": "ok"|"error"|"pending"|"rejected", "result": dict | None}]
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    #: The language the reply is in ("en" or "sw").
    language: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data."""
        return asdict(self)


Sink = Callable[[dict[str, Any]], None]
_A = TypeVar("_A")
_B = TypeVar("_B")


async def _both(first: Awaitable[_A], second: Awaitable[_B]) -> tuple[_A, _B]:
    """Await two independent steps at once; an error of either is raised as itself."""
    task = asyncio.ensure_future(second)
    try:
        result = await first
    except BaseException:
        task.cancel()
        # Collect the other step's outcome so a failure of both is not reported twice.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        raise
    return result, await task


@dataclass
class _Turn:
    """Book-keeping of one turn while the graph runs (possibly several times)."""

    actor: Actor
    ctx: AssistantContext
    agent: CompiledStateGraph[Any, Any, Any, Any]
    config: RunnableConfig
    sink: Sink | None
    state: State
    rejected_ids: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    streamed: str = ""
    streamed_id: str | None = None


class Assistant:
    """The chat assistant: an agent per role over the registry tools, memory in PostgreSQL."""

    def __init__(
        self,
        *,
        model: BaseChatModel | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self._model = model
        self._checkpointer = checkpointer
        self._max_messages = max_messages
        self._agents: dict[tuple[Role, int], tuple[BaseCheckpointSaver, ReadOnceSaver, Any]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def model(self) -> BaseChatModel:
        """The chat model, built from the settings on first use."""
        if self._model is None:
            from assistant.models import make_chat_model

            self._model = make_chat_model(get_settings())
        return self._model

    async def turn(
        self, actor: Actor, message: str, *, conversation_id: str | None = None
    ) -> TurnResult:
        """Answer one user message as `actor`; tools run as `actor` and nobody else."""
        return await self._locked_turn(actor, message, conversation_id, None)

    async def stream(
        self, actor: Actor, message: str, *, conversation_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The same turn as events: token, tool, and finally done with the whole result."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def run() -> None:
            try:
                result = await self._locked_turn(actor, message, conversation_id, queue.put_nowait)
                queue.put_nowait({"type": "done", "result": result})
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(run())
        try:
            while (event := await queue.get()) is not None:
                yield event
            await task  # re-raise what went wrong inside the turn
        finally:
            if not task.done():
                # The listener left: let the turn finish rather than cut it half-way.
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def pending_actions(
        self, actor: Actor, *, conversation_id: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """What waits for the user's yes in a conversation: each tool and its arguments.

        Read only: a channel whose buttons outlive the question (a chat app's history)
        checks a pressed button against this before it answers for the user.
        """
        saver, agent = await self._agent_for(actor)
        thread_id = transcript.thread_id(actor, conversation_id)
        state = await transcript.read_state(
            agent, saver, {"configurable": {"thread_id": thread_id}}
        )
        return [
            (r["name"], dict(r.get("args") or {})) for r in confirmations.action_requests(state)
        ]

    # ------------------------------------------------------------------ the turn

    async def _locked_turn(
        self, actor: Actor, message: str, conversation_id: str | None, sink: Sink | None
    ) -> TurnResult:
        conversation_id = conversation_id or DEFAULT_CONVERSATION
        # Before anything keeps or reads it: the memory and the model never see a secret.
        message, had_secret = redact(message)
        thread_id = transcript.thread_id(actor, conversation_id)
        lock = self._locks.get(thread_id)
        if lock is None:
            lock = self._locks.setdefault(thread_id, asyncio.Lock())
        # The asyncio lock orders turns within this process; the advisory lock orders them
        # across every process serving the same conversation (API replicas, workers).
        async with lock, _across_processes(thread_id):
            with turn_reads(thread_id):
                return await self._turn(
                    actor, message, conversation_id, thread_id, sink, secret_removed=had_secret
                )

    async def _turn(
        self,
        actor: Actor,
        message: str,
        conversation_id: str,
        thread_id: str,
        sink: Sink | None,
        *,
        secret_removed: bool = False,
    ) -> TurnResult:
        saver, agent = await self._agent_for(actor)
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        # The user's facts and the conversation come from two connections: read both at once.
        ctx, before = await _both(
            asyncio.to_thread(_load_context, actor, message),
            transcript.read_state(agent, saver, config),
        )
        turn = _Turn(actor=actor, ctx=ctx, agent=agent, config=config, sink=sink, state=before)
        if secret_removed:
            turn.notes.append(transcript.SECRET_NOTE[ctx.language])
        seen = {m.id for m in before.messages}
        restore_point = before
        pending: PendingAction | None = None
        dropped: list[dict[str, Any]] = []
        try:
            if before.interrupts:
                answer = confirmations.answer_of(message)
                await self._resume(turn, before, answer)
                if answer == "other":
                    dropped = confirmations.action_requests(before)
                    restore_point = await transcript.read_state(agent, saver, config)
                    await self._drive(turn, {"messages": [HumanMessage(message)]})
            else:
                await self._drive(turn, {"messages": [HumanMessage(message)]})
            pending = await self._settle_interrupts(turn)
            if confirmations.was_dropped(dropped, pending):
                # Neither a yes nor a no, and the action is not asked again: the person
                # should know it was dropped.
                turn.notes.append(confirmations.MOVED_ON_NOTE[ctx.language])
            if (
                pending is None
                and not turn.notes
                and transcript.said_nothing(turn.state.messages, seen)
            ):
                # A model that ends the turn without a word is as good as unreachable: the
                # person is told so rather than shown an empty answer.
                raise ModelUnavailable("empty answer")
        except ModelUnavailable:
            return await self._model_failed(turn, saver, thread_id, restore_point, conversation_id)
        return self._result(turn, turn.state, seen, pending, conversation_id)

    async def _agent_for(self, actor: Actor) -> tuple[ReadOnceSaver, Any]:
        """The compiled agent of the actor's role (built once) and its checkpointer."""
        saver = self._checkpointer or await async_checkpointer()
        key = (actor.role, id(saver))
        cached = self._agents.get(key)
        if cached is None or cached[0] is not saver:
            wrapped = ReadOnceSaver(saver)
            agent = build_agent(
                self.model,
                tools_for_actor(actor),
                checkpointer=wrapped,
                max_messages=self._max_messages,
            )
            cached = self._agents[key] = (saver, wrapped, agent)
        return cached[1], cached[2]

    async def _resume(self, turn: _Turn, state: State, answer: confirmations.Answer) -> None:
        count = len(confirmations.action_requests(state))
        if answer != "yes":
            turn.rejected_ids |= confirmations.pending_call_ids(state)
        await self._drive(
            turn, Command(resume={"decisions": confirmations.decisions(answer, count)})
        )

    async def _settle_interrupts(self, turn: _Turn) -> PendingAction | None:
        """Preview what waits for a yes; refuse at once what would fail anyway."""
        rounds = confirmations.MAX_PREVIEW_ROUNDS
        for round_ in range(rounds):
            # The state the last run ended in: no need to read it back from the database.
            state = turn.state
            requests = confirmations.action_requests(state)
            if not requests:
                return None
            previews = await asyncio.to_thread(confirmations.preview_all, turn.actor, requests)
            failed = [p for p in previews if p.error is not None]
            if failed and round_ < rounds - 1:
                turn.rejected_ids |= confirmations.pending_call_ids(state)
                refused = confirmations.refusals(previews)
                await self._drive(turn, Command(resume={"decisions": refused}))
                continue
            if turn.sink is not None:
                for p in previews:
                    turn.sink({"type": "tool", "name": p.tool, "status": "pending"})
            return confirmations.pending_action(previews, turn.ctx.language)
        return None

    async def _drive(self, turn: _Turn, graph_input: Any) -> None:
        """Run the graph once (until it ends or waits for a confirmation).

        The run's own output is the state it ended in, so `turn.state` is kept from it
        rather than read back from the checkpointer.
        """
        values: Any = None
        interrupts: list[Any] = []
        if turn.sink is None:
            values = await turn.agent.ainvoke(
                graph_input, turn.config, context=turn.ctx, durability=DURABILITY
            )
            if isinstance(values, dict):
                interrupts = list(values.get(transcript.INTERRUPT) or [])
        else:
            async for mode, chunk in turn.agent.astream(
                graph_input,
                turn.config,
                context=turn.ctx,
                stream_mode=["messages", "updates", "values"],
                durability=DURABILITY,
            ):
                if mode == "values":
                    values = chunk
                elif mode == "messages":
                    self._stream_token(turn, chunk)
                elif mode == "updates" and isinstance(chunk, dict):
                    interrupts.extend(chunk.get(transcript.INTERRUPT) or [])
                    self._stream_tool_results(turn, chunk)
        if isinstance(values, dict) and isinstance(values.get("messages"), list):
            turn.state = State(messages=list(values["messages"]), interrupts=interrupts)
        else:
            turn.state = transcript.snapshot_state(await turn.agent.aget_state(turn.config))

    @staticmethod
    def _stream_token(turn: _Turn, chunk: Any) -> None:
        message, metadata = chunk
        if (
            turn.sink is not None
            and isinstance(message, AIMessageChunk | AIMessage)
            and metadata.get("langgraph_node") == "model"
            and message.text
        ):
            if message.id != turn.streamed_id:
                turn.streamed_id, turn.streamed = message.id, ""
            turn.streamed += message.text
            turn.sink({"type": "token", "text": message.text})

    @staticmethod
    def _stream_tool_results(turn: _Turn, chunk: dict[str, Any]) -> None:
        if turn.sink is None:
            return
        for node, update in chunk.items():
            if node != "tools":
                continue
            for update_part in update if isinstance(update, list) else [update]:
                for msg in transcript.messages_of(update_part):
                    if isinstance(msg, ToolMessage):
                        status = "ok" if msg.status == "success" else "error"
                        turn.sink({"type": "tool", "name": msg.name, "status": status})

    async def _model_failed(
        self,
        turn: _Turn,
        saver: BaseCheckpointSaver,
        thread_id: str,
        restore_point: State,
        conversation_id: str,
    ) -> TurnResult:
        # Rare, so the full snapshot: it applies what the failed run left as pending writes.
        state = transcript.snapshot_state(await turn.agent.aget_state(turn.config))
        seen = {m.id for m in restore_point.messages}
        done = transcript.done_actions([m for m in state.messages if m.id not in seen])
        lang = turn.ctx.language
        if done:
            # Something already happened: keep the record of it and say what it was.
            summaries = " ".join(transcript.summary_of(m) for m in done)
            reply = UNREACHABLE_AFTER[lang].format(done=summaries)
        else:
            reply = UNREACHABLE[lang]
            await self._restore(turn, saver, thread_id, restore_point)
        result = self._result(turn, state, seen, None, conversation_id)
        result.reply = reply
        if turn.sink is not None:
            turn.sink({"type": "token", "text": reply})
        return result

    async def _restore(
        self, turn: _Turn, saver: BaseCheckpointSaver, thread_id: str, point: State
    ) -> None:
        """Put the thread back as it was before the failed run, so a retry starts clean."""
        try:
            if point.config and point.config.get("configurable", {}).get("checkpoint_id"):
                await turn.agent.aupdate_state(point.config, None, as_node="__copy__")
            else:
                await saver.adelete_thread(thread_id)
        except Exception:
            log.exception("could not restore the conversation after a model failure")

    def _result(
        self,
        turn: _Turn,
        state: State,
        seen: set[str | None],
        pending: PendingAction | None,
        conversation_id: str,
    ) -> TurnResult:
        messages = state.messages
        new_ids = {m.id for m in messages if m.id not in seen}
        calls = transcript.tool_calls(messages, new_ids, turn.rejected_ids)
        cited = transcript.citations(m for m in messages if m.id in new_ids)
        streamed_part = ""
        if pending is not None:
            reply = streamed_part = confirmations.confirmation_text(pending, turn.ctx.language)
            said = [  # what the model said alongside the call now waiting (an answer first)
                m.text
                for m in messages
                if isinstance(m, AIMessage) and m.id in new_ids and m.tool_calls and m.text
            ]
            if said:
                reply = f"{said[-1]}\n\n{reply}"
        else:
            last = next(
                (m for m in reversed(messages) if isinstance(m, AIMessage) and m.id in new_ids),
                None,
            )
            reply = last.text if last is not None else ""
        if turn.sink is not None and pending is not None:
            # An answer given alongside the waiting call has been streamed already.
            text = streamed_part if turn.streamed else reply
            turn.sink({"type": "token", "text": ("\n\n" if turn.streamed else "") + text})
        if turn.notes:
            reply = "\n".join([*turn.notes, reply])
        return TurnResult(
            reply=reply,
            conversation_id=conversation_id,
            pending_confirmation=pending,
            citations=cited,
            tool_calls=calls,
            language=turn.ctx.language,
        )


# ---------------------------------------------------------------------- helpers


@contextlib.asynccontextmanager
async def _across_processes(thread_id: str) -> AsyncIterator[None]:
    """Hold the conversation's database advisory lock for the turn, without blocking the loop."""
    held = advisory_lock(f"conversation:{thread_id}")
    await asyncio.to_thread(held.__enter__)
    try:
        yield
    finally:
        await asyncio.to_thread(held.__exit__, None, None, None)


def _load_context(actor: Actor, message: str) -> AssistantContext:
    """Who is speaking and in which language; remember a clear switch of language."""
    with unit_of_work(actor) as session:
        speaker = get_speaker(session, actor)
        language = speaker.language if speaker.language in ("en", "sw") else "en"
        detected = detect_language(message)
        # A bare "yes"/"ndiyo" answers a question; it says little about the language.
        if detected and detected != language and confirmation_answer(message) is None:
            set_language(session, actor, language=detected)
            language = detected
        return AssistantContext(
            actor=actor,
            user_name=speaker.full_name,
            employer=speaker.employer,
            timezone=speaker.timezone,
            language=language,
        )


_assistant: Assistant | None = None
_assistant_lock = threading.Lock()


def get_assistant() -> Assistant:
    """The process-wide assistant, built from the settings on first use."""
    global _assistant
    with _assistant_lock:
        if _assistant is None:
            _assistant = Assistant()
        return _assistant
