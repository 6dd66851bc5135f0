"""A local OpenAI-compatible chat completions server, scripted by the last user message.

It answers POST /v1/chat/completions with real `tool_calls` JSON (arguments as a
JSON string), as a plain JSON body or as server-sent events when "stream" is true.
Like OpenAI, it refuses (400) a conversation whose tool calls and tool results do not
pair up. It can also fail: a 500, an answer slower than the client waits, a body that
is not JSON, a completion without choices. POST /v1/embeddings answers with stable
vectors, each request after `embed_delay_s`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import serving

#: What the model does for a user message: the tool call to make first (or None),
#: then the reply, built from the tool's JSON result (None when no tool ran).
Reply = Callable[[dict[str, Any] | None], str]


@dataclass
class Step:
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    reply: Reply = lambda result: "OK."
    #: Sent as the call's `arguments` instead of `args` as JSON (a model's broken output).
    raw_args: str | None = None


#: What the server does with a request: answer, or fail in one of these ways.
MODES = ("ok", "500", "slow", "not_json", "no_choices")


@dataclass
class FakeOpenAI:
    script: dict[str, Step]
    mode: str = "ok"  # one of MODES
    delay_s: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    #: Why requests were refused as invalid (400), as OpenAI would refuse them.
    refused: list[str] = field(default_factory=list)
    embed_delay_s: float = 0.0
    #: How many texts each embeddings request carried, in order.
    embedded: list[int] = field(default_factory=list)

    def respond(self, body: dict[str, Any]) -> dict[str, Any]:
        """The assistant message for a request body."""
        messages = body["messages"]
        last_user = next(m for m in reversed(messages) if m["role"] == "user")
        step = self.script.get(_text(last_user), Step(reply=lambda r: "I don't know that one."))
        if messages[-1]["role"] == "user" and step.tool:
            n = len(self.requests)
            return {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{n}",
                        "type": "function",
                        "function": {
                            "name": step.tool,
                            "arguments": step.raw_args
                            if step.raw_args is not None
                            else json.dumps(step.args),
                        },
                    }
                ],
            }
        result = None
        if messages[-1]["role"] == "tool":
            try:
                result = json.loads(_text(messages[-1]))
            except ValueError:
                result = {"error": {"code": "refused", "message": _text(messages[-1])}}
        return {"role": "assistant", "content": step.reply(result)}


class OfflineBackedOpenAI(FakeOpenAI):
    """An OpenAI-compatible server whose answers come from the offline model.

    The request's messages and tools are read exactly as an OpenAI endpoint would
    receive them from `ChatOpenAI`, handed to `OfflineChatModel`, and its message is
    sent back as OpenAI JSON. So any conversation the offline model can hold also
    runs end to end over HTTP through the `ChatOpenAI` path.
    """

    def __init__(self) -> None:
        super().__init__(script={})

    def respond(self, body: dict[str, Any]) -> dict[str, Any]:
        from langchain_openai.chat_models.base import (
            _convert_dict_to_message,
            _convert_message_to_dict,
        )

        from assistant.offline import OfflineChatModel

        messages = [_convert_dict_to_message(m) for m in body["messages"]]
        model = OfflineChatModel().bind_tools(body.get("tools") or [])
        answer = _convert_message_to_dict(model.invoke(messages))
        if answer.get("tool_calls"):
            answer["content"] = None
        return answer


def unpaired_tool_calls(messages: list[dict[str, Any]]) -> str | None:
    """Why OpenAI would refuse `messages`, or None: every assistant tool call must be
    answered by a tool message right after it, and every tool message must answer one."""
    waiting: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in waiting:
                return f"messages.[{i}]: a 'tool' message must answer a preceding 'tool_calls'"
            waiting.discard(call_id)
            continue
        if waiting:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. Missing: {sorted(waiting)}"
            )
        for call in message.get("tool_calls") or []:
            if not isinstance(call.get("function", {}).get("arguments"), str):
                return f"messages.[{i}].tool_calls: arguments must be a string"
            waiting.add(call["id"])
    return None


def embedding(text: str, dimension: int) -> list[float]:
    """A stable unit vector for `text` (not a meaningful one)."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [seed[i % len(seed)] - 127.5 + i % 7 for i in range(dimension)]
    norm = math.sqrt(sum(x * x for x in raw))
    return [x / norm for x in raw]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            # The client may have given up (the timeout test); nothing to tell it then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer()

        def _answer(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.endswith("/embeddings"):
                self._embeddings(body)
                return
            fake.requests.append(body)
            invalid = unpaired_tool_calls(body["messages"])
            if invalid is not None:
                fake.refused.append(invalid)
                self._send(
                    400,
                    {"error": {"message": invalid, "type": "invalid_request_error", "code": None}},
                )
                return
            if fake.mode == "500":
                self._send(500, {"error": {"message": "upstream exploded", "type": "server"}})
                return
            if fake.mode == "slow":
                time.sleep(fake.delay_s)
            if fake.mode == "not_json":
                self._send_raw(200, b'{"id": "chatcmpl-1", "choices": [{"index": 0, "mess')
                return
            if fake.mode == "no_choices":
                self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "choices": []})
                return
            message = fake.respond(body)
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            if body.get("stream"):
                self._stream(message, finish)
            else:
                self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                    },
                )

        def _embeddings(self, body: dict[str, Any]) -> None:
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            time.sleep(fake.embed_delay_s)
            fake.embedded.append(len(texts))
            dimension = int(body.get("dimensions") or 384)
            data = [
                {"object": "embedding", "index": i, "embedding": embedding(text, dimension)}
                for i, text in enumerate(texts)
            ]
            self._send(200, {"object": "list", "data": data, "model": body["model"]})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(payload).encode())

        def _send_raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, message: dict[str, Any], finish: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            deltas: list[dict[str, Any]] = []
            if message.get("tool_calls"):
                deltas.append(
                    {
                        "role": "assistant",
                        "tool_calls": [{"index": 0, **message["tool_calls"][0]}],
                    }
                )
            else:
                deltas += [{"role": "assistant", "content": ""}]
                deltas += [{"content": word} for word in _words(message["content"])]
            for delta in deltas:
                self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            self.wfile.write(b"data: [DONE]\n\n")

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())

    return Handler


def _words(text: str) -> Iterator[str]:
    parts = text.split(" ")
    for i, part in enumerate(parts):
        yield part if i == len(parts) - 1 else part + " "


@contextmanager
def serve(script: dict[str, Step] | FakeOpenAI) -> Iterator[FakeOpenAI]:
    """Run the fake (or a scripted one) on 127.0.0.1, a free port, for the block."""
    fake = script if isinstance(script, FakeOpenAI) else FakeOpenAI(script=script)
    with serving(_handler(fake)) as base:
        fake.base_url = base + "/v1"
        yield fake
