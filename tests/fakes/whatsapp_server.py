"""A local stand-in for the WhatsApp Cloud API (Graph API): answers like Meta's documented
send response, and records every request.

The sender is pointed at it through `WHATSAPP_GRAPH_URL`; answers can be scripted (a 500,
a 400 with Graph's error body) before the default 200 with a fresh `wamid`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import serving

VERSION = "v23.0"
PHONE_NUMBER_ID = "109876543210987"
TOKEN = "EAAG-test-only-not-a-real-token"


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status and a JSON body."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class SentRequest:
    """What the sender posted: the path, the `Authorization` header and the JSON body."""

    path: str
    authorization: str | None
    content_type: str | None
    body: dict[str, Any]

    @property
    def to(self) -> str:
        return str(self.body.get("to"))

    @property
    def type(self) -> str:
        return str(self.body.get("type"))


@dataclass
class FakeGraph:
    """The server's state: requests seen, the answers still scripted, the ids it gave."""

    base_url: str = ""
    requests: list[SentRequest] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    given_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with `answers`, then as the live API does."""
        with self.lock:
            self.script.extend(answers)

    def sent(self) -> list[SentRequest]:
        with self.lock:
            return list(self.requests)

    def sent_to(self, number: str) -> list[SentRequest]:
        """The requests for one recipient (digits, no `+`)."""
        return [r for r in self.sent() if r.to == number.removeprefix("+")]

    def _next(self, body: dict[str, Any]) -> Answer:
        with self.lock:
            if self.script:
                return self.script.pop(0)
            wamid = "wamid.HBgM" + secrets.token_urlsafe(24)
            self.given_ids.append(wamid)
        return accepted(str(body.get("to")), wamid)


def accepted(to: str, wamid: str) -> Answer:
    """The documented 200 (shared/channels/whatsapp/send_response.json)."""
    return Answer(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        },
    )


def graph_error(status: int, code: int, message: str, details: str = "") -> Answer:
    """Graph's error body: `{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}`."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf" + secrets.token_hex(4),
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Answer(status, {"error": error})


UNAVAILABLE = graph_error(500, 131000, "Something went wrong")
INVALID_PARAMETER = graph_error(
    400, 131009, "(#131009) Parameter value is not valid", "Button title length invalid."
)
RE_ENGAGEMENT = graph_error(
    400,
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
)


def _handler(state: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unreadable": raw.decode(errors="replace")}
            with state.lock:
                state.requests.append(
                    SentRequest(
                        self.path,
                        self.headers.get("Authorization"),
                        self.headers.get("Content-Type"),
                        body,
                    )
                )
            if self.path != f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
                answer = graph_error(400, 100, "Unsupported post request.")
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                answer = graph_error(401, 190, "Invalid OAuth access token.")
            else:
                answer = state._next(body)
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running() -> Iterator[FakeGraph]:
    """Serve the stand-in on a free loopback port for the block."""
    state = FakeGraph()
    with serving(_handler(state)) as base:
        state.base_url = base + f"/{VERSION}"
        yield state
