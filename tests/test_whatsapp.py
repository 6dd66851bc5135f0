"""WhatsApp over the real webhook, the real assistant and the outbox, with Meta replaced
by a local stand-in of the Graph API (tests/fakes/whatsapp_server.py).

Payloads follow Meta's documented shapes (shared/channels/whatsapp/*.json); each one is
signed here with the app secret, exactly as Meta signs the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from assistant import memory
from channels.delivery import deliver
from channels.messages import Citation, Confirmation, Outbound, Reply
from channels.whatsapp import render, webhook
from channels.whatsapp.send import window_open
from hrcore.actor import Channel
from hrcore.attendance.models import AttendanceRecord, LocationSource
from hrcore.clock import frozen
from hrcore.identities import service as identities
from hrcore.identities.models import ChannelIdentity, InboundMessage
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications import outbox
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationStatus,
)
from hrcore.people.models import GeofenceMode, User
from tests.factories import Team
from tests.fakes import whatsapp_server as graph
from tests.fakes.outbox_support import settings_env

# Monday 23 November 2026, 09:00 in Nairobi: "kesho" is Tuesday the 24th.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
PATH = "/channels/whatsapp/webhook"
APP_SECRET = "fake_app_secret_0123456789abcdef"
VERIFY_TOKEN = "acme-hr-wa-verify-0001"
JOHN, MARY = "+254711000001", "+254711000003"
STRANGER = "+254722999000"
TEMPLATES = {"payslip.ready": "payslip_ready_v1", "*": "ajira_update"}
# The documented notification (shared/channels/whatsapp/signature.txt): Meta's compact
# body and the signature computed over those exact bytes with APP_SECRET.
DOCUMENTED_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102345678901234","changes":[{"value":'
    b'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"254709000100",'
    b'"phone_number_id":"109876543210987"},"contacts":[{"profile":{"name":"Wanjiku Mwangi"},'
    b'"wa_id":"254711000001"}],"messages":[{"from":"254711000001","id":"wamid.HBgMMjU0NzExMD'
    b'AwMDAxFQIAEhgUM0FBNTlGRDFCN0QyQzBFNEE5OUEA","timestamp":"1767954067","type":"text",'
    b'"text":{"body":"How many leave days do I have left?"}}]},"field":"messages"}]}]}'
)
DOCUMENTED_SIGNATURE = "sha256=aced842be8af8b0fc1a0f6f1ee82205b78d9fc0d8ac38f22b33c884e4c683e51"
SENT_WAMID = "wamid.HBgMMjU0NzExMDAwMDAxFQIAERgSNzFCMkE0QzlEOEUzRjYwQTVCAA=="


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def app(engine: object) -> FastAPI:
    memory.setup_checkpointer()
    return create_app()


@pytest.fixture(scope="module")
def module_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
        client.portal.call(memory.close_async_checkpointer)  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    # The in-process sweep would deliver too; these tests count every request to Meta.
    outbox.skip_in_process_sweeps(3600)


@pytest.fixture
def meta() -> Iterator[graph.FakeGraph]:
    with (
        graph.running() as server,
        settings_env(
            WHATSAPP_TOKEN=graph.TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=graph.PHONE_NUMBER_ID,
            WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_GRAPH_URL=server.base_url,
            WHATSAPP_TEMPLATES=json.dumps(TEMPLATES),
        ),
    ):
        yield server


@pytest.fixture
def client(
    module_client: TestClient, session: Session, meta: graph.FakeGraph
) -> Iterator[TestClient]:
    with frozen(NOW):
        yield module_client


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    with frozen(NOW):
        team = Team(session)
        leave.ensure_default_leave_types(session, team.org)
        # The documented payloads' numbers; the factory's own may already be one of them.
        for n, person in enumerate(team.people()):
            person.phone = f"+2547339900{n:02d}"
        session.flush()
        team.supervisor.phone, team.employee.phone = MARY, JOHN
        session.flush()
        return {"mary": team.supervisor, "john": team.employee}


# ----------------------------------------------------------------- payloads, posting


def envelope(
    *, messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A `messages`-field notification as Meta posts it, for our number."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "254709000100",
            "phone_number_id": graph.PHONE_NUMBER_ID,
        },
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Wanjiku Mwangi"}, "wa_id": m["from"]}
            for m in messages
            if "from" in m
        ]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102345678901234", "changes": [{"value": value, "field": "messages"}]}],
    }


def message(sender: str, wamid: str, kind: str, **content: Any) -> dict[str, Any]:
    return {
        "from": sender.removeprefix("+"),
        "id": f"wamid.{wamid}",
        "timestamp": str(int(NOW.timestamp())),
        "type": kind,
        **content,
    }


def text(sender: str, wamid: str, body: str) -> dict[str, Any]:
    return message(sender, wamid, "text", text={"body": body})


def button_reply(sender: str, wamid: str, choice: str, title: str) -> dict[str, Any]:
    return message(
        sender,
        wamid,
        "interactive",
        context={"from": "254709000100", "id": SENT_WAMID},
        interactive={"type": "button_reply", "button_reply": {"id": choice, "title": title}},
    )


def list_reply(sender: str, wamid: str, choice: str, title: str) -> dict[str, Any]:
    return message(
        sender,
        wamid,
        "interactive",
        interactive={"type": "list_reply", "list_reply": {"id": choice, "title": title}},
    )


def pin(sender: str, wamid: str, latitude: float, longitude: float) -> dict[str, Any]:
    return message(
        sender,
        wamid,
        "location",
        location={
            "latitude": latitude,
            "longitude": longitude,
            "name": "Depot",
            "address": "Nairobi",
        },
    )


def status(wamid: str, state: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(NOW.timestamp())),
        "recipient_id": JOHN.removeprefix("+"),
    }
    if errors:
        item["errors"] = errors
    return item


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_raw(client: TestClient, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(PATH, content=body, headers=headers)


def post(client: TestClient, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    response = post_raw(client, body, sign(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "received"}


def say(client: TestClient, *messages: dict[str, Any]) -> None:
    post(client, envelope(messages=list(messages)))


def texts(meta: graph.FakeGraph, number: str) -> list[str]:
    """The bodies of the free-form texts sent to `number`."""
    return [r.body["text"]["body"] for r in meta.sent_to(number) if r.type == "text"]


# ---------------------------------------------------------------- verification GET


def test_the_handshake_echoes_the_challenge_only_for_our_verify_token(client: TestClient) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": VERIFY_TOKEN,
    }
    response = client.get(PATH, params=good)
    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.headers["content-type"].startswith("text/plain")

    for wrong in (
        {**good, "hub.verify_token": "not-the-token"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    ):
        refused = client.get(PATH, params=wrong)
        assert refused.status_code == 403
        assert "1158201444" not in refused.text


# ------------------------------------------------------------- signatures, malformed


def test_the_documented_signature_is_accepted_over_the_raw_bytes() -> None:
    assert webhook.signature_valid(DOCUMENTED_BODY, DOCUMENTED_SIGNATURE, APP_SECRET)
    reserialised = json.dumps(json.loads(DOCUMENTED_BODY)).encode()
    assert not webhook.signature_valid(reserialised, DOCUMENTED_SIGNATURE, APP_SECRET)


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        (None, 401),
        ("", 401),
        ("bad", 403),
        (sign(DOCUMENTED_BODY, "another_secret"), 403),
        (sign(DOCUMENTED_BODY).removeprefix("sha256="), 403),
        (sign(DOCUMENTED_BODY + b" "), 403),  # the body changed after signing
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_processed(
    client: TestClient,
    session: Session,
    people: dict[str, User],
    meta: graph.FakeGraph,
    signature: str | None,
    expected: int,
) -> None:
    response = post_raw(client, DOCUMENTED_BODY, signature)
    assert response.status_code == expected
    assert response.headers["content-type"] == "application/problem+json"
    assert session.scalars(select(InboundMessage)).all() == []
    assert session.scalars(select(ChannelIdentity)).all() == []
    assert meta.sent() == []


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_json_object_is_a_400(client: TestClient, body: bytes) -> None:
    response = post_raw(client, body, sign(body))
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_whatsapp_webhook"


def test_the_documented_text_message_is_answered(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    response = post_raw(client, DOCUMENTED_BODY, DOCUMENTED_SIGNATURE)
    assert response.status_code == 200
    (answer,) = meta.sent_to(JOHN)
    assert answer.type == "text"
    assert answer.authorization == f"Bearer {graph.TOKEN}"
    assert answer.path == f"/{graph.VERSION}/{graph.PHONE_NUMBER_ID}/messages"
    assert answer.body["messaging_product"] == "whatsapp"
    assert answer.body["recipient_type"] == "individual"
    assert answer.body["text"]["preview_url"] is False


# ---------------------------------------------------------------- conversations


def test_clock_me_in_records_a_shift_and_answers_by_whatsapp(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    say(client, text(JOHN, "clock-1", "clock me in"))

    (shift,) = session.scalars(select(AttendanceRecord)).all()
    assert (shift.employee_id, shift.method_in, shift.clock_out_at) == (
        john.id,
        Channel.WHATSAPP,
        None,
    )
    (answer,) = meta.sent_to(JOHN)
    assert answer.type == "text"
    assert "09:00" in answer.body["text"]["body"]
    # The answer went through the outbox and keeps Meta's id for the status callbacks.
    (row,) = session.scalars(select(Notification).where(Notification.recipient_id == john.id))
    assert (row.channel, row.kind, row.status) == (
        Channel.WHATSAPP,
        "chat.reply",
        NotificationStatus.SENT,
    )
    assert row.provider_message_id == meta.given_ids[-1]
    # The number on the employee record linked itself, and counts as heard from now.
    identity = session.scalar(select(ChannelIdentity).where(ChannelIdentity.user_id == john.id))
    assert identity is not None
    assert (identity.channel, identity.address, identity.last_seen_at) == (
        Channel.WHATSAPP,
        JOHN,
        NOW,
    )


def test_an_answer_is_not_held_for_the_quiet_hours_of_someone_who_just_wrote(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    john.quiet_start, john.quiet_end = time(6, 0), time(12, 0)  # 09:00 now, in Nairobi
    session.flush()
    say(client, text(JOHN, "quiet-1", "clock me in"))
    assert len(meta.sent_to(JOHN)) == 1


def test_a_leave_request_asks_with_buttons_and_the_yes_button_files_it_once(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    say(client, text(JOHN, "leave-1", "nataka likizo kesho"))

    (question,) = meta.sent_to(JOHN)
    assert question.type == "interactive"
    interactive = question.body["interactive"]
    assert interactive["type"] == "button"
    buttons = interactive["action"]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [
        ("yes", "Ndiyo"),
        ("no", "Hapana"),
    ]
    assert "24" in interactive["body"]["text"]
    assert len(interactive["body"]["text"]) <= 1024
    assert session.scalars(select(LeaveRequest)).all() == []  # nothing until the yes

    yes = button_reply(JOHN, "leave-2", "yes", "Ndiyo")
    say(client, yes)
    say(client, yes)  # Meta delivers the same message again

    (request,) = session.scalars(select(LeaveRequest)).all()
    assert (request.employee_id, request.status) == (john.id, LeaveStatus.PENDING)
    assert (request.start_date, request.end_date) == (date(2026, 11, 24), date(2026, 11, 24))
    assert len(meta.sent_to(JOHN)) == 2  # the question, then one answer to the yes
    claims = session.scalars(
        select(InboundMessage.external_id).where(InboundMessage.channel == Channel.WHATSAPP)
    ).all()
    assert sorted(claims) == ["wa:wamid.leave-1", "wa:wamid.leave-2"]
    # Mary hears of it on the channel she is reached on (SMS: she never wrote on WhatsApp).
    told = session.scalars(
        select(Notification).where(Notification.recipient_id == people["mary"].id)
    )
    assert [row.channel for row in told] == [Channel.SMS]


def test_a_no_from_a_list_row_files_nothing(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    say(client, text(JOHN, "list-1", "nataka likizo kesho"))
    say(client, list_reply(JOHN, "list-2", "no", "Hapana"))
    assert session.scalars(select(LeaveRequest)).all() == []
    assert len(meta.sent_to(JOHN)) == 2


def test_a_pin_clocks_in_then_out_as_evidence_not_proof(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    john.organization.geofence_mode = GeofenceMode.FLAG
    session.flush()

    say(client, pin(JOHN, "pin-1", -1.2921, 36.8219))
    (shift,) = session.scalars(select(AttendanceRecord)).all()
    assert (shift.employee_id, shift.method_in) == (john.id, Channel.WHATSAPP)
    assert (shift.latitude_in, shift.longitude_in) == (-1.2921, 36.8219)
    assert shift.location_source_in is LocationSource.PIN
    assert shift.clock_out_at is None
    (clocked_in,) = texts(meta, JOHN)
    assert "Clocked in at 09:00" in clocked_in
    assert "evidence" in clocked_in
    assert "not proof" in clocked_in

    with frozen(NOW + timedelta(hours=8)):
        say(client, pin(JOHN, "pin-2", -1.2925, 36.8220))
    session.refresh(shift)
    assert shift.clock_out_at == NOW + timedelta(hours=8)
    assert shift.location_source_out is LocationSource.PIN
    assert "Clocked out at 17:00" in texts(meta, JOHN)[1]


def test_an_image_gets_a_short_explanation_and_nothing_else(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    say(
        client,
        message(
            JOHN,
            "img-1",
            "image",
            image={
                "id": "1234",
                "mime_type": "image/jpeg",
                "sha256": "abc",
                "caption": "sick note",
            },
        ),
        message(JOHN, "sticker-1", "sticker", sticker={"id": "5678", "mime_type": "image/webp"}),
    )
    answers = texts(meta, JOHN)
    assert len(answers) == 2
    assert all("only read text" in a for a in answers)
    assert all(len(a) < 200 for a in answers)
    assert session.scalars(select(AttendanceRecord)).all() == []
    assert session.scalars(select(LeaveRequest)).all() == []


def test_an_unknown_number_is_told_how_to_link_once_and_nothing_else(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    say(client, text(STRANGER, "who-1", "nataka likizo kesho"))
    say(client, text(STRANGER, "who-2", "clock me in"))
    (told,) = texts(meta, STRANGER)
    assert "not linked" in told
    assert session.scalars(select(LeaveRequest)).all() == []
    assert session.scalars(select(AttendanceRecord)).all() == []
    assert session.scalars(select(Notification)).all() == []
    assert session.scalars(select(ChannelIdentity)).all() == []


def test_a_deactivated_persons_message_only_says_so(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    people["john"].is_active = False
    session.flush()
    say(client, pin(JOHN, "gone-1", -1.29, 36.82))
    (told,) = texts(meta, JOHN)
    assert "ended" in told
    assert session.scalars(select(AttendanceRecord)).all() == []


def test_a_sender_without_a_number_or_for_another_number_is_skipped(
    client: TestClient, session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    no_number = text(JOHN, "bsuid-1", "hello")
    del no_number["from"]
    no_number["from_user_id"] = "US.1234"
    post(client, envelope(messages=[no_number]))
    other = envelope(messages=[text(JOHN, "other-1", "clock me in")])
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    post(client, other)
    assert meta.sent() == []
    assert session.scalars(select(InboundMessage)).all() == []


# ----------------------------------------------------------------------- statuses


def sent_row(session: Session, user: User, wamid: str) -> Notification:
    """A notification Meta took under `wamid`."""
    row = Notification(
        organization_id=user.organization_id,
        recipient_id=user.id,
        channel=Channel.WHATSAPP,
        kind="leave.decided",
        text="Your leave was approved.",
        status=NotificationStatus.SENT,
        attempts=1,
        provider_message_id=wamid,
    )
    session.add(row)
    session.flush()
    return row


def test_statuses_move_a_row_forward_only(
    client: TestClient, session: Session, people: dict[str, User]
) -> None:
    row = sent_row(session, people["john"], SENT_WAMID)
    row.status = NotificationStatus.SENDING
    session.flush()

    def report(state: str) -> Notification:
        post(client, envelope(statuses=[status(SENT_WAMID, state)]))
        session.refresh(row)
        return row

    assert report("sent").status is NotificationStatus.SENT
    assert report("delivered").status is NotificationStatus.DELIVERED
    assert row.delivered_at == NOW
    assert row.read_at is None
    assert report("read").status is NotificationStatus.DELIVERED
    assert row.read_at == NOW
    late = report("sent")  # arrives after the read
    assert (late.status, late.delivered_at, late.read_at) == (
        NotificationStatus.DELIVERED,
        NOW,
        NOW,
    )
    assert report("failed").status is NotificationStatus.DELIVERED


def test_a_read_without_a_delivered_still_counts_as_delivered(
    client: TestClient, session: Session, people: dict[str, User]
) -> None:
    row = sent_row(session, people["john"], SENT_WAMID)
    post(client, envelope(statuses=[status(SENT_WAMID, "read"), status(SENT_WAMID, "delivered")]))
    session.refresh(row)
    assert (row.status, row.delivered_at, row.read_at) == (NotificationStatus.DELIVERED, NOW, NOW)


def test_a_failed_status_keeps_metas_error_code(
    client: TestClient, session: Session, people: dict[str, User]
) -> None:
    wamid = "wamid.HBgMMjU0NzExMDAwMDAyFQIAERgSQjNDNEQ1RTZGN0E4QjlDMEQxAA=="
    row = sent_row(session, people["john"], wamid)
    other = sent_row(session, people["mary"], "wamid.other")
    failed = status(
        wamid,
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "More than 24 hours have passed."},
            }
        ],
    )
    post(client, envelope(statuses=[failed, status("wamid.nobody-knows", "delivered")]))
    session.refresh(row)
    session.refresh(other)
    assert row.status is NotificationStatus.FAILED
    assert row.last_error == "131047: Re-engagement message"
    assert other.status is NotificationStatus.SENT


# ----------------------------------------------------------------- notifications


def queued(
    session: Session, user: User, kind: str, body: str = "Your October payslip is ready."
) -> Notification:
    row = Notification(
        organization_id=user.organization_id,
        recipient_id=user.id,
        channel=Channel.WHATSAPP,
        kind=kind,
        text=body,
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def heard_from(session: Session, user: User, at: datetime | None) -> None:
    identity = identities.link(
        session, user, Channel.WHATSAPP, JOHN, verified_via="employee_record"
    )
    identity.last_seen_at = at
    session.flush()


def attempts(session: Session, row: Notification) -> list[tuple[AttemptOutcome | None, str | None]]:
    return [(a.outcome, a.error_code) for a in outbox.attempts_of(session, row.id)]


@pytest.fixture
def delivering(session: Session, meta: graph.FakeGraph) -> Iterator[None]:
    # Retries are scheduled by the test moving the clock, not by a timer thread.
    with frozen(NOW), outbox.held():
        yield


@pytest.mark.usefixtures("delivering")
def test_a_notification_inside_the_window_goes_as_plain_text(
    session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    heard_from(session, john, NOW - timedelta(hours=1))
    row = queued(session, john, "payslip.ready")

    assert deliver(row.id) == "sent"

    (request,) = meta.sent()
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "254711000001",
        "type": "text",
        "text": {"preview_url": False, "body": "Your October payslip is ready."},
    }
    session.refresh(row)
    assert (row.status, row.provider_message_id) == (NotificationStatus.SENT, meta.given_ids[0])


@pytest.mark.usefixtures("delivering")
@pytest.mark.parametrize(
    ("last_wrote", "kind", "template"),
    [
        (NOW - timedelta(days=2), "payslip.ready", "payslip_ready_v1"),
        (None, "leave.decided", "ajira_update"),  # never wrote: the "*" template
        (NOW - timedelta(hours=23, minutes=50), "payslip.ready", "payslip_ready_v1"),
    ],
)
def test_outside_the_window_a_notification_goes_as_its_template(
    session: Session,
    people: dict[str, User],
    meta: graph.FakeGraph,
    last_wrote: datetime | None,
    kind: str,
    template: str,
) -> None:
    john = people["john"]
    john.language = "sw"
    heard_from(session, john, last_wrote)
    row = queued(session, john, kind, "Payslip yako ya Oktoba iko tayari.\nIpakue kwenye programu.")

    assert deliver(row.id) == "sent"

    (request,) = meta.sent()
    assert request.type == "template"
    assert request.body["template"] == {
        "name": template,
        "language": {"code": "sw"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {
                        "type": "text",
                        "text": "Payslip yako ya Oktoba iko tayari. · Ipakue kwenye programu.",
                    }
                ],
            }
        ],
    }


@pytest.mark.usefixtures("delivering")
def test_without_a_template_a_late_notification_fails_and_nothing_is_sent(
    session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    heard_from(session, john, NOW - timedelta(days=2))
    row = queued(session, john, "leave.decided")
    with settings_env(WHATSAPP_TEMPLATES=json.dumps({"payslip.ready": "payslip_ready_v1"})):
        assert deliver(row.id) == "failed"
    assert meta.sent() == []
    session.refresh(row)
    assert row.status is NotificationStatus.FAILED
    assert row.last_error is not None
    assert row.last_error.startswith("no_template")
    assert attempts(session, row) == [(AttemptOutcome.FAILED, "no_template")]


@pytest.mark.usefixtures("delivering")
def test_a_500_from_graph_is_retried_later_and_then_sent(
    session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    heard_from(session, john, NOW - timedelta(hours=1))
    row = queued(session, john, "payslip.ready")
    meta.answer(graph.UNAVAILABLE)

    assert deliver(row.id) == "retry"
    session.refresh(row)
    assert row.status is NotificationStatus.PENDING
    assert row.next_attempt_at is not None
    assert row.next_attempt_at > NOW
    assert deliver(row.id) == "skipped"  # not due yet

    with frozen(row.next_attempt_at):
        assert deliver(row.id) == "sent"
    session.refresh(row)
    assert row.status is NotificationStatus.SENT
    assert attempts(session, row) == [(AttemptOutcome.RETRY, "131000"), (AttemptOutcome.SENT, None)]
    assert len(meta.sent()) == 2


@pytest.mark.usefixtures("delivering")
@pytest.mark.parametrize(
    ("answer", "code"), [(graph.INVALID_PARAMETER, "131009"), (graph.RE_ENGAGEMENT, "131047")]
)
def test_a_400_from_graph_is_final_and_keeps_its_code(
    session: Session,
    people: dict[str, User],
    meta: graph.FakeGraph,
    answer: graph.Answer,
    code: str,
) -> None:
    john = people["john"]
    heard_from(session, john, NOW - timedelta(hours=1))
    row = queued(session, john, "payslip.ready")
    meta.answer(answer)

    assert deliver(row.id) == "failed"
    session.refresh(row)
    assert row.status is NotificationStatus.FAILED
    assert row.next_attempt_at is None
    assert row.last_error is not None
    assert row.last_error.startswith(f"{code}: HTTP 400")
    assert attempts(session, row) == [(AttemptOutcome.FAILED, code)]
    assert len(meta.sent()) == 1


@pytest.mark.usefixtures("delivering")
def test_a_throttled_send_is_retried(
    session: Session, people: dict[str, User], meta: graph.FakeGraph
) -> None:
    john = people["john"]
    heard_from(session, john, NOW - timedelta(hours=1))
    row = queued(session, john, "payslip.ready")
    meta.answer(graph.graph_error(429, 130429, "Rate limit hit"))
    assert deliver(row.id) == "retry"
    assert attempts(session, row) == [(AttemptOutcome.RETRY, "130429")]


# ----------------------------------------------------------------------- rendering


def test_window_is_24_hours_from_the_last_message_with_a_margin() -> None:
    assert window_open(NOW - timedelta(hours=1), NOW)
    assert not window_open(NOW - timedelta(hours=23, minutes=50), NOW)
    assert not window_open(NOW - timedelta(days=2), NOW)
    assert not window_open(None, NOW)


def test_a_long_answer_is_split_under_4096_characters_where_a_reader_would() -> None:
    sentence = "Annual leave is 21 working days a year and accrues monthly. "
    parts = render.parts(Reply(text=(sentence * 150).strip()))
    assert len(parts) > 1
    assert all(len(p.text) <= render.TEXT_MAX for p in parts)
    assert all(p.text.endswith(f"({n}/{len(parts)})") for n, p in enumerate(parts, 1))
    assert all(p.text.rsplit(" (", 1)[0].endswith(".") for p in parts)
    assert render.parts(Reply(text="short")) == [render.Part("short")]


def test_citations_become_a_short_sources_list() -> None:
    cites = tuple(
        Citation(n, "Staff handbook", ("Leave", f"Part {n}"), "quote") for n in range(1, 6)
    )
    (part,) = render.parts(Reply(text="Annual leave is 21 days [1].", citations=cites))
    lines = part.text.splitlines()
    assert lines[0] == "Annual leave is 21 days [1]."
    assert "*Sources*" in lines
    assert lines[-1] == "[3] Staff handbook › Leave › Part 3"
    assert len([line for line in lines if line.startswith("[")]) == 3


def test_a_confirmation_with_a_long_summary_sends_the_summary_then_the_buttons() -> None:
    confirmation = Confirmation("request_leave", {}, "x " * 700, "Send it?", "Yes", "No")
    parts = render.parts(Reply(text="", confirmation=confirmation))
    assert [p.choices for p in parts] == [(), (("yes", "Yes"), ("no", "No"))]
    assert parts[-1].text == "Send it?"


def test_many_options_become_a_list_and_long_titles_are_shortened() -> None:
    options = tuple((f"type-{n}", f"Compassionate leave option number {n}") for n in range(12))
    body = render.message_body(
        Outbound(Channel.WHATSAPP, "+254711000001", "Which leave type?", options, language="sw")
    )
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Chagua"
    (section,) = interactive["action"]["sections"]
    rows = section["rows"]
    assert len(rows) == 10
    assert all(len(r["title"]) <= 24 for r in rows)
    assert all(len(r["description"]) <= 72 for r in rows)
    assert rows[0]["id"] == "type-0"

    few = render.message_body(
        Outbound(
            Channel.WHATSAPP,
            "+254711000001",
            "Sure?",
            (("yes", "Yes, send the request now"), ("no", "No")),
        )
    )
    titles = [b["reply"]["title"] for b in few["interactive"]["action"]["buttons"]]
    assert titles == ["Yes, send the reque…", "No"]
    assert all(len(t) <= 20 for t in titles)
    assert few["to"] == "254711000001"
