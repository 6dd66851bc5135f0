"""The offline chat model: deterministic tool calls and replies, no network."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from assistant.catalog import TEXTS, say
from assistant.language import detect_language
from assistant.offline import nlu
from assistant.offline.conversation import Conversation, read_conversation
from assistant.offline.dates import resolve_span
from assistant.offline.text import has_any, normalize, tokens
from assistant.offline.wording import (
    not_allowed,
    parse_content,
    word_result,
)
from assistant.prompt import REJECT_MOVED_ON
from tools.registry import all_tools

#: Where a free-text question goes in a tool whose schema names it differently.
_TEXT_FIELDS = ("question", "text", "message", "query", "body")


class OfflineChatModel(BaseChatModel):
    """Understands everyday HR requests in English and Swahili and answers with tool calls.

    It only ever calls the tools bound to it (the user's role decides which), and after
    tool results it only writes a reply: text inside results is data, never instructions.
    The one exception is a lookup it planned itself from the user's own words (a name
    to an id), and its follow-up call is again decided from the user's message.
    """

    tool_schemas: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "ajira-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": "ajira-offline", "tools": sorted(self.tool_schemas)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """A copy of the model that knows the bound tools' names and JSON schemas."""
        schemas: dict[str, dict[str, Any]] = {}
        for tool in tools:
            function = convert_to_openai_tool(tool)["function"]
            schemas[function["name"]] = function.get("parameters") or {}
        return self.model_copy(update={"tool_schemas": schemas})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The whole answer is known at once: one chunk.
        message = self.respond(messages)
        chunk = AIMessageChunk(
            content=message.content,
            id=message.id,
            tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ],
            chunk_position="last",
        )
        if run_manager is not None and isinstance(message.content, str):
            run_manager.on_llm_new_token(message.content, chunk=ChatGenerationChunk(message=chunk))
        yield ChatGenerationChunk(message=chunk)

    # ------------------------------------------------------------ the answer

    def respond(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The next assistant message for this conversation."""
        conv = read_conversation(messages)
        last_human = _last_index(messages, HumanMessage)
        if last_human is None:
            return self._say(nlu.Reply("help"), conv.language, conv)
        human_text = messages[last_human].text
        # Each reply follows the language of the message it answers.
        lang = detect_language(human_text) or conv.language
        tail = list(messages[last_human + 1 :])
        if tail and isinstance(tail[-1], ToolMessage):
            return self._after_tools(messages, tail, human_text, conv, lang)
        if tail:
            # Our own reply is already last: nothing more to say.
            return AIMessage(content="")
        return self._on_human(messages, last_human, human_text, conv, lang)

    @property
    def _bound(self) -> frozenset[str]:
        return frozenset(self.tool_schemas)

    def _say(
        self, reply: nlu.Reply, lang: str, conv: Conversation, *, extra: str = ""
    ) -> AIMessage:
        params = dict(reply.params)
        lead = params.pop("_lead", None)
        text = say(reply.key, lang, **params) if reply.key in TEXTS else say("help", lang)
        if lead:
            text = say(lead, lang) + text
        if reply.key in ("help", "nothing_pending", "out_of_scope"):
            if "approve_leave" in self._bound:
                text += say("help_supervisor", lang)
            if "run_payroll" in self._bound:
                text += say("help_hr", lang)
        if reply.key == "greeting" and not params.get("name"):
            text = text.replace(" !", "!")
        if extra:
            text = f"{extra}\n{text}"
        kwargs = {nlu.STATE_KEY: reply.state} if reply.state else {}
        return AIMessage(content=text, additional_kwargs=kwargs)

    def _on_human(
        self,
        messages: Sequence[BaseMessage],
        index: int,
        text: str,
        conv: Conversation,
        lang: str,
    ) -> AIMessage:
        dropped = _dropped_action(messages, index)
        if dropped is not None and nlu.is_question(text):
            # "Wait, how many days do I have left?": answered, then the action is asked again.
            asked = nlu.understand(text, conv, None, language=lang)
            if (
                isinstance(asked, nlu.Intent)
                and asked.lookup is None
                and asked.tool in self.tool_schemas
                and asked.tool not in _changing_tools()
            ):
                return self._act(messages, asked, lang, conv)
        if dropped is not None:
            again = _amended(dropped, text, conv, lang, _times_asked(messages, index, dropped))
            if again is not None:
                return self._act(messages, again, lang, conv)
        state = _open_question(messages, index)
        understood = nlu.understand(text, conv, state, language=lang)
        if isinstance(understood, nlu.Reply):
            leads_to = _leads_to(understood.state)
            if leads_to is not None and leads_to not in self.tool_schemas:
                # Never ask for the details of something this person may not do.
                return AIMessage(content=not_allowed(leads_to, lang))
            return self._say(understood, lang, conv)
        if (
            understood.tool not in self.tool_schemas
            and "search_policy" in self.tool_schemas
            and nlu.is_question(text)
        ):
            # Not theirs to do, but asked as a question: the handbook may answer it.
            return self._call(messages, "search_policy", {"query": text.strip()[:500]})
        return self._act(messages, understood, lang, conv)

    def _act(
        self, messages: Sequence[BaseMessage], intent: nlu.Intent, lang: str, conv: Conversation
    ) -> AIMessage:
        if intent.tool not in self.tool_schemas:
            return AIMessage(content=not_allowed(intent.tool, lang))
        if intent.lookup is not None:
            tool, args = intent.lookup
            if tool not in self.tool_schemas:
                return AIMessage(content=not_allowed(intent.tool, lang))
            return self._call(messages, tool, args)
        return self._call(messages, intent.tool, intent.args, *intent.more)

    def _after_tools(
        self,
        messages: Sequence[BaseMessage],
        tail: list[BaseMessage],
        human_text: str,
        conv: Conversation,
        lang: str,
    ) -> AIMessage:
        calls = [c for m in tail if isinstance(m, AIMessage) for c in m.tool_calls]
        results = [m for m in tail if isinstance(m, ToolMessage)]
        # A second step only ever follows our own lookup, planned from the user's words.
        if len(calls) == 1 and len(results) == 1:
            index = _last_index(messages, HumanMessage)
            question = _open_question(messages, index) if index is not None else None
            planned = nlu.understand(human_text, conv, question, language=lang)
            if (
                isinstance(planned, nlu.Intent)
                and planned.lookup is not None
                and calls[0]["name"] == planned.lookup[0]
                and calls[0]["args"]
                == _fit(planned.lookup[1], self.tool_schemas.get(planned.lookup[0]) or {})
            ):
                return self._second_step(messages, planned, results[0], lang, conv, human_text)
        last_ai = _last_index(tail, AIMessage)
        answered = tail[last_ai + 1 :] if last_ai is not None else results
        if answered and all(
            isinstance(m, ToolMessage) and REJECT_MOVED_ON in m.text for m in answered
        ):
            # Dropped because the person said something else: that message speaks next.
            return AIMessage(content="")
        names = {c["id"]: c["name"] for c in calls}
        parts = []
        state: dict[str, Any] | None = None
        human_index = _last_index(messages, HumanMessage)
        waiting = _dropped_action(messages, human_index) if human_index is not None else None
        if waiting is not None and any(c["name"] in _changing_tools() for c in calls):
            waiting = None  # the person did something else instead
        for message in answered:
            if not isinstance(message, ToolMessage):
                continue
            tool = message.name or names.get(message.tool_call_id, "")
            data = parse_content(message.content)
            if tool == "search_policy" and message.status == "success" and not _relevant(data):
                # The handbook does not say: never quote a passage that does not answer.
                parts.append(say("policy_unknown", lang))
                state = {"kind": "policy_unknown", "question": human_text[:1000]}
                continue
            if tool == "search_policy":
                # Answered from the handbook: "ask hr" next passes this question on.
                state = {"kind": "policy_answered", "question": human_text[:1000]}
            parts.append(word_result(tool, data, message.status, lang, conv.timezone))
        kwargs = {nlu.STATE_KEY: state} if state else {}
        text = "\n\n".join(p for p in parts if p) or "OK."
        if waiting is not None:
            # The question asked while an action waited is answered: ask about the action again.
            again = self._call(messages, waiting["name"], dict(waiting.get("args") or {}))
            return AIMessage(content=text, tool_calls=again.tool_calls)
        return AIMessage(content=text, additional_kwargs=kwargs)

    def _second_step(
        self,
        messages: Sequence[BaseMessage],
        planned: nlu.Intent,
        result: ToolMessage,
        lang: str,
        conv: Conversation,
        human_text: str = "",
    ) -> AIMessage:
        data = parse_content(result.content)
        assert planned.lookup is not None
        if not isinstance(data, dict) or "error" in data:
            return AIMessage(content=word_result(planned.lookup[0], data, result.status, lang, ""))
        person = planned.person or ""
        if planned.lookup[0] == "list_employees":
            rows = [
                (e.get("employee_id"), str(e.get("full_name", "")))
                for e in data.get("employees") or []
                if isinstance(e, dict)
            ]
            found = _by_name(rows, person)
            if not found:
                # Never fall back to the user's own: say plainly what cannot be shown.
                key = "others_payslip" if planned.tool == "fetch_payslip" else "not_found_person"
                return self._say(nlu.Reply(key, {"name": person}), lang, conv)
            if len({m[0] for m in found}) > 1:
                names = ", ".join(m[1] for m in found)
                return self._say(nlu.Reply("ambiguous_person", {"names": names}), lang, conv)
            args = {"employee_id": found[0][0], **planned.args}
            return self._act(messages, nlu.Intent(planned.tool, args), lang, conv)
        if planned.lookup[0] == "list_hr_cases":
            return self._answer_case(messages, planned, data, lang, conv)
        requests = [
            r
            for r in data.get("requests") or []
            if isinstance(r, dict) and r.get("status") == "pending"
        ]
        if person == "__self__":
            own_name = conv.user_name or ""
            matches = [r for r in requests if r.get("employee_name") == own_name] or requests
            if not matches:
                return self._say(nlu.Reply("no_pending_own"), lang, conv)
        elif person == "__any__":
            matches = requests
            if not matches:
                return AIMessage(
                    content=word_result("list_leave_requests", data, "success", lang, "")
                )
        else:
            rows = [(r.get("request_id"), str(r.get("employee_name", ""))) for r in requests]
            ids: set[Any] = set()
            for candidate in person.split("|"):  # names in the message, most telling first
                ids = {m[0] for m in _by_name(rows, candidate)}
                if ids:
                    person = candidate
                    break
            matches = [r for r in requests if r.get("request_id") in ids]
            if not matches:
                name = person.split("|")[0]
                return self._say(nlu.Reply("no_pending_for", {"name": name}), lang, conv)
        if len(matches) > 1:
            # "the one from the 7th", "the request for the 10th": the dates named pick it.
            said = normalize(human_text)
            span = resolve_span(said, conv.today)
            on = [r for r in matches if span.start in _days_of(r)] if span else []
            if not on and (m := _DAY_OF_MONTH.search(said)):
                day = int(m["day"] or m["nth"])
                on = [r for r in matches if any(d.day == day for d in _days_of(r))]
            matches = on or matches
        if len(matches) > 1:
            options = [
                {
                    "id": r["request_id"],
                    "start": str(r.get("start_date")),
                    "label": r.get("summary"),
                }
                for r in matches[:10]
            ]
            choices = "; ".join(
                str(o["label"]) if str(o["label"]).startswith("#") else f"#{o['id']} {o['label']}"
                for o in options
            )
            key = "need_request" if person in ("__self__", "__any__") else "several_pending_for"
            state = {
                "kind": "choose_request",
                "tool": planned.tool,
                "args": planned.args,
                "options": options,
            }
            return self._say(
                nlu.Reply(key, {"choices": choices, "name": person}, state=state), lang, conv
            )
        args = {"request_id": matches[0]["request_id"], **planned.args}
        return self._act(messages, nlu.Intent(planned.tool, args), lang, conv)

    def _answer_case(
        self,
        messages: Sequence[BaseMessage],
        planned: nlu.Intent,
        data: dict[str, Any],
        lang: str,
        conv: Conversation,
    ) -> AIMessage:
        cases = [c for c in data.get("cases") or [] if isinstance(c, dict)]
        person = planned.person or "__any__"
        matches = cases
        if person != "__any__":
            rows = [(c.get("case_id"), str(c.get("employee_name", ""))) for c in cases]
            for candidate in person.split("|"):
                ids = {m[0] for m in _by_name(rows, candidate)}
                if ids:
                    matches = [c for c in cases if c.get("case_id") in ids]
                    break
            else:
                matches = []
        if len(matches) != 1:
            return AIMessage(content=word_result("list_hr_cases", data, "success", lang, ""))
        args = {"case_id": matches[0]["case_id"], **planned.args}
        return self._act(messages, nlu.Intent(planned.tool, args), lang, conv)

    def _call(
        self,
        messages: Sequence[BaseMessage],
        tool: str,
        args: dict[str, Any],
        *more: dict[str, Any],
    ) -> AIMessage:
        number = 1 + sum(len(m.tool_calls) for m in messages if isinstance(m, AIMessage))
        schema = self.tool_schemas.get(tool) or {}
        calls = [
            {"name": tool, "args": _fit(a, schema), "id": f"call_{number + i}", "type": "tool_call"}
            for i, a in enumerate((args, *more))
        ]
        return AIMessage(content="", tool_calls=calls)


def _leads_to(state: dict[str, Any] | None) -> str | None:
    """The tool a question's answer would end in: "which dates?" leads to request_leave."""
    if not state:
        return None
    kind = state.get("kind")
    if kind in ("confirm", "choose_request", "month"):
        return str(state.get("tool") or "") or None
    return {"review": "submit_review", "reason": "approve_leave", "dates": "request_leave",
            "date_choice": "request_leave", "message": "send_message"}.get(str(kind))  # fmt: skip


@functools.cache
def _changing_tools() -> frozenset[str]:
    """The tools that change data: never called on the way back to a waiting action."""
    return frozenset(spec.name for spec in all_tools() if spec.changes_state)


def _last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], kind):
            return i
    return None


