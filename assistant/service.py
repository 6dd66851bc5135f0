"""The `Assistant`: one chat turn for an actor, with memory, confirmations and citations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from assistant.adapter import INTERNAL_ERROR, tools_for_actor
from assistant.agent import ModelUnavailable, build_agent
from assistant.catalog import say
from assistant.context import AssistantContext
from assistant.language import confirmation_answer, detect_language
from assistant.memory import MAX_MESSAGES, ReadOnceSaver, async_checkpointer, turn_reads
from assistant.offline.wording import word_preview
from assistant.prompt import REJECT_MOVED_ON, REJECT_NO, REJECT_PREVIEW
from assistant.redact import redact
from hrcore.actor import Actor, Role
from hrcore.config import get_settings
from hrcore.db import advisory_lock, unit_of_work
from hrcore.errors import HRError, NotFound
from hrcore.people.service import get_speaker, set_language
from tools.registry import get_tool, preview_tool

log = logging.getLogger(__name__)

#: The conversation a channel continues when it names none: one thread per (channel, user).
DEFAULT_CONVERSATION = "main"


def _both_languages(key: str) -> dict[str, str]:
    return {language: say(key, language) for language in ("en", "sw")}


UNREACHABLE = _both_languages("unreachable")
UNREACHABLE_AFTER = _both_languages("unreachable_after")
CONFIRM = _both_languages("confirm")
#: The question and its two answers, for channels that show buttons or menu options.
CONFIRM_CHOICES = {
    language: (say("confirm_question", language), say("yes", language), say("no", language))
    for language in ("en", "sw")
}
MOVED_ON_NOTE = _both_languages("moved_on")
SECRET_NOTE = _both_languages("secret_removed")
MAX_PREVIEW_ROUNDS = 3
#: Write the checkpoint once per run (at its end or at an interrupt), not after every
#: step: a turn's steps are not worth resuming half-way, and it saves round-trips.
DURABILITY: Literal["sync", "async", "exit"] = "exit"


@dataclass
class Citation:
    number: int
    document_title: str
    heading_path: list[str]
    quote: str


@dataclass
class PendingAction:
    """An action waiting for the user's yes, as data every channel can render its own way."""

    tool: str
    args: dict[str, Any]
    summary: str
    question: str = "Confirm?"
    yes: str = "Yes"
    no: str = "No"


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


@dataclass
class _Preview:
    tool: str
    args: dict[str, Any]
    summary: str | None
    error: HRError | None
    data: dict[str, Any] | None = None


Sink = Callable[[dict[str, Any]], None]
_A = TypeVar("_A")
_B = TypeVar("_B")

#: The channel LangGraph keeps a run's interrupts in (pending writes, stream updates).
_INTERRUPT = "__interrupt__"


@dataclass
class _State:
    """What a turn needs of the conversation: its messages and what waits for a yes."""

    messages: list[AnyMessage]
    #: LangGraph `Interrupt`s; their `value` holds the HITL `action_requests`.
    interrupts: list[Any]
    #: The checkpoint's own config (a restore point) when read from the checkpointer.
    config: RunnableConfig | None = None


async def _read_state(
    agent: CompiledStateGraph[Any, Any, Any, Any],
    saver: BaseCheckpointSaver,
    config: RunnableConfig,
) -> _State:
    """The thread's latest checkpoint in one read, without building a full state snapshot."""
    if isinstance(saver, ReadOnceSaver):
        saved = await saver.read_latest(config)
    else:
        saved = await saver.aget_tuple(config)
    if saved is None:
        return _State(messages=[], interrupts=[])
    interrupts: list[Any] = []
    for _task, channel, value in saved.pending_writes or []:
        if channel == _INTERRUPT:
            interrupts.extend(value if isinstance(value, list | tuple) else [value])
        else:
            # Writes a failed run left behind belong in the state: let LangGraph apply them.
            return _snapshot_state(await agent.aget_state(config))
    return _State(
        messages=list(saved.checkpoint["channel_values"].get("messages") or []),
        interrupts=interrupts,
        config=saved.config.copy(),
    )


