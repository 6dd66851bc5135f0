"""A local stand-in for Africa's Talking's SMS API: answers like the documented send response.

The SDK is pointed at it through `AT_API_BASE_URL` (`base_url`); every request is kept, and
answers can be scripted (a 503, a 401, a refused recipient) before the default 201.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http import serving


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status, a body, and its content type."""

    status: int
    body: str
    content_type: str = "application/json"


@dataclass(frozen=True)
class SentRequest:
    """What the SDK sent: the path, the `apiKey` header and the form fields."""

    path: str
    api_key: str | None
    form: dict[str, str]


@dataclass
class FakeAfricasTalking:
    """The server's state: requests seen, answers still scripted, and a delay per answer."""

    base_url: str = ""
    requests: list[SentRequest] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with `answers`, then as the live API does."""
        with self.lock:
            self.script.extend(answers)

    def sent(self) -> list[SentRequest]:
        with self.lock:
            return list(self.requests)

    def _next(self, form: dict[str, str]) -> Answer:
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return accepted(form.get("to", "").split(","))


def accepted(numbers: list[str], *, status_code: int = 101) -> Answer:
    """The documented 201: one recipient entry per number, each with a fresh messageId."""
    recipients = [
        {
            "statusCode": status_code,
            "number": number,
            "status": "Success" if status_code in (100, 101, 102) else "InvalidPhoneNumber",
            "cost": "KES 0.8000",
            "messageId": f"ATXid_{secrets.token_hex(16)}",
        }
        for number in numbers
    ]
    body = {
        "SMSMessageData": {
            "Message": f"Sent to {len(numbers)}/{len(numbers)} Total Cost: KES 0.8000",
            "Recipients": recipients,
        }
    }
    return Answer(201, json.dumps(body))


def refused_recipient(number: str, status_code: int = 403) -> Answer:
    """A 201 whose one recipient was refused (403 InvalidPhoneNumber by default)."""
    return accepted([number], status_code=status_code)


UNAVAILABLE = Answer(503, "Service Unavailable", "text/plain")
BAD_KEY = Answer(401, "The supplied authentication is invalid", "text/plain")


def _handler(state: FakeAfricasTalking) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            with state.lock:
                state.requests.append(SentRequest(self.path, self.headers.get("apiKey"), form))
            if state.delay_s:
                time.sleep(state.delay_s)
            if self.path != "/version1/messaging":
                answer = Answer(404, "Not Found", "text/plain")
            else:
                answer = state._next(form)
            payload = answer.body.encode()
            self.send_response(answer.status)
            # The SDK parses JSON only when the type is exactly this.
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running(state: FakeAfricasTalking | None = None) -> Iterator[FakeAfricasTalking]:
    """Serve the stand-in (`state`, or a new one) on a free loopback port for the block."""
    state = state if state is not None else FakeAfricasTalking()
    with serving(_handler(state)) as base:
        state.base_url = base + "/version1"
        yield state
