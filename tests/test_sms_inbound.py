"""Two-way SMS over the real callback, the real assistant and the SDK against a stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from assistant import memory
from channels import gsm
from channels.africastalking import sms
from hrcore.clock import frozen
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.people.models import User
from tests.factories import Team, make_user
from tests.fakes import africastalking_server as at
from tests.fakes.outbox_support import at_env, settings_env

# Monday 23 November 2026, 09:00 in Nairobi: "kesho" is Tuesday the 24th.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
INBOUND = "/channels/africastalking/sms"
JOHN, MARY = "+254733100004", "+254733100003"


@pytest.fixture(scope="module")
def app(engine: object) -> FastAPI:
    memory.setup_checkpointer()
    return create_app()


@pytest.fixture(scope="module")
def module_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
        client.portal.call(memory.close_async_checkpointer)  # type: ignore[union-attr]


@pytest.fixture
def stand_in() -> Iterator[at.FakeAfricasTalking]:
    with at.running() as server, settings_env(**at_env(server.base_url)):
        yield server


@pytest.fixture
def client(module_client: TestClient, session: Session) -> Iterator[TestClient]:
    with frozen(NOW):
        yield module_client


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    with frozen(NOW):
        team = Team(session)
        leave.ensure_default_leave_types(session, team.org)
        team.supervisor.phone, team.employee.phone = MARY, JOHN
        session.flush()
        return {"mary": team.supervisor, "john": team.employee}


def text_in(client: TestClient, sender: str, text: str, message_id: str) -> None:
    body = urlencode(
        {
            "linkId": "",
            "text": text,
            "to": "22384",
            "id": message_id,
            "date": "2026-11-23 09:00:00",
            "from": sender,
            "networkCode": "63902",
        }
    )
    response = client.post(
        INBOUND, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text


def texts_to(server: at.FakeAfricasTalking, number: str) -> list[str]:
    return [r.form["message"] for r in server.sent() if r.form["to"] == number]


def test_done_when_nataka_likizo_kesho_then_ndiyo_files_a_request_and_tells_mary(
    client: TestClient, session: Session, people: dict[str, User], stand_in: at.FakeAfricasTalking
) -> None:
    john, mary = people["john"], people["mary"]
    text_in(client, JOHN, "nataka likizo kesho", "sms-1")
    (question,) = texts_to(stand_in, JOHN)
    assert "NDIYO" in question
    assert "HAPANA" in question
    assert gsm.is_gsm7(question)
    assert session.scalars(select(LeaveRequest)).all() == []  # nothing until the yes

    text_in(client, JOHN, "NDIYO", "sms-2")
    (request,) = session.scalars(select(LeaveRequest)).all()
    assert (request.employee_id, request.status) == (john.id, LeaveStatus.PENDING)
    assert (request.start_date, request.end_date) == (date(2026, 11, 24), date(2026, 11, 24))
    told = texts_to(stand_in, MARY)
    assert len(told) == 1
    assert john.full_name.split()[0] in told[0]
    assert len(texts_to(stand_in, JOHN)) == 2
    # Every request went out through the SDK to the stand-in, with our credentials.
    assert {r.api_key for r in stand_in.sent()} == {"atsk_test_only_not_a_real_key"}
    rows = session.scalars(select(Notification).where(Notification.recipient_id == mary.id)).all()
    assert [r.status for r in rows] == [NotificationStatus.SENT]


def test_a_resent_sms_is_answered_once_and_acts_once(
    client: TestClient, session: Session, people: dict[str, User], stand_in: at.FakeAfricasTalking
) -> None:
    text_in(client, JOHN, "nataka likizo kesho", "sms-10")
    text_in(client, JOHN, "NDIYO", "sms-11")
    text_in(client, JOHN, "NDIYO", "sms-11")  # Africa's Talking's retry
    assert len(session.scalars(select(LeaveRequest)).all()) == 1
    assert len(texts_to(stand_in, JOHN)) == 2


def test_an_unknown_number_is_told_how_to_link_once_a_day(
    client: TestClient, session: Session, people: dict[str, User], stand_in: at.FakeAfricasTalking
) -> None:
    stranger = "+254722999000"
    text_in(client, stranger, "nataka likizo kesho", "sms-20")
    text_in(client, stranger, "hello?", "sms-21")
    (told,) = texts_to(stand_in, stranger)
    assert "not linked" in told
    assert session.scalars(select(LeaveRequest)).all() == []


def test_a_deactivated_persons_text_does_nothing_but_say_so(
    client: TestClient, session: Session, people: dict[str, User], stand_in: at.FakeAfricasTalking
) -> None:
    people["john"].is_active = False
    session.flush()
    text_in(client, JOHN, "clock me in", "sms-30")
    (told,) = texts_to(stand_in, JOHN)
    assert "ended" in told


@pytest.mark.parametrize(
    "body",
    ["", "from=%2B254711000004&id=x", "text=hi&id=x", "from=not-a-phone&text=hi&id=x"],
)
def test_a_malformed_callback_is_a_400_problem(client: TestClient, body: str) -> None:
    response = client.post(
        INBOUND, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_sms"


def test_long_answers_are_split_where_a_reader_would_break_them() -> None:
    sentence = "Annual leave is 21 working days a year and accrues monthly. "
    parts = sms.split((sentence * 20).strip())
    assert len(parts) > 1
    assert all(gsm.septets(p) <= sms.MESSAGE_SEPTETS for p in parts)
    assert all(p.endswith(f"({n}/{len(parts)})") for n, p in enumerate(parts, 1))
    assert all(p.rsplit(" (", 1)[0].endswith(".") for p in parts)
    assert sms.split("short") == ["short"]


def test_the_rendered_answer_is_plain_gsm_even_from_smart_punctuation() -> None:
    from channels.messages import Reply

    text = sms.render(Reply(text="Likizo: 24–25 Novemba — “sawa” 👍", language="sw"))
    assert gsm.is_gsm7(text)
    assert "24-25" in text


def test_a_stranger_with_another_employer_number_format_is_still_parsed(session: Session) -> None:
    user = make_user(session, Team(session).org, phone="+255700000009")
    inbound = sms.parse({"from": "+255700000009", "text": "hi", "id": "abc"})
    assert inbound.sender == user.phone
