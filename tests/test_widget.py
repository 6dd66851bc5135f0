"""The web chat widget's server side: the script, the pages, CORS, and the live stream of
in-app notifications (over a real server: an endless event stream needs real sockets)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.middleware import HTML_CSP
from api.routes import web
from hrcore.actor import Channel
from hrcore.auth.service import open_session
from hrcore.config import get_settings
from hrcore.notifications import live
from hrcore.notifications.service import notify
from hrcore.people.models import User
from tests.factories import arranged, make_org, make_user

STREAM = web.STREAM_PATH


@pytest.fixture
def client(session: Session) -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


# ------------------------------------------------------------------ the script and the pages


def test_the_widget_script_is_javascript_cached_briefly_and_revalidated(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == web.SCRIPT_CACHE
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    etag = response.headers["etag"]

    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_the_widget_never_puts_a_token_in_a_url_or_storage(client: TestClient) -> None:
    script = client.get("/widget.js").text
    code = "\n".join(
        line for line in script.splitlines() if not line.lstrip().startswith(("*", "/*", "//"))
    )
    assert not re.search(r"[?&](access_|refresh_)?token=", code, re.IGNORECASE)
    assert not re.search(r"(localStorage|sessionStorage|document\.cookie)", code)
    assert "EventSource" not in code  # it would need the token in the URL
    # Tokens travel in the Authorization header; no origin but the configured server is called.
    assert "Authorization = `Bearer ${token}`" in code
    assert not re.search(r"https?://", code)
    assert "fetch(base + path" in code
    assert code.count("fetch(") == 1


def test_the_chat_page_hosts_the_widget_under_the_strict_page_policy(client: TestClient) -> None:
    response = client.get("/chat")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<script src="/widget.js"' in html
    assert 'data-open="true"' in html
    # Nothing inline for the policy to allow: every script has a src, no style attributes.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert "style=" not in html

    csp = response.headers["content-security-policy"]
    assert csp == HTML_CSP
    assert "script-src 'self';" in csp
    assert "default-src 'self'" in csp  # connect-src: the chat and notification streams
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "http" not in csp  # no other origin

    styles = client.get("/chat.css")
    assert styles.status_code == 200
    assert styles.headers["content-type"] == "text/css; charset=utf-8"


def test_the_start_page_links_the_chat_and_the_docs(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/chat"' in response.text
    assert 'href="/docs"' in response.text


def test_cors_is_off_unless_origins_are_configured(client: TestClient) -> None:
    preflight = {
        "Origin": "https://intranet.example.co.ke",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    response = client.options("/api/v1/chat/stream", headers=preflight)
    assert "access-control-allow-origin" not in response.headers


def test_cors_answers_only_the_configured_widget_origins(session: Session) -> None:
    settings = get_settings().model_copy(
        update={"widget_origins": ["https://intranet.example.co.ke"]}
    )
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    asks = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, last-event-id",
    }

    allowed = client.options(STREAM, headers={"Origin": "https://intranet.example.co.ke", **asks})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://intranet.example.co.ke"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers

    other = client.options(STREAM, headers={"Origin": "https://evil.example", **asks})
    assert "access-control-allow-origin" not in other.headers


# ------------------------------------------------------------------ live notifications


def test_the_notification_stream_needs_a_token(client: TestClient) -> None:
    response = client.get(STREAM)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"

    forged = client.get(STREAM, headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401


@contextmanager
def serving() -> Iterator[str]:
    """The app under uvicorn on a free port, in a thread of this process (same database)."""
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Events:
    """Server-sent events read one at a time from a streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> tuple[str, dict[str, Any] | str, str | None]:
        """(event, data, id); a comment comes back as ("comment", text, None)."""
        event, data, event_id = "message", [], None
        for line in self.lines:
            if line.startswith(":"):
                return "comment", line[1:].strip(), None
            if not line:
                if data:
                    return event, json.loads("\n".join(data)), event_id
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
        raise EOFError("the stream ended")

    def next_event(self) -> tuple[str, dict[str, Any], str | None]:
        while True:
            event, data, event_id = self.next()
            if event != "comment":
                assert isinstance(data, dict)
                return event, data, event_id


@pytest.fixture
def people(committed_engine: Engine) -> dict[str, int]:
    """Two colleagues in one organization, committed for real (the server reads them)."""
    with arranged() as session:
        org = make_org(session)
        john = make_user(session, org, full_name="John Kamau")
        amina = make_user(session, org, full_name="Amina Hassan")
        return {"john": john.id, "amina": amina.id}