def _snapshot_state(snapshot: StateSnapshot) -> _State:
    return _State(
        messages=list(snapshot.values.get("messages") or []),
        interrupts=list(snapshot.interrupts),
        config=snapshot.config.copy(),
    )


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
    state: _State
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
        thread_id = _thread_id(actor, conversation_id)
        state = await _read_state(agent, saver, {"configurable": {"thread_id": thread_id}})
        return [(r["name"], dict(r.get("args") or {})) for r in _action_requests(state)]

    # ------------------------------------------------------------------ the turn

    async def _locked_turn(
        self, actor: Actor, message: str, conversation_id: str | None, sink: Sink | None
    ) -> TurnResult:
        conversation_id = conversation_id or DEFAULT_CONVERSATION
        # Before anything keeps or reads it: the memory and the model never see a secret.
        message, had_secret = redact(message)
        thread_id = _thread_id(actor, conversation_id)
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
            asyncio.to_thread(_load_context, actor, message), _read_state(agent, saver, config)
        )
        turn = _Turn(actor=actor, ctx=ctx, agent=agent, config=config, sink=sink, state=before)
        if secret_removed:
            turn.notes.append(SECRET_NOTE[ctx.language])
        seen = {m.id for m in before.messages}
        restore_point = before
        pending: PendingAction | None = None
        dropped: list[dict[str, Any]] = []
        try:
            if before.interrupts:
                answer = confirmation_answer(message)
                if answer is True:
                    await self._resume(turn, before, approve=True)
                elif answer is False:
                    await self._resume(turn, before, approve=False, reason=REJECT_NO)
                else:
                    dropped = _action_requests(before)
                    await self._resume(turn, before, approve=False, reason=REJECT_MOVED_ON)
                    restore_point = await _read_state(agent, saver, config)
                    await self._drive(turn, {"messages": [HumanMessage(message)]})
            else:
                await self._drive(turn, {"messages": [HumanMessage(message)]})
            pending = await self._settle_interrupts(turn)
            if dropped and not (pending and pending.tool in {r["name"] for r in dropped}):
                # Neither a yes nor a no, and the action is not asked again (amended or
                # repeated): it was dropped, and the person should know.
                turn.notes.append(MOVED_ON_NOTE[ctx.language])
            if pending is None and not turn.notes and _said_nothing(turn.state.messages, seen):
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

    async def _resume(self, turn: _Turn, state: _State, *, approve: bool, reason: str = "") -> None:
        requests = _action_requests(state)
        if not approve:
            turn.rejected_ids |= _pending_call_ids(state)
        decision: dict[str, Any] = (
            {"type": "approve"} if approve else {"type": "reject", "message": reason}
        )
        await self._drive(turn, Command(resume={"decisions": [decision] * len(requests)}))

    async def _settle_interrupts(self, turn: _Turn) -> PendingAction | None:
        """Preview what waits for a yes; refuse at once what would fail anyway."""
        for round_ in range(MAX_PREVIEW_ROUNDS):
            # The state the last run ended in: no need to read it back from the database.
            state = turn.state
            requests = _action_requests(state)
            if not requests:
                return None
            previews = await asyncio.to_thread(_preview_all, turn.actor, requests)
            failed = [p for p in previews if p.error is not None]
            if failed and round_ < MAX_PREVIEW_ROUNDS - 1:
                turn.rejected_ids |= _pending_call_ids(state)
                decisions = [
                    {
                        "type": "reject",
                        "message": REJECT_PREVIEW.format(message=p.error.message, code=p.error.code)
                        if p.error
                        else "Not carried out, because another action in the same step failed.",
                    }
                    for p in previews
                ]
                await self._drive(turn, Command(resume={"decisions": decisions}))
                continue
            summaries = [_pending_text(p, turn.ctx.language) for p in previews]
            first = previews[0]
            if turn.sink is not None:
                for p in previews:
                    turn.sink({"type": "tool", "name": p.tool, "status": "pending"})
            question, yes, no = CONFIRM_CHOICES[turn.ctx.language]
            return PendingAction(
                tool=first.tool,
                args=first.args,
                summary="\n".join(summaries),
                question=question,
                yes=yes,
                no=no,
            )
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
                interrupts = list(values.get(_INTERRUPT) or [])
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
                    interrupts.extend(chunk.get(_INTERRUPT) or [])
                    self._stream_tool_results(turn, chunk)
        if isinstance(values, dict) and isinstance(values.get("messages"), list):
            turn.state = _State(messages=list(values["messages"]), interrupts=interrupts)
        else:
            turn.state = _snapshot_state(await turn.agent.aget_state(turn.config))

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
                for msg in _messages_of(update_part):
                    if isinstance(msg, ToolMessage):
                        status = "ok" if msg.status == "success" else "error"
                        turn.sink({"type": "tool", "name": msg.name, "status": status})

    async def _model_failed(
        self,
        turn: _Turn,
        saver: BaseCheckpointSaver,
        thread_id: str,
        restore_point: _State,
        conversation_id: str,
    ) -> TurnResult:
        # Rare, so the full snapshot: it applies what the failed run left as pending writes.
        state = _snapshot_state(await turn.agent.aget_state(turn.config))
        seen = {m.id for m in restore_point.messages}
        new = [m for m in state.messages if m.id not in seen]
        done = [
            m
            for m in new
            if isinstance(m, ToolMessage) and m.status == "success" and _changes_state(m.name)
        ]
        lang = turn.ctx.language
        if done:
            # Something already happened: keep the record of it and say what it was.
            summaries = " ".join(_summary_of(m) for m in done)
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
        self, turn: _Turn, saver: BaseCheckpointSaver, thread_id: str, point: _State
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
        state: _State,
        seen: set[str | None],
        pending: PendingAction | None,
        conversation_id: str,
    ) -> TurnResult:
        messages = state.messages
        new_ids = {m.id for m in messages if m.id not in seen}
        calls = _tool_calls(messages, new_ids, turn.rejected_ids)
        citations = _citations(m for m in messages if m.id in new_ids)
        streamed_part = ""
        if pending is not None:
            reply = streamed_part = f"{pending.summary}\n{CONFIRM[turn.ctx.language]}"
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
            citations=citations,
            tool_calls=calls,
            language=turn.ctx.language,
        )


