"""The web chat widget in a real browser against a real `ajira serve` and the demo employer.

Chromium (Debian's, at /usr/bin/chromium or $AJIRA_CHROMIUM) is driven by Playwright. Without
it the test is skipped locally, but fails when CI=true: CI must run it.
Screenshots land in build/widget/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from assistant import memory
from hrcore.actor import Channel
from hrcore.attendance.models import AttendanceRecord
from hrcore.db import unit_of_work
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications.service import notify
from hrcore.people.models import User
from hrcore.seed import seed_demo
from tests.factories import arranged
from tests.fakes.needs import unavailable

CHROMIUM = os.environ.get("AJIRA_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo-pass-2026"
SHOTS = Path(__file__).resolve().parents[1] / "build" / "widget"
SWAHILI_MONTHS = (
    "Januari",
    "Februari",
    "Machi",
    "Aprili",
    "Mei",
    "Juni",
    "Julai",
    "Agosti",
    "Septemba",
    "Oktoba",
    "Novemba",
    "Desemba",
)


def _unavailable(reason: str) -> None:
    unavailable(f"the browser test: {reason}")


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    return sync_api


@dataclass
class Served:
    base: str
    log: Path
    #: An employer's intranet on another origin, allowed by AJIRA_WIDGET_ORIGINS.
    intranet: Intranet


class Intranet(ThreadingHTTPServer):
    """An employer's web server: one page, with the policy it sets."""

    page = b""
    policy = ""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _IntranetPage(BaseHTTPRequestHandler):
    server: Intranet

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", self.server.policy)
        self.end_headers()
        self.wfile.write(self.server.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def intranet() -> Iterator[Intranet]:
    server = Intranet(("127.0.0.1", 0), _IntranetPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(committed_engine: Engine, intranet: Intranet, tmp_path: Path) -> Iterator[Served]:
    """`ajira serve` in a subprocess on a free port, over a database with the demo employer."""
    url = committed_engine.url.render_as_string(hide_password=False)
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # The offline model, in-process deliveries, this test's database: nothing from outside.
        if key not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL", "AJIRA_TEST_DATABASE_URL"}
    }
    env.update(
        DATABASE_URL=url,
        AJIRA_DATA_DIR=str(tmp_path / "data"),
        AJIRA_LOG_LEVEL="WARNING",
        AJIRA_WIDGET_ORIGINS=intranet.origin,
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            # Seeded while the server starts: it opens the database on first use.
            memory.setup_checkpointer()
            with unit_of_work() as session:
                seed_demo(session, password=PASSWORD)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 45
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "ajira serve did not start"
                time.sleep(0.1)
            yield Served(base, log, intranet)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _user_id(email: str) -> int:
    with arranged() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        assert user_id is not None
        return user_id


def _leave_dates() -> tuple[date, date]:
    """Monday to Thursday of a week at least a fortnight away, inside one month."""
    start = date.today() + timedelta(days=14)
    start += timedelta(days=(7 - start.weekday()) % 7)
    while (start + timedelta(days=3)).month != start.month:
        start += timedelta(days=7)
    return start, start + timedelta(days=3)


def _chat(page: Any, expect: Any, text: str, replies_before: int) -> Any:
    """Type a message as a person would and wait for the complete reply."""
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")
    reply = page.locator(".msg.assistant").nth(replies_before)
    expect(reply).not_to_have_class(re.compile(r"\btyping\b"), timeout=20_000)
    return reply


def _run_flow(
    sync_api: Any, browser: Any, served: Served, *, who: str, phone: bool, leave_request: str
) -> Path:
    expect = sync_api.expect
    expect.set_options(timeout=15_000)
    viewport = {"width": 360, "height": 740} if phone else {"width": 1280, "height": 800}
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    try:
        page.goto(f"{served.base}/chat")
        panel = page.get_by_role("dialog", name="Ajira HR chat")
        expect(panel).to_be_visible()
        # Styled under the page's strict policy (no inline styles): the panel is positioned.
        assert panel.evaluate("node => getComputedStyle(node).position") == "fixed"
        if phone:
            box = panel.bounding_box()
            assert box is not None
            assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 740)
        assert page.locator("[aria-live=polite]").count() == 1

        login = page.get_by_label("Email or phone")
        expect(login).to_be_focused()  # the opened widget puts the cursor where to type
        login.fill(f"{who}@demo.ajira.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label("Message")).to_be_focused()

        clocked = _chat(page, expect, "clock me in", 0)
        expect(clocked).to_contain_text(re.compile(r"clocked in", re.IGNORECASE))

        asked = _chat(page, expect, leave_request, 1)
        yes = asked.get_by_role("button", name=re.compile(r"^(yes|ndiyo)$", re.IGNORECASE))
        expect(yes).to_be_visible()
        expect(asked.get_by_role("button", name=re.compile(r"^(no|hapana)$", re.I))).to_be_visible()
        yes.click()
        expect(yes).to_be_disabled()
        filed = page.locator(".msg.assistant").nth(2)
        expect(filed).not_to_have_class(re.compile(r"\btyping\b"), timeout=20_000)
        expect(filed.get_by_role("button")).to_have_count(0)

        # Escape closes and gives focus back to the launcher; news waiting shows as a badge.
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        launcher = page.get_by_role("button", name=re.compile("^Chat with HR"))
        expect(launcher).to_be_focused()
        with arranged() as session:
            user = session.get(User, _user_id(f"{who}@demo.ajira.test"))
            assert user is not None
            notify(
                session,
                user,
                kind="leave.reminder",
                text=f"Reminder for {user.full_name}: your timesheet is due Friday.",
                channel=Channel.WEB,
            )
        expect(launcher).to_have_accessible_name("Chat with HR, 1 new notification")
        page.keyboard.press("Enter")  # the launcher, by keyboard alone
        expect(panel).to_be_visible()
        expect(page.get_by_label("Message")).to_be_focused()
        expect(page.locator(".msg.notice")).to_contain_text("your timesheet is due Friday")

        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"widget-{'phone' if phone else 'desktop'}.png"
        page.screenshot(path=str(shot))
        assert not problems, problems
        if not phone:
            _check_failures(page, expect)
        return shot
    finally:
        context.close()


def _check_failures(page: Any, expect: Any) -> None:
    """An expired token is renewed unseen; a rate limit, a lost network and an ended session
    each get a plain answer, and the unsent message is kept."""
    stream = "**/api/v1/chat/stream"
    box = page.get_by_label("Message")
    seen: list[str] = []

    def expired_once(route: Any) -> None:
        seen.append(route.request.headers["authorization"])
        if len(seen) == 1:
            route.fulfill(status=401, content_type="application/problem+json", body="{}")
        else:
            route.continue_()

    page.route(stream, expired_once)
    replies = page.locator(".msg.assistant").count()
    answered = _chat(page, expect, "how many leave days do I have", replies)
    expect(answered).to_contain_text(re.compile("annual", re.IGNORECASE))
    assert len(seen) == 2
    assert seen[0] != seen[1]  # retried with a fresh token from /auth/refresh
    page.unroute(stream)

    errors = page.locator(".msg.error")
    limited = json.dumps({"status": 429, "code": "rate_limited", "detail": "Slow down."})
    page.route(
        stream,
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "7"},
            content_type="application/problem+json",
            body=limited,
        ),
    )
    box.fill("hello")
    box.press("Enter")
    expect(errors.last).to_have_text("Slow down. Please try again in 7 seconds.")
    expect(box).to_have_value("hello")
    page.unroute(stream)

    page.route(stream, lambda route: route.abort())
    box.press("Enter")
    expect(errors.last).to_contain_text("Could not reach Ajira")
    expect(box).to_have_value("hello")
    page.unroute(stream)

    refused = {"status": 401, "content_type": "application/problem+json", "body": "{}"}
    page.route(stream, lambda route: route.fulfill(**refused))
    page.route("**/api/v1/auth/refresh", lambda route: route.fulfill(**refused))
    box.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Your session has ended. Please sign in again.")
    expect(page.get_by_label("Email or phone")).to_be_focused()
    expect(page.locator(".msg")).to_have_count(0)  # the conversation left with the session


