"""The offline chat model: deterministic tool calls and replies, no network."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
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

from assistant.offline.conversation import Conversation, detect_language, read_conversation
from assistant.offline.intents import Intent, Reply, is_yes, understand
from assistant.offline.text import normalize, tokens
from assistant.offline.wording import (
    HR_OFFER_EN,
    HR_OFFER_SW,
    fixed_reply,
    not_allowed,
    parse_content,
    word_result,
)

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
            return AIMessage(content=fixed_reply("help", {}, conv.language, self._bound))
        human_text = messages[last_human].text
        lang = detect_language(human_text, conv.language)
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

    def _on_human(
        self,
        messages: Sequence[BaseMessage],
        index: int,
        text: str,
        conv: Conversation,
        lang: str,
    ) -> AIMessage:
        if is_yes(text) and (question := _offered_hr_for(messages, index)):
            understood: Intent | Reply = Intent("ask_hr", {"question": question})
        else:
            understood = understand(text, conv)
        if isinstance(understood, Reply):
            return AIMessage(
                content=fixed_reply(understood.key, understood.params, lang, self._bound)
            )
        if understood.tool not in self.tool_schemas:
            return AIMessage(content=not_allowed(understood.tool, lang))
        if understood.lookup is not None:
            tool, args = understood.lookup
            if tool not in self.tool_schemas:
                return AIMessage(content=not_allowed(understood.tool, lang))
            return self._call(messages, tool, args)
        return self._call(messages, understood.tool, understood.args)

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
            planned = understand(human_text, conv)
            if (
                isinstance(planned, Intent)
                and planned.lookup is not None
                and planned.person
                and calls[0]["name"] == planned.lookup[0]
            ):
                return self._second_step(messages, planned, results[0], lang)
        last_ai = _last_index(tail, AIMessage)
        answered = tail[last_ai + 1 :] if last_ai is not None else results
        names = {c["id"]: c["name"] for c in calls}
        parts = []
        for message in answered:
            if not isinstance(message, ToolMessage):
                continue
            tool = message.name or names.get(message.tool_call_id, "")
            data = parse_content(message.content)
            parts.append(word_result(tool, data, message.status, lang, conv.timezone))
        return AIMessage(content="\n\n".join(p for p in parts if p) or "OK.")

    def _second_step(
        self, messages: Sequence[BaseMessage], planned: Intent, result: ToolMessage, lang: str
    ) -> AIMessage:
        data = parse_content(result.content)
        if not isinstance(data, dict) or "error" in data:
            return AIMessage(content=word_result(planned.lookup[0], data, result.status, lang, ""))  # type: ignore[index]
        person = planned.person or ""
        if planned.lookup is not None and planned.lookup[0] == "list_employees":
            rows = [
                (e.get("employee_id"), str(e.get("full_name", "")))
                for e in data.get("employees") or []
                if isinstance(e, dict)
            ]
            matches = _by_name(rows, person)
            if not matches:
                # Never fall back to the user's own: say plainly what cannot be shown.
                key = "others_payslip" if planned.tool == "fetch_payslip" else "not_found_person"
                return AIMessage(content=fixed_reply(key, {"name": person}, lang, self._bound))
            if len({m[0] for m in matches}) > 1:
                names = [m[1] for m in matches]
                return AIMessage(
                    content=fixed_reply("ambiguous_person", {"names": names}, lang, self._bound)
                )
            args = {"employee_id": matches[0][0], **planned.args}
        else:
            rows = [
                (r.get("request_id"), str(r.get("employee_name", "")))
                for r in data.get("requests") or []
                if isinstance(r, dict) and r.get("status") == "pending"
            ]
            matches = _by_name(rows, person)
            if not matches:
                return AIMessage(
                    content=fixed_reply("no_pending_for", {"name": person}, lang, self._bound)
                )
            if len(matches) > 1:
                ids = ", ".join(f"#{m[0]}" for m in matches)
                return AIMessage(
                    content=(
                        f"{person} ana maombi kadhaa yanayosubiri ({ids}). Ni lipi?"
                        if lang == "sw"
                        else f"{person} has several pending requests ({ids}). Which one?"
                    )
                )
            args = {"request_id": matches[0][0], **planned.args}
        if planned.tool not in self.tool_schemas:
            return AIMessage(content=not_allowed(planned.tool, lang))
        return self._call(messages, planned.tool, args)

    def _call(self, messages: Sequence[BaseMessage], tool: str, args: dict[str, Any]) -> AIMessage:
        args = _fit(args, self.tool_schemas.get(tool) or {})
        number = 1 + sum(len(m.tool_calls) for m in messages if isinstance(m, AIMessage))
        return AIMessage(
            content="",
            tool_calls=[{"name": tool, "args": args, "id": f"call_{number}", "type": "tool_call"}],
        )


def _last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], kind):
            return i
    return None


def _offered_hr_for(messages: Sequence[BaseMessage], index: int) -> str | None:
    """The earlier question, when our previous reply offered to pass it to hr."""
    previous_ai = _last_index(messages[:index], AIMessage)
    if previous_ai is None:
        return None
    content = messages[previous_ai].text
    if HR_OFFER_EN not in content and HR_OFFER_SW not in content:
        return None
    asked = _last_index(messages[:previous_ai], HumanMessage)
    return messages[asked].text.strip()[:1000] if asked is not None else None


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
