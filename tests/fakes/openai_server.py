"""A local OpenAI-compatible chat completions server, scripted by the last user message.

It answers POST /v1/chat/completions with real `tool_calls` JSON (arguments as a
JSON string), as a plain JSON body or as server-sent events when "stream" is true.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What the model does for a user message: the tool call to make first (or None),
#: then the reply, built from the tool's JSON result (None when no tool ran).
Reply = Callable[[dict[str, Any] | None], str]


@dataclass
class Step:
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    reply: Reply = lambda result: "OK."


@dataclass
class FakeOpenAI:
    script: dict[str, Step]
    mode: str = "ok"  # "ok", "500" or "slow"
    delay_s: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

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
                        "function": {"name": step.tool, "arguments": json.dumps(step.args)},
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
            fake.requests.append(body)
            if fake.mode == "500":
                self._send(500, {"error": {"message": "upstream exploded", "type": "server"}})
                return
            if fake.mode == "slow":
                time.sleep(fake.delay_s)
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

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
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
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
