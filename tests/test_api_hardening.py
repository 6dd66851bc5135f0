"""HTTP hardening: body and header limits, security headers, and /docs without a CDN."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from api.app import create_app
from api.middleware import RequestLimits
from hrcore.config import get_settings
from knowledge import background
from tests.factories import Team, bearer

MIB = 1024 * 1024
ASK_HR = "/api/v1/tools/ask_hr"
DOCUMENTS = "/api/v1/knowledge/documents"
QUESTION = {"question": "Can my contract be renewed for two years instead of one?"}
CHUNK = 64 * 1024


@pytest.fixture
def app(session: Session) -> FastAPI:
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@dataclass
class Answer:
    """What an ASGI app sent back, and how much of the request body it pulled."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


def drive(
    app: Any, method: str, path: str, chunks: Iterator[bytes], headers: dict[str, str]
) -> Answer:
    """Call `app` as a server would, streaming `chunks` as the body on demand.

    Unlike TestClient (which reads a body whole before the app starts), this shows how
    many body bytes the app actually pulled through `receive`.
    """
    answer = Answer()
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        chunk = next(chunks, None)
        if chunk is None:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        answer.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return answer


def never_read() -> Iterator[bytes]:
    raise AssertionError("the body was read")
    yield b""  # a generator, so that nothing runs until the first chunk is pulled


def endless(limit: int) -> Iterator[bytes]:
    """Chunks for ever, failing the test if pulled well past `limit`."""
    sent = 0
    while True:
        assert sent <= limit + CHUNK, "the body was read past its limit"
        sent += CHUNK
        yield b"x" * CHUNK


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert "Traceback" not in json.dumps(body)


# Body limits


def test_a_declared_200_mb_body_is_refused_before_a_byte_is_read(app: FastAPI) -> None:
    answer = drive(
        app,
        "POST",
        ASK_HR,
        never_read(),
        {"content-type": "application/json", "content-length": str(200 * MIB)},
    )
    assert answer.status == 413
    assert answer.pulled == 0
    body = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert (body["code"], body["details"]) == ("payload_too_large", {"max_bytes": MIB})
    # The client is told to stop sending; the server need not drain the rest.
    assert answer.headers["connection"] == "close"


def test_a_body_without_length_is_cut_off_at_the_limit(app: FastAPI, team: Team) -> None:
    headers = {"content-type": "application/json", **bearer(team.employee)}
    answer = drive(app, "POST", ASK_HR, endless(MIB), headers)
    assert answer.status == 413
    assert answer.json()["code"] == "payload_too_large"
    assert answer.pulled <= MIB + CHUNK


