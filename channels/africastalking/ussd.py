"""Africa's Talking USSD: read the callback, run the phone menu, answer `CON `/`END ` screens.

AT posts one form per screen: `sessionId`, `serviceCode`, `phoneNumber`, `networkCode` and
`text`, every input of the session so far joined by `*` ("" on the first screen). The
answer is plain text: `CON ` and a screen that waits for input, or `END ` and a last one.

- Exactly once: the pipeline claims `sessionId` + a keyed digest of `text` (never the text:
  it holds PINs), so a retry gets the first screen back byte for byte and never acts twice.
- What is new in `text` is found by comparing it with what the session already saw (keyed
  digests of every earlier `text`, with the menu state after each): normally the part after
  the previous text, which may itself hold a `*` on a free-text screen; when a network
  resends the first request or the whole input from an earlier point, the menu goes back
  to the state it had there and plays the rest.
- AT does not sign these callbacks: see `callbacks` for the token their URLs carry.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from channels import gsm, pipeline
from channels.menu import END, Menu, MenuReply, Turn
from channels.menu_layout import Layout
from channels.menu_text import say
from channels.messages import Inbound, Reply
from hrcore import clock
from hrcore.actor import Actor, Channel
from hrcore.db import keep_failure_writes, unit_of_work
from hrcore.errors import HRError, Invalid
from hrcore.keys import menu_input_key
from hrcore.menus import service as menus
from hrcore.people.service import normalize_phone

log = logging.getLogger(__name__)

CHANNEL = Channel.USSD
#: 160 GSM-7 characters after the `CON `/`END ` prefix, at most 5 options, plain ASCII.
LAYOUT = Layout(max_chars=160, max_options=5, label_width=28, measure=gsm.septets, clean=gsm.to_gsm)
MENU = Menu(LAYOUT)
#: A session quiet for longer starts again at home (AT ends them after 180 s anyway).
IDLE = timedelta(minutes=5)
#: Earlier screens remembered for resent input, and inputs played back at most.
TRAIL = 12
MAX_REPLAY = 8
#: How long a retry waits for the first delivery of the same screen to be answered.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_NETWORK = re.compile(r"^[0-9]{0,10}$")
_STATUS = re.compile(r"^[A-Za-z]{1,16}$")


class MalformedCallback(ValueError):
    """The form is not a USSD callback we can read."""


@dataclass(frozen=True, slots=True)
class UssdRequest:
    """One screen's callback, in our terms (the phone in E.164)."""

    session_id: str
    service_code: str
    phone: str
    network_code: str
    text: str