def _days_of(request: dict[str, Any]) -> list[date]:
    """Every day a listed leave request covers (none when its dates cannot be read)."""
    try:
        start = date.fromisoformat(str(request.get("start_date")))
        end = date.fromisoformat(str(request.get("end_date")))
    except ValueError:
        return []
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


#: A day of the month on its own: "the 10th", "for the 3rd", "tarehe 10".
_DAY_OF_MONTH = re.compile(
    r"\b(?:the|tarehe|ya)\s+(?P<day>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b"
    r"|\b(?P<nth>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b"
)


def _relevant(data: Any) -> bool:
    """Whether a policy search found passages that answer the question (see the tool)."""
    return isinstance(data, dict) and bool(data.get("results")) and bool(data.get("answers"))


def _open_question(messages: Sequence[BaseMessage], index: int) -> dict[str, Any] | None:
    """The question our last reply before message `index` left open, if any."""
    previous = _last_index(messages[:index], AIMessage)
    if previous is None:
        return None
    state = messages[previous].additional_kwargs.get(nlu.STATE_KEY)
    return state if isinstance(state, dict) else None


def _dropped_action(messages: Sequence[BaseMessage], index: int) -> dict[str, Any] | None:
    """The call that waited for a yes and was dropped because this message said neither."""
    before = list(messages[:index])
    while before and isinstance(before[-1], AIMessage) and not before[-1].text.strip():
        before.pop()  # our own silence after the drop
    last_tool = _last_index(before, ToolMessage)
    if last_tool is None or last_tool != len(before) - 1:
        return None
    message = before[last_tool]
    if not isinstance(message, ToolMessage) or REJECT_MOVED_ON not in message.text:
        return None
    calls = [c for m in before if isinstance(m, AIMessage) for c in m.tool_calls]
    call = next((c for c in calls if c.get("id") == message.tool_call_id), None)
    return dict(call) if call else None