def test_the_app_never_gets_more_than_the_limit() -> None:
    seen = 0

    async def reader(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal seen
        while True:
            message = await receive()
            seen += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    guarded = RequestLimits(
        reader, max_body_bytes=1000, max_header_count=100, max_header_bytes=8192
    )
    answer = drive(guarded, "POST", "/", iter([b"x" * 600] * 5), {})
    assert answer.status == 413
    assert seen <= 1000
    assert answer.pulled == 1200  # the chunk that crossed the limit never reached the app
    # Under the limit, the same app reads the whole body.
    assert drive(guarded, "POST", "/", iter([b"x" * 500] * 2), {}).status == 200


def test_a_body_under_the_limit_still_works(client: TestClient, team: Team) -> None:
    response = client.post(ASK_HR, json=QUESTION, headers=bearer(team.employee))
    assert response.status_code == 200, response.text
    # Streamed in pieces without a length, too.
    payload = json.dumps(QUESTION).encode()
    answer = drive(
        client.app,
        "POST",
        ASK_HR,
        iter([payload[:20], payload[20:]]),
        {"content-type": "application/json", **bearer(team.teammate)},
    )
    assert answer.status == 200, answer.body


def test_a_json_body_over_the_limit_is_a_413_problem(client: TestClient, team: Team) -> None:
    too_long = {"question": "x" * (MIB + 1)}
    response = client.post(ASK_HR, json=too_long, headers=bearer(team.employee))
    assert_problem(response, 413, "payload_too_large")


def test_the_body_limit_is_a_setting(session: Session) -> None:
    settings = get_settings().model_copy(update={"max_body_bytes": 64})
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    assert client.post(ASK_HR, json={"question": "x" * 64}).status_code == 413
    # Within the limit the request goes on, here to the sign-in check.
    assert client.post(ASK_HR, json={"question": "Hi"}).status_code == 401


def test_document_uploads_keep_their_larger_limit(
    client: TestClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background.thread_dispatch, "submit", lambda _id: None)
    document = b"# Leave Policy\n\n" + b"Annual leave is 21 working days a year.\n" * (
        2 * MIB // 40
    )
    assert len(document) > 2 * MIB - 100
    response = client.post(
        DOCUMENTS,
        headers=bearer(team.hr),
        files={"file": ("leave.md", document, "text/markdown")},
        data={"title": "Leave Policy"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["size_bytes"] == len(document)
    # Past the document limit and its multipart room, refused before it is read.
    huge = b"x" * (10 * MIB + 128 * 1024)
    response = client.post(
        DOCUMENTS, headers=bearer(team.hr), files={"file": ("big.md", huge, "text/markdown")}
    )
    assert_problem(response, 413, "payload_too_large")


# Header limits


def test_too_many_headers_is_a_431_problem(client: TestClient) -> None:
    many = {f"x-extra-{i}": "1" for i in range(101)}
    response = client.get("/healthz", headers=many)
    assert_problem(response, 431, "too_many_headers")
    some = {f"x-extra-{i}": "1" for i in range(50)}
    assert client.get("/healthz", headers=some).status_code == 200


def test_oversized_headers_are_a_431_problem(client: TestClient) -> None:
    response = client.get("/healthz", headers={"x-big": "a" * 20_000})
    assert_problem(response, 431, "headers_too_large")


# Security headers

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}


def assert_security_headers(response: httpx.Response, *, html: bool = False) -> None:
    for name, value in COMMON.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if html:
        assert "default-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "http" not in csp  # no CDN host
    else:
        assert csp.startswith("default-src 'none'")
    assert "strict-transport-security" not in response.headers  # plain HTTP here


def test_security_headers_on_json_problems_and_pages(client: TestClient) -> None:
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert_security_headers(ok)
    missing = client.get("/no/such/page")
    assert_problem(missing, 404, "not_found")
    assert_security_headers(missing)
    assert_security_headers(client.post(ASK_HR, content=b"x" * (MIB + 1)))  # the 413
    assert_security_headers(client.get("/healthz", headers={"x-big": "a" * 20_000}))
    docs = client.get("/docs")
    assert docs.headers["content-type"].startswith("text/html")
    assert_security_headers(docs, html=True)


def test_security_headers_on_a_500(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert_problem(response, 500, "internal_error")
    assert "kaboom" not in response.text
    assert_security_headers(response)


def test_hsts_only_over_https(app: FastAPI) -> None:
    secure = TestClient(app, base_url="https://testserver").get("/healthz")
    assert secure.headers["strict-transport-security"].startswith("max-age=31536000")
    plain = TestClient(app).get("/healthz")
    assert "strict-transport-security" not in plain.headers


# /docs


def inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    }


def test_docs_load_nothing_from_another_host(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "http" not in html  # no absolute URL at all, so no CDN
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 3
    for url in [*urls, "/openapi.json"]:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert_security_headers(asset)
    assert "/openapi.json" in html
    # The page's one inline script is allowed by its hash, not by 'unsafe-inline'.
    hashes = inline_script_hashes(html)
    assert len(hashes) == 1
    script_src = re.search(r"script-src ([^;]+)", response.headers["content-security-policy"])
    assert script_src is not None
    assert set(script_src.group(1).split()) == {"'self'", *hashes}


def test_the_oauth2_redirect_page_is_served_with_its_script_allowed(client: TestClient) -> None:
    response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert_security_headers(response, html=True)
    for digest in inline_script_hashes(response.text):
        assert digest in response.headers["content-security-policy"]


def test_the_openapi_document_declares_the_password_flow_for_authorize(
    client: TestClient,
) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    flows = [s["flows"]["password"] for s in schemes.values() if "password" in s.get("flows", {})]
    assert flows
    assert flows[0]["tokenUrl"].endswith("api/v1/auth/login")


def test_docs_can_be_turned_off(session: Session) -> None:
    settings = get_settings().model_copy(update={"docs": False})
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    for path in (
        "/docs",
        "/openapi.json",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/oauth2-redirect",
    ):
        response = client.get(path)
        assert_problem(response, 404, "not_found")
    assert client.get("/healthz").status_code == 200