# ---------------------------------------------------------------------- helpers


def _said_nothing(messages: list[AnyMessage], seen: set[str | None]) -> bool:
    """Whether the turn's last answer from the model has neither words nor tool calls."""
    last = next(
        (m for m in reversed(messages) if isinstance(m, AIMessage) and m.id not in seen), None
    )
    return last is not None and not last.tool_calls and not last.text.strip()


def _thread_id(actor: Actor, conversation_id: str | None) -> str:
    """The checkpointer thread of one conversation: per channel, person and conversation."""
    return f"{actor.channel}:{actor.user_id}:{conversation_id or DEFAULT_CONVERSATION}"


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


def _action_requests(state: _State) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for interrupt in state.interrupts:
        value = interrupt.value
        if isinstance(value, dict):
            requests.extend(value.get("action_requests", []))
    return requests


def _pending_text(preview: _Preview, language: str) -> str:
    """The pending action in the user's language (the tool summaries are English)."""
    if preview.data is not None and (worded := word_preview(preview.tool, preview.data, language)):
        return worded
    if preview.summary is not None:
        return preview.summary
    return preview.error.message if preview.error else ""


def _pending_call_ids(state: _State) -> set[str]:
    """Ids of the last AI message's tool calls that have no result yet."""
    messages = state.messages
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if last_ai is None:
        return set()
    return {c["id"] for c in last_ai.tool_calls if c["id"] and c["id"] not in answered}


def _preview_all(actor: Actor, requests: list[dict[str, Any]]) -> list[_Preview]:
    previews = []
    for request in requests:
        name, args = request["name"], dict(request.get("args") or {})
        try:
            with unit_of_work(actor) as session:
                result = preview_tool(session, actor, name, args)
            previews.append(
                _Preview(name, args, result.summary, None, result.model_dump(mode="json"))
            )
        except HRError as exc:
            previews.append(_Preview(name, args, None, exc))
        except Exception:
            log.exception("preview of %s failed", name)
            error = HRError(INTERNAL_ERROR["message"], code=INTERNAL_ERROR["code"])
            previews.append(_Preview(name, args, None, error))
    return previews


def _messages_of(update: Any) -> list[Any]:
    if isinstance(update, dict):
        return list(update.get("messages", []))
    if isinstance(update, Command) and isinstance(update.update, dict):
        return list(update.update.get("messages", []))
    return []


def _payload(message: ToolMessage) -> dict[str, Any] | None:
    try:
        data = json.loads(message.text)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _summary_of(message: ToolMessage) -> str:
    data = _payload(message) or {}
    return str(data.get("summary") or message.name or "")


def _changes_state(name: str | None) -> bool:
    try:
        return get_tool(name or "").changes_state
    except NotFound:
        return False


def _tool_calls(
    messages: list[AnyMessage], new_ids: set[str | None], rejected: set[str]
) -> list[dict[str, Any]]:
    """The tool calls this turn made or settled, in order, with their outcome."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    calls = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            result = results.get(call.get("id") or "")
            if message.id not in new_ids and (result is None or result.id not in new_ids):
                continue
            if result is None:
                status, payload = "pending", None
            elif call.get("id") in rejected:
                status, payload = "rejected", None
            else:
                status = "ok" if result.status == "success" else "error"
                payload = _payload(result)
                if payload is None and status == "error":
                    payload = {"error": {"code": "tool_refused", "message": result.text}}
            calls.append(
                {"name": call["name"], "args": call["args"], "status": status, "result": payload}
            )
    return calls


def _citations(messages: Any) -> list[Citation]:
    """Citations of the turn's last successful policy search, with their quotes."""
    found: list[Citation] = []
    for message in messages:
        if not (
            isinstance(message, ToolMessage)
            and message.name == "search_policy"
            and message.status == "success"
        ):
            continue
        data = _payload(message) or {}
        results = data.get("results") or []
        found = []
        for cite in data.get("citations") or []:
            number = int(cite.get("number", 0))
            quote = _quote_for(cite, results, number)
            found.append(
                Citation(
                    number=number,
                    document_title=str(cite.get("document_title", "")),
                    heading_path=list(cite.get("heading_path") or []),
                    quote=quote,
                )
            )
    return found


def _quote_for(cite: dict[str, Any], results: list[dict[str, Any]], number: int) -> str:
    for passage in results:
        if passage.get("document_title") == cite.get("document_title") and passage.get(
            "heading_path"
        ) == cite.get("heading_path"):
            return str(passage.get("quote", ""))
    if 1 <= number <= len(results):
        return str(results[number - 1].get("quote", ""))
    return ""


_assistant: Assistant | None = None
_assistant_lock = threading.Lock()


def get_assistant() -> Assistant:
    """The process-wide assistant, built from the settings on first use."""
    global _assistant
    with _assistant_lock:
        if _assistant is None:
            _assistant = Assistant()
        return _assistant
