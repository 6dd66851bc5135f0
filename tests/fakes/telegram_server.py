"""A local stand-in for the Telegram Bot API: answers like the documented methods.

python-telegram-bot is pointed at it through `TELEGRAM_API_BASE_URL` (`base_url`), so
requests arrive as `POST /bot<token>/<method>` with form fields (the library sends
objects such as `reply_markup` as JSON strings). Every call is kept; failures can be
scripted per method (a 403 from a blocked bot, a 500, a 429 with `retry_after`), and
getUpdates serves updates queued with `queue_updates`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http import serving

TOKEN = "123456:TEST-only-not-a-real-token"
BOT_USER = {"id": 7012345678, "is_bot": True, "first_name": "Ajira", "username": "ajira_test_bot"}


@dataclass(frozen=True)
class Call:
    """One Bot API call: the method and its parameters (JSON values decoded)."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """A scripted error answer, shaped like Telegram's."""

    status: int
    description: str
    retry_after: int | None = None


BLOCKED = Failure(403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = Failure(400, "Bad Request: chat not found")
SERVER_ERROR = Failure(500, "Internal Server Error")
TOO_MANY = Failure(429, "Too Many Requests: retry after 3", retry_after=3)


@dataclass
class FakeTelegram:
    """The server's state: calls seen, failures still scripted, updates to poll."""

    base_url: str = ""
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    pending_updates: list[dict[str, Any]] = field(default_factory=list)
    webhook_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    def fail(self, method: str, *failures: Failure) -> None:
        """Answer the next calls of `method` with `failures`, then normally."""
        with self.lock:
            self.failures.setdefault(method, []).extend(failures)

    def queue_updates(self, *updates: dict[str, Any]) -> None:
        """Updates for getUpdates to hand out."""
        with self.lock:
            self.pending_updates.extend(updates)

    def of(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        """The sendMessage calls to one chat."""
        return [c for c in self.of("sendMessage") if str(c.params.get("chat_id")) == str(chat_id)]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append(Call(method, params))
            scripted = self.failures.get(method)
            failure = scripted.pop(0) if scripted else None
        if failure is not None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        return 200, {"ok": True, "result": self._result(method, params)}

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            return {
                "message_id": next(self._ids),
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private"},
                "date": int(time.time()),
                "text": params.get("text", ""),
            }
        if method == "setWebhook":
            self.webhook_url = str(params.get("url", ""))
            return True
        if method == "deleteWebhook":
            self.webhook_url = ""
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self.lock:
                ready = [u for u in self.pending_updates if u["update_id"] >= offset]
                self.pending_updates = ready
            if not ready:
                time.sleep(min(float(params.get("timeout") or 0), 0.05))
            return ready
        # answerCallbackQuery, editMessageReplyMarkup (as for an inline message), ...
        return True


def _decode(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _handler(state: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params = json.loads(raw or "{}")
            else:
                params = {
                    k: _decode(v[0]) for k, v in parse_qs(raw, keep_blank_values=True).items()
                }
            prefix = f"/bot{state.token}/"
            if not self.path.startswith(prefix):
                status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            else:
                status, body = state.answer(self.path[len(prefix) :], params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running() -> Iterator[FakeTelegram]:
    """Serve the stand-in on a free loopback port for the block."""
    state = FakeTelegram()
    with serving(_handler(state)) as base:
        state.base_url = base + "/bot"
        yield state


def env(server: FakeTelegram, *, secret: str) -> dict[str, str | None]:
    """Telegram settings pointing the library at the stand-in."""
    return {
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_API_BASE_URL": server.base_url,
    }