def token_for(user_id: int) -> str:
    with arranged() as session:
        user = session.get(User, user_id)
        assert user is not None
        return open_session(session, user).access_token


def store(user_id: int, text: str, channel: Channel = Channel.WEB) -> None:
    with arranged() as session:
        user = session.get(User, user_id)
        assert user is not None
        notify(session, user, kind="test.news", text=text, channel=channel)


def test_a_stored_in_app_notification_reaches_its_recipient_and_nobody_else(
    people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "HEARTBEAT_S", 0.3)
    store(people["john"], "Stored before you connected")
    auth = {"Authorization": f"Bearer {token_for(people['john'])}"}
    with (
        serving() as base,
        httpx.Client(base_url=base, timeout=10) as http,
        http.stream("GET", STREAM, headers=auth) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        events = Events(response)
        assert events.next_event()[0] == "ready"  # listening: older notifications are not sent

        assert events.next() == ("comment", "heartbeat", None)

        store(people["amina"], "For Amina only")
        store(people["john"], "Sent by SMS, not in the app", channel=Channel.SMS)
        store(people["john"], "Your leave was approved")
        event, data, event_id = events.next_event()
        assert event == "notification"
        assert data["text"] == "Your leave was approved"
        assert data["kind"] == "test.news"
        assert event_id == str(data["id"])
        assert set(data) == {"id", "kind", "text", "created_at"}


def test_a_reconnecting_reader_gets_what_was_stored_meanwhile(people: dict[str, int]) -> None:
    auth = {"Authorization": f"Bearer {token_for(people['john'])}"}
    with serving() as base, httpx.Client(base_url=base, timeout=10) as http:
        with http.stream("GET", STREAM, headers=auth) as response:
            events = Events(response)
            assert events.next_event()[0] == "ready"
            store(people["john"], "First")
            _, first, last_id = events.next_event()
            assert first["text"] == "First"

        store(people["john"], "While you were away")
        store(people["john"], "And this too")
        resumed = {**auth, "Last-Event-ID": str(last_id)}
        with http.stream("GET", STREAM, headers=resumed) as response:
            events = Events(response)
            assert events.next_event()[0] == "ready"
            texts = [events.next_event()[1]["text"] for _ in range(2)]
            assert texts == ["While you were away", "And this too"]


def test_the_stream_ends_with_its_session_and_frees_its_listener(
    people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "HEARTBEAT_S", 0.2)
    with arranged() as session:
        user = session.get(User, people["john"])
        assert user is not None
        pair = open_session(session, user)
    auth = {"Authorization": f"Bearer {pair.access_token}"}
    with serving() as base, httpx.Client(base_url=base, timeout=10) as http:
        with http.stream("GET", STREAM, headers=auth) as response:
            events = Events(response)
            assert events.next_event()[0] == "ready"
            assert sum(lst.total_waiting for lst in list(live._listeners.values())) == 1

            ended = http.post("/api/v1/auth/logout", json={"refresh_token": pair.refresh_token})
            assert ended.status_code == 204
            event, data, _ = events.next_event()
            assert (event, data["status"], data["code"]) == ("error", 401, "session_ended")
            with pytest.raises(EOFError):
                events.next()

        # A client that leaves is noticed at once: its waiter and the LISTEN connection go.
        with http.stream("GET", STREAM, headers=auth) as response:
            assert response.status_code == 401
        other = {"Authorization": f"Bearer {token_for(people['amina'])}"}
        with http.stream("GET", STREAM, headers=other) as response:
            assert Events(response).next_event()[0] == "ready"
        deadline = time.monotonic() + 5
        while sum(lst.total_waiting for lst in list(live._listeners.values())):
            assert time.monotonic() < deadline, "the departed reader is still waiting"
            time.sleep(0.05)


def test_too_many_open_streams_for_one_person_are_refused(
    people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "MAX_WAITERS_PER_USER", 1)
    auth = {"Authorization": f"Bearer {token_for(people['john'])}"}
    with (
        serving() as base,
        httpx.Client(base_url=base, timeout=10) as http,
        http.stream("GET", STREAM, headers=auth) as response,
    ):
        events = Events(response)  # kept: dropping it would close the stream
        assert events.next_event()[0] == "ready"
        second = http.get(STREAM, headers=auth)
        assert second.status_code == 429
        assert second.json()["code"] == "too_many_streams"