def _run_embedded_flow(sync_api: Any, browser: Any, served: Served) -> Path:
    """The widget on an intranet page of another origin, signed in by the page (single sign-on),
    under the strict policy the README asks employers to use."""
    expect = sync_api.expect
    signed_in = httpx.post(
        f"{served.base}/api/v1/auth/login",
        json={"login": "brian@demo.ajira.test", "password": PASSWORD},
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    provider = f'window.intranetToken = async () => "{token}";'
    page_csp = (
        f"default-src 'self'; script-src 'self' 'nonce-n0nce' {served.base}; "
        f"connect-src {served.base}; style-src 'self'; object-src 'none'"
    )
    served.intranet.policy = page_csp
    served.intranet.page = (
        "<!doctype html><html lang=en><head><title>Intranet</title>"
        f'<script nonce="n0nce">{provider}</script>'
        f'<script src="{served.base}/widget.js" data-token-provider="intranetToken" async>'
        "</script></head><body><h1>Jua Kali Foods intranet</h1></body></html>"
    ).encode()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if message.type == "error" else None,
    )
    try:
        page.goto(f"{served.intranet.origin}/")
        launcher = page.get_by_role("button", name=re.compile("^Chat with HR"))
        launcher.click()
        # Signed in by the page: no password asked.
        expect(page.get_by_label("Message")).to_be_focused()
        expect(page.get_by_label("Email or phone")).to_be_hidden()
        reply = _chat(page, expect, "clock me in", 0)
        expect(reply).to_contain_text(re.compile(r"clocked in", re.IGNORECASE))
        shot = SHOTS / "widget-intranet.png"
        page.screenshot(path=str(shot))
        assert not violations, violations
        return shot
    finally:
        context.close()