def _field(form: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else ([form[name]] if name in form else [])
    if not values:
        if required:
            raise MalformedCallback(f"`{name}` is missing.")
        return None
    if len(values) > 1:
        raise MalformedCallback(f"`{name}` is given more than once.")
    if not isinstance(values[0], str):
        raise MalformedCallback(f"`{name}` must be a form field, not a file.")
    return values[0]


def parse_request(form: Mapping[str, Any], *, region: str = "KE") -> UssdRequest:
    """The callback in `form`; `MalformedCallback` says what is wrong with it."""
    session_id = _field(form, "sessionId") or ""
    if not _SESSION_ID.match(session_id):
        raise MalformedCallback("`sessionId` is not valid.")
    service_code = (_field(form, "serviceCode") or "").strip()
    if not service_code or len(service_code) > 40 or not service_code.isprintable():
        raise MalformedCallback("`serviceCode` is not valid.")
    network_code = (_field(form, "networkCode") or "").strip()
    if not _NETWORK.match(network_code):
        raise MalformedCallback("`networkCode` is not valid.")
    raw_phone = (_field(form, "phoneNumber") or "").strip()
    try:
        if not raw_phone or len(raw_phone) > 20 or not raw_phone.isprintable():
            raise Invalid("bad phone")
        phone = normalize_phone(raw_phone, region)
    except Invalid:
        raise MalformedCallback("`phoneNumber` is not a valid phone number.") from None
    # Any text is a screen's input, however odd: the menu answers it with a hint.
    text = _field(form, "text")
    assert text is not None
    return UssdRequest(session_id, service_code, phone, network_code, text)


def parse_session_end(form: Mapping[str, Any]) -> tuple[str, menus.SessionEnd]:
    """AT's end-of-session report: the session id and what to keep (never `input`)."""
    session_id = _field(form, "sessionId") or ""
    if not _SESSION_ID.match(session_id):
        raise MalformedCallback("`sessionId` is not valid.")
    status = (_field(form, "status") or "").strip()
    if not _STATUS.match(status):
        raise MalformedCallback("`status` is not valid.")

    def whole(name: str, digits: int) -> int | None:
        value = (_field(form, name, required=False) or "").strip()
        if not value:
            return None
        if not value.isdigit() or len(value) > digits:
            raise MalformedCallback(f"`{name}` must be a whole number.")
        return int(value)

    def words(name: str, limit: int) -> str | None:
        value = _field(form, name, required=False)
        cleaned = "".join(ch for ch in (value or "") if ch.isprintable() or ch == "\n").strip()
        return cleaned[:limit] or None

    return session_id, menus.SessionEnd(
        status=status,
        duration_ms=whole("durationInMillis", 12),
        hops=whole("hopsCount", 6),
        error_message=words("errorMessage", 500),
        # Our own last screen (never the caller's `input`, which may hold a PIN).
        last_response=words("lastAppResponse", 1000),
    )


def digest(session_id: str, text: str) -> str:
    """A keyed digest standing for `text` in ids and state: a PIN cannot be guessed back."""
    message = f"{session_id}\x00{text}".encode("utf-8", "surrogatepass")
    return hmac.new(menu_input_key(), message, hashlib.sha256).hexdigest()[:32]


def render(reply: Reply) -> str:
    """A reply as AT's answer: `CON `/`END ` and at most 160 GSM-7 characters."""
    if reply.problem is not None:
        key = "inactive" if reply.problem == "inactive" else "unknown"
        body, end = say(key, reply.language), True
    elif isinstance(reply, MenuReply):
        body, end = reply.text, reply.end
    else:
        body, end = reply.text, True
    body = gsm.shorten(gsm.to_gsm(body), LAYOUT.max_chars)
    return ("END " if end else "CON ") + body


# ------------------------------------------------------------------ one screen


def _inputs(rest: str) -> list[str]:
    parts = rest.split("*")
    # Absurdly many: only the newest counts (a network that resends everything).
    return parts if len(parts) <= MAX_REPLAY else parts[-1:]


def _screen(session: Any, actor: Actor, key: str, text: str, failures: list[HRError]) -> MenuReply:
    row = menus.lock_session(session, actor, channel=CHANNEL, key=key)
    now = clock.now()
    trail: list[Any] = list(row.trail or [])
    if not row.state or row.updated_at < now - IDLE:
        if not row.state:
            menus.forget_old(session)
        trail = []
    # The latest earlier screen whose text this one starts with (or is).
    base = None
    for index in range(len(trail) - 1, -1, -1):
        length, mac, _ = trail[index]
        fits = length == 0 or (length <= len(text) and text[length : length + 1] in ("", "*"))
        if fits and hmac.compare_digest(mac, digest(key, text[:length])):
            base = index
            break
    turn = Turn(session, actor, {}, failures)
    if base is None:
        state, rest = MENU.begin(session, actor, turn.user), (text or None)
    else:
        length, _, saved = trail[base]
        state = copy.deepcopy(saved)
        rest = None if length == len(text) else text[length + 1 if length else 0 :]
    turn.state = state
    if rest is not None:
        # Free text is taken whole, stars and all; anything else is one input per star.
        pending = [rest] if MENU.expects_text(state) else _inputs(rest)
        while pending and state.get("at") != END:
            if MENU.expects_text(state):
                entry, pending = "*".join(pending), []
            else:
                entry = pending.pop(0)
            MENU.answer(turn, entry)
    reply = MENU.show(turn)
    if base is None or rest is not None:
        trail = [*trail, [len(text), digest(key, text), copy.deepcopy(state)]][-TRAIL:]
    menus.save(row, state=state, trail=trail, language=str(state.get("lang", "en")))
    return reply


def _hop(session: Session, actor: Actor, inbound: Inbound, failures: list[HRError]) -> MenuReply:
    try:
        with session.begin_nested():
            return _screen(
                session, actor, inbound.conversation_id or "", inbound.text or "", failures
            )
    except Exception:
        # Never the text: it may hold a PIN.
        log.exception("ussd_screen_failed")
        return MenuReply(text=say("failed", "en"), end=True)


def _answer_now(inbound: Inbound) -> pipeline.Handled:
    failures: list[HRError] = []
    try:
        return pipeline.receive_at_once(
            inbound, render=render, handler=lambda s, a, i: _hop(s, a, i, failures)
        )
    finally:
        # A tool refused on this screen: its audit row, once the screen's transaction is over.
        for failure in failures:
            keep_failure_writes(failure)


async def answer(request: UssdRequest) -> str:
    """The screen for one callback; a retry of it gets the first answer again."""
    inbound = Inbound(
        channel=CHANNEL,
        sender=request.phone,
        external_id=f"{request.session_id}:{digest(request.session_id, request.text)}",
        text=request.text,
        conversation_id=request.session_id,
    )
    handled = await asyncio.to_thread(_answer_now, inbound)
    if handled.body is None:  # not possible: a duplicate waits for the first answer
        return render(MenuReply(text=say("busy", "en"), end=True))
    return handled.body


def record_session_end(session_id: str, end: menus.SessionEnd) -> None:
    """Keep AT's end-of-session report on the session."""
    with unit_of_work() as session:
        menus.record_end(session, channel=CHANNEL, key=session_id, end=end)
