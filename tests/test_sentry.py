"""Sentry: off without a DSN, and nothing personal in what it sends when on.

A local HTTP server stands in for Sentry's ingest (the DSN's host), so the events
checked are the ones the SDK really sends, after `before_send`.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from fastapi.testclient import TestClient

from api.app import create_app
from hrcore.config import Settings, get_settings
from hrcore.observability import FILTERED, init_sentry, scrub, scrub_text

PHONE = "+254712345678"
NATIONAL_ID = "28765432"
PIN = "4321"
EMAIL = "john.kamau@example.co.ke"


@dataclass
class FakeSentry:
    dsn: str = ""
    envelopes: list[list[dict[str, Any]]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                item
                for envelope in self.envelopes
                for item in envelope
                if "exception" in item or "logentry" in item or "message" in item
            ]


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return brotli.decompress(body)  # type: ignore[no-any-return]
    return body


def _handler(state: FakeSentry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = _decode(self.rfile.read(length), self.headers.get("Content-Encoding", ""))
            items = [json.loads(line) for line in body.splitlines() if line.strip()]
            with state.lock:
                state.raw.append(body)
                state.envelopes.append(items)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    state = FakeSentry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sentry_on(fake_sentry: FakeSentry, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSentry]:
    monkeypatch.setenv("SENTRY_DSN", fake_sentry.dsn)
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "staging")
    get_settings.cache_clear()
    try:
        yield fake_sentry
    finally:
        sentry_sdk.flush(timeout=2)
        sentry_sdk.get_client().close(timeout=2)
        monkeypatch.delenv("SENTRY_DSN")
        get_settings.cache_clear()
        sentry_sdk.init()  # no DSN: a client that sends nothing, for the tests after


def test_without_a_dsn_nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    get_settings.cache_clear()
    assert get_settings().sentry_dsn is None
    assert init_sentry("cli") is False
    assert not sentry_sdk.get_client().is_active()
    # An empty value counts as unset.
    monkeypatch.setenv("SENTRY_DSN", "  ")
    get_settings.cache_clear()
    try:
        assert init_sentry("worker") is False
    finally:
        get_settings.cache_clear()


def test_scrub_removes_bodies_credentials_and_personal_numbers() -> None:
    event = {
        "message": f"could not text {PHONE} about id {NATIONAL_ID}",
        "request": {
            "url": "http://127.0.0.1/api/v1/ussd",
            "method": "POST",
            "data": {"phoneNumber": PHONE, "text": f"1*4*{PIN}"},
            "cookies": {"session": "abc"},
            "query_string": f"phone={PHONE}",
            "headers": {
                "Authorization": "Bearer eyJ.secret.token",
                "Cookie": "session=abc",
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "shh",
            },
        },
        "user": {"id": "7", "email": EMAIL, "ip_address": "10.0.0.9"},
        "extra": {
            "pin": PIN,
            "national_id": NATIONAL_ID,
            "phone_number": "0712 345 678",
            "count": 3,
            "note": f"user typed PIN {PIN} then 1*2*{PIN}",
            "mapping": "kept",
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "httpx",
                    "data": {"url": "https://api.telegram.org/bot123456789:AAE-secret/sendMessage"},
                },
                {"message": f"mail to {EMAIL}"},
            ]
        },
        "exception": {
            "values": [{"type": "ValueError", "value": f"bad national id {NATIONAL_ID}"}]
        },
    }

    cleaned = scrub(event, {})

    assert cleaned is not None
    flat = json.dumps(cleaned)
    for secret in (PHONE, NATIONAL_ID, EMAIL, "eyJ.secret.token", "session=abc", "AAE-secret"):
        assert secret not in flat, secret
    assert PIN not in flat
    assert "345 678" not in flat
    request = cleaned["request"]
    assert "data" not in request
    assert "cookies" not in request
    assert set(request["headers"]) == {"Content-Type"}
    assert request["query_string"] == FILTERED
    assert cleaned["user"] == {"id": "7"}
    assert cleaned["extra"]["count"] == 3
    assert cleaned["extra"]["mapping"] == "kept"
    assert cleaned["exception"]["values"][0]["type"] == "ValueError"
    assert cleaned["exception"]["values"][0]["value"] == f"bad national id {FILTERED}"


def test_scrub_text_keeps_ordinary_numbers() -> None:
    assert scrub_text("request 12 for 2026-11-23, 5 days, line 4821") == (
        "request 12 for 2026-11-23, 5 days, line 4821"
    )
    assert scrub_text(f"call 0712 345 678 or {PHONE}") == f"call {FILTERED} or {FILTERED}"


def test_an_api_error_reaches_sentry_scrubbed(sentry_on: FakeSentry) -> None:
    app = create_app()

    def boom() -> None:
        raise RuntimeError(f"payroll failed for {PHONE}, id {NATIONAL_ID}, pin {PIN}")

    app.add_api_route("/test-boom", boom, methods=["POST"])
    client = TestClient(app, raise_server_exceptions=False)

    response = client.post(
        "/test-boom?msisdn=" + PHONE,
        json={"phone": PHONE, "pin": PIN},
        headers={"Authorization": "Bearer very-secret-token", "Cookie": "sid=xyz"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    events = sentry_on.events()
    assert events, "no event reached the stand-in"
    event = events[-1]
    assert event["environment"] == "staging"
    assert event["tags"]["component"] == "api"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    raw = b"".join(sentry_on.raw).decode()
    for secret in (PHONE, NATIONAL_ID, f"pin {PIN}", "very-secret-token", "sid=xyz"):
        assert secret not in raw, secret
    request = event.get("request", {})
    assert "data" not in request
    assert not {h.lower() for h in request.get("headers", {})} & {"authorization", "cookie"}
    # Local variables are never collected, so they cannot leak either.
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert all("vars" not in frame for frame in frames)


def test_the_worker_and_cli_report_with_their_component(sentry_on: FakeSentry) -> None:
    settings = Settings()
    assert init_sentry("worker", settings=settings) is True
    try:
        raise ValueError(f"sms to {PHONE} refused")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=5)

    event = sentry_on.events()[-1]
    assert event["tags"]["component"] == "worker"
    assert event["exception"]["values"][-1]["value"] == f"sms to {FILTERED} refused"
    assert "celery" in {i.lower() for i in event["sdk"].get("integrations", [])}