def test_an_employee_chats_clocks_in_and_asks_for_leave_in_the_browser(
    playwright_api: Any, served: Served
) -> None:
    start, end = _leave_dates()
    flows = [
        # John at a desk, in English; Amina on a phone, in Swahili.
        ("john", False, f"I want annual leave from {start:%d %B %Y} to {end:%d %B %Y}"),
        (
            "amina",
            True,
            f"nataka likizo tarehe {start.day} hadi {end.day} {SWAHILI_MONTHS[start.month - 1]}",
        ),
    ]
    with playwright_api.sync_playwright() as driver:
        try:
            browser = driver.chromium.launch(executable_path=CHROMIUM)
        except Exception as exc:  # a Chromium that cannot start (missing libraries...)
            _unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
        try:
            for who, phone, leave_request in flows:
                began = time.monotonic()
                _run_flow(
                    playwright_api,
                    browser,
                    served,
                    who=who,
                    phone=phone,
                    leave_request=leave_request,
                )
                employee = _user_id(f"{who}@demo.ajira.test")
                with arranged() as session:
                    open_shift = session.scalars(
                        select(AttendanceRecord).where(
                            AttendanceRecord.employee_id == employee,
                            AttendanceRecord.clock_out_at.is_(None),
                        )
                    ).all()
                    assert len(open_shift) == 1
                    assert open_shift[0].method_in == "web"
                    requests = session.scalars(
                        select(LeaveRequest).where(LeaveRequest.employee_id == employee)
                    ).all()
                    assert [(r.start_date, r.end_date, r.status) for r in requests] == [
                        (start, end, LeaveStatus.PENDING)
                    ]
                took = time.monotonic() - began
                print(f"{who}: {'phone' if phone else 'desktop'} flow {took:.1f} s")

            began = time.monotonic()
            _run_embedded_flow(playwright_api, browser, served)
            brian = _user_id("brian@demo.ajira.test")
            with arranged() as session:
                shifts = session.scalars(
                    select(AttendanceRecord).where(
                        AttendanceRecord.employee_id == brian,
                        AttendanceRecord.clock_out_at.is_(None),
                    )
                ).all()
                assert len(shifts) == 1
            print(f"brian: intranet flow {time.monotonic() - began:.1f} s")
        finally:
            browser.close()