def _times_asked(messages: Sequence[BaseMessage], index: int, call: dict[str, Any]) -> int:
    """How many times in a row this same action was asked about and answered unclearly."""
    count = 0
    for message in reversed(messages[:index]):
        if isinstance(message, AIMessage) and not message.tool_calls:
            continue
        if isinstance(message, ToolMessage):
            if REJECT_MOVED_ON in message.text and message.name == call["name"]:
                count += 1
                continue
            break
    return count


def _amended(
    call: dict[str, Any], text: str, conv: Conversation, lang: str, asked: int
) -> nlu.Intent | None:
    """The dropped action again, changed as `text` says ("no, make it Tuesday"), or None.

    A reply that is neither a change nor anything else asks the same question once more.
    """
    args = dict(call.get("args") or {})
    if call["name"] == "request_leave":
        changed = nlu.amend_leave(args, text, conv)
        if changed is not None:
            return nlu.Intent("request_leave", changed)
    if call["name"] == "approve_leave":
        words = tokens(normalize(text))
        if has_any(words, ("reject", "kataa", "decline")) and args.get("decision") != "reject":
            return None
    guess = nlu.classify(text)
    if guess.confidence >= nlu.SURE and guess.intent not in ("affirm", "deny"):
        return None  # something else altogether
    if asked <= 1:
        return nlu.Intent(call["name"], args)
    return None


def _by_name(rows: list[tuple[Any, str]], person: str) -> list[tuple[Any, str]]:
    wanted = tokens(normalize(person))
    if not wanted:
        return []
    return [row for row in rows if all(w in tokens(normalize(row[1])) for w in wanted)]


def _fit(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Keep only the arguments the bound schema knows; put free text where it expects it."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return args
    fitted = {k: v for k, v in args.items() if k in properties}
    for key in set(args) - set(fitted):
        if key in _TEXT_FIELDS:
            target = next((f for f in _TEXT_FIELDS if f in properties and f not in fitted), None)
            if target is None:
                target = next(
                    (
                        f
                        for f in schema.get("required", [])
                        if properties.get(f, {}).get("type") == "string" and f not in fitted
                    ),
                    None,
                )
            if target is not None:
                fitted[target] = args[key]
    return fitted
