"""USSD sessions end to end: Africa's Talking's real callback bodies through the ASGI app.

Every screen any test sees goes through `Phone.post`, which checks it the way a handset
and a telco would: `CON `/`END `, at most 160 GSM-7 septets (extension characters count
two), nothing outside GSM-7 (one smart quote would switch the phone to UCS-2), at most
5 numbered options.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels import gsm
from channels.africastalking import callbacks, ussd
from hrcore.actor import Channel, Role
from hrcore.attendance.models import AttendanceRecord
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.identities.models import ChannelIdentity, InboundMessage
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.menus.models import MenuSession
from hrcore.notifications.models import Notification
from hrcore.payroll.runs import run_payroll
from hrcore.payroll.structures import set_salary_structure
from hrcore.people import service as people
from hrcore.people.models import User
from hrcore.wellness.models import IssueReport, MoodEntry
from tests.factories import arranged, as_actor, make_org, make_user
from tools.registry import run_tool

# Monday 23 November 2026, 09:00 in Nairobi: an hour after work starts.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
USSD = "/channels/africastalking/ussd"
EVENTS = "/channels/africastalking/ussd/events"
SERVICE_CODE = "*384*12345#"
_OPTION = re.compile(r"^\d+\. ", re.MULTILINE)


def check_screen(body: str) -> str:
    """The screen of a USSD answer, after checking what a handset and a telco need."""
    assert body[:4] in ("CON ", "END "), body
    screen = body[4:]
    assert screen.strip(), body
    assert gsm.is_gsm7(screen), f"not GSM-7 (would switch to UCS-2): {screen!r}"
    assert gsm.septets(screen) <= 160, f"{gsm.septets(screen)} septets: {screen!r}"
    assert len(_OPTION.findall(screen)) <= 5, screen
    return screen


@dataclass
class Phone:
    """One caller's USSD session, as Africa's Talking would post it."""

    client: TestClient
    number: str
    session_id: str
    text: str | None = None
    screens: list[str] = field(default_factory=list)

    def post(self, text: str, **extra: str) -> Response:
        body = urlencode(
            {
                "phoneNumber": self.number,
                "serviceCode": SERVICE_CODE,
                "text": text,
                "sessionId": self.session_id,
                "networkCode": "63902",
                **extra,
            }
        )
        response = self.client.post(
            USSD,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "User-Agent": "at-ussd-api/1.0",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        self.screens.append(check_screen(response.text))
        return response

    def dial(self) -> str:
        self.text = ""
        return self.post("").text

    def send(self, entry: str) -> str:
        assert self.text is not None, "dial first"
        self.text = entry if self.text == "" else f"{self.text}*{entry}"
        return self.post(self.text).text


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    with frozen(NOW):
        yield TestClient(app, raise_server_exceptions=False)


@dataclass
class Demo:
    """The demo employer's people (as `ajira seed-demo` creates them), built with factories."""

    mary: User
    john: User
    amina: User
    peter: User
    grace: User


@pytest.fixture
def demo(session: Session) -> Iterator[Demo]:
    with frozen(NOW):
        org = make_org(session, name="Jua Kali Foods Ltd")
        leave.ensure_default_leave_types(session, org)
        grace = make_user(
            session, org, role=Role.ADMIN, full_name="Grace Wanjiru", phone="+254700000001"
        )
        peter = make_user(
            session, org, role=Role.HR, full_name="Peter Otieno", phone="+254700000002"
        )
        mary = make_user(
            session, org, role=Role.SUPERVISOR, full_name="Mary Akinyi", phone="+254700000003"
        )
        john = make_user(
            session, org, reports_to=mary, full_name="John Kamau", phone="+254700000004"
        )
        amina = make_user(
            session, org, reports_to=mary, full_name="Amina Hassan", phone="+254700000005"
        )
        yield Demo(mary=mary, john=john, amina=amina, peter=peter, grace=grace)


_sessions = iter(range(1, 10_000))


def phone(client: TestClient, user: User | str) -> Phone:
    number = user if isinstance(user, str) else user.phone
    assert number is not None
    return Phone(client, number, f"ATUid_{next(_sessions):032x}")


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def pay_october(session: Session, demo: Demo) -> None:
    hr = as_actor(demo.peter)
    for user in (demo.mary, demo.john, demo.amina, demo.peter, demo.grace):
        set_salary_structure(
            session,
            hr,
            employee_id=user.id,
            basic_pay=Decimal(85000),
            effective_from=date(2024, 1, 1),
        )
    run_payroll(session, hr, month="2026-10", finalize=True)


def file_leave(session: Session, user: User) -> LeaveRequest:
    return leave.request_leave(
        session,
        as_actor(user),
        leave_type="annual",
        start_date=date(2026, 12, 7),
        end_date=date(2026, 12, 8),
    )


# ------------------------------------------------------------------ the done-when sessions


def test_john_clocks_in(client: TestClient, session: Session, demo: Demo) -> None:
    john = phone(client, demo.john)
    home = john.dial()
    assert home.startswith("CON Hi John! Choose:\n1. Clock in\n2. Clock out\n")
    assert "98.More" in home
    assert john.send("1") == "END Clocked in at 09:00. 60 min late."
    record = session.scalar(
        select(AttendanceRecord).where(AttendanceRecord.employee_id == demo.john.id)
    )
    assert record is not None
    assert (record.method_in, record.clock_in_at, record.late_minutes) == ("ussd", NOW, 60)
    identity = session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.user_id == demo.john.id)
    )
    assert identity is not None
    assert (identity.channel, identity.address) == (
        "ussd",
        demo.john.phone,
    )


def test_john_requests_leave_with_confirmation(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    types = john.send("3")
    assert types == (
        "CON Type of leave:\n1. Annual leave\n2. Compassionate leave\n3. Maternity leave\n"
        "4. Paternity leave\n5. Sick leave\n98.More 0.Back 00.Home"
    )
    prompt = john.send("1")
    assert prompt == "CON First day of leave as DDMM (e.g. 2411 for Tue 24 Nov):\n0.Back 00.Home"
    assert john.send("0712") == "CON Number of days (1-60):\n0.Back 00.Home"
    confirm = john.send("2")
    assert confirm.startswith(
        "CON Annual leave: Mon 7 Dec to Tue 8 Dec, 2 days. 13 left after this.\n"
        "1. Confirm\n2. Cancel\n0.Back 00.Home"
    ), confirm
    assert count(session, LeaveRequest) == 0, "the confirmation screen is a dry run"
    done = john.send("1")
    filed = session.scalar(select(LeaveRequest).where(LeaveRequest.employee_id == demo.john.id))
    assert filed is not None
    assert done == (
        f"END Request #{filed.id} sent for approval. You will get an SMS when it is decided."
    )
    assert (filed.start_date, filed.end_date, filed.status, filed.leave_type.code) == (
        date(2026, 12, 7),
        date(2026, 12, 8),
        LeaveStatus.PENDING,
        "annual",
    )
    told = session.scalars(select(Notification).where(Notification.recipient_id == demo.mary.id))
    assert [n.kind for n in told] == ["leave.requested"]


def test_mary_approves_johns_request_with_her_pin(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    for entry in ("3", "1", "0712", "2", "1"):
        john.send(entry)
    request = session.scalar(select(LeaveRequest).where(LeaveRequest.employee_id == demo.john.id))
    assert request is not None
    assert request.status == LeaveStatus.PENDING
    mary = phone(client, demo.mary)
    home = mary.dial()
    assert "1. Clock in" in home
    assert "98.More" in home
    more = mary.send("98")
    assert "8. Pending requests" in more
    assert mary.send("8") == (
        "CON Choose a 4-digit PIN. It protects your payslip and approvals:\n0.Back 00.Home"
    )
    assert mary.send("4821") == "CON Enter the new PIN again:\n0.Back 00.Home"
    listed = mary.send("4821")
    assert listed.startswith("CON Leave waiting for you:\n1. John K. 7/12 2 days\n"), listed
    decide = mary.send("1")
    assert decide.startswith(
        "CON John Kamau: Annual leave, Mon 7 Dec to Tue 8 Dec (2 days)\n1. Approve\n2. Reject"
    ), decide
    confirm = mary.send("1")
    assert confirm.startswith("CON Approve John K.: Annual leave Mon 7 Dec to Tue 8 Dec, 2 days?")
    assert count(session, LeaveRequest, LeaveRequest.status == LeaveStatus.APPROVED) == 0
    done = mary.send("1")
    assert done == (
        "CON John K.: Annual leave from Mon 7 Dec approved. They will get an SMS.\n"
        "1. Next request\n00.Home"
    )
    session.refresh(request)
    assert (request.status, request.decided_by_id) == (LeaveStatus.APPROVED, demo.mary.id)
    session.refresh(demo.mary)
    assert demo.mary.pin_hash
    assert "4821" not in demo.mary.pin_hash
    kinds = session.scalars(
        select(Notification.kind).where(Notification.recipient_id == demo.john.id)
    )
    assert list(kinds) == ["leave.approved"]
    # Nothing left: the next request is "none", back on the home screen.
    assert mary.send("1").startswith("CON No leave requests are waiting for you.\nHi Mary!")


def test_amina_gets_her_payslip_with_her_pin_and_by_sms(
    client: TestClient, session: Session, demo: Demo
) -> None:
    pay_october(session, demo)
    people.set_pin(session, as_actor(demo.amina), pin="2580")
    amina = phone(client, demo.amina)
    amina.dial()
    assert amina.send("5") == "CON Enter your 4-digit PIN:\n0.Back 00.Home"
    slip = amina.send("2580")
    assert slip == (
        "END Payslip Oct 2026\nGross KES 85,000\nNet KES 61,017.90\n"
        "The full payslip is on its way by SMS."
    )
    sms = session.scalar(
        select(Notification).where(
            Notification.recipient_id == demo.amina.id, Notification.kind == "payslip.sms"
        )
    )
    assert sms is not None
    assert sms.channel == Channel.SMS
    assert sms.text.startswith("Payslip Oct 2026, Amina Hassan\nBasic")
    assert "net pay KES 61,017.90." in sms.text
    assert "PAYE" in sms.text


# ------------------------------------------------------------------ retries and resent input


def test_the_same_session_and_text_twice_gets_the_same_screen_and_one_request(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    for entry in ("3", "1", "0712", "2"):
        john.send(entry)
    first = john.send("1")
    again = john.post(john.text or "")
    assert again.text == first
    assert count(session, LeaveRequest) == 1
    # The id is the session and a keyed digest: the input (it may hold a PIN) is not in it.
    ids = session.scalars(select(InboundMessage.external_id)).all()
    assert all(i.startswith(john.session_id + ":") for i in ids)
    assert not any("0712" in i for i in ids)


def test_a_network_that_resends_the_whole_input_from_an_earlier_screen(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    type_list = john.send("3")
    john.send("1")
    # The network sends the input of an earlier screen again: its screen again.
    assert john.post("3").text == type_list
    # ...and the caller, who saw that screen, now picks sick leave from it.
    prompt = john.post("3*5").text
    assert prompt.startswith("CON First day of leave")
    john.text = "3*5"
    john.send("2311")
    confirm = john.send("1")
    assert confirm.startswith("CON Sick leave: Mon 23 Nov to Mon 23 Nov, 1 day."), confirm
    john.send("1")
    filed = session.scalars(select(LeaveRequest)).all()
    assert [(r.leave_type.code, r.start_date) for r in filed] == [("sick", date(2026, 11, 23))]


def test_a_resent_first_request_then_a_new_path_from_home(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    home = john.dial()
    john.send("3")
    assert john.post("").text == home
    balance = john.post("4").text
    assert balance == (
        "END Days you can take:\nAnnual leave: 13.5\nCompassionate leave: 5\n"
        "Maternity leave: 90\nPaternity leave: 14\nSick leave: 14"
    )


def test_a_whole_session_in_the_first_request(
    client: TestClient, session: Session, demo: Demo
) -> None:
    # Dialled as *384*12345*1#: the first request already carries the input.
    john = phone(client, demo.john)
    assert john.post("1").text == "END Clocked in at 09:00. 60 min late."
    assert count(session, AttendanceRecord) == 1


def test_free_text_may_hold_a_star(client: TestClient, session: Session, demo: Demo) -> None:
    amina = phone(client, demo.amina)
    amina.dial()
    assert amina.send("98").count("\n") >= 2
    prompt = amina.send("7")
    assert prompt.startswith("CON Report without your name. What is it about?\n1. Harassment")
    amina.send("2")
    text = "Loose cable *near* the door*" + "*".join("abcdefghij")
    done = amina.send(text)
    assert done == "END Thank you. Your report went to HR without your name."
    (report,) = session.scalars(select(IssueReport)).all()
    assert (report.category, report.text) == ("safety", text)


# ------------------------------------------------------------------ PINs


def test_three_wrong_pins_lock_phone_access_until_hr_resets_it(
    client: TestClient, session: Session, demo: Demo
) -> None:
    pay_october(session, demo)
    people.set_pin(session, as_actor(demo.amina), pin="2580")
    amina = phone(client, demo.amina)
    amina.dial()
    amina.send("5")
    wrong = [amina.send(pin) for pin in ("1111", "2222")]
    # No countdown: the same screen each time, which says nothing about attempts.
    assert wrong == ["CON Wrong PIN. Try again.\nEnter your 4-digit PIN:\n0.Back 00.Home"] * 2
    locked = amina.send("3333")
    assert locked == (
        "END Too many wrong PINs: phone access is locked until 09:30. HR can reset your PIN."
    )
    session.refresh(demo.amina)
    assert demo.amina.pin_locked_until == NOW + timedelta(minutes=30)
    # Locked for the whole phone menu, even with the right PIN in a new session.
    again = phone(client, demo.amina)
    assert again.dial() == locked
    assert again.post("5*2580").text == locked
    assert count(session, Notification, Notification.kind == "payslip.sms") == 0
    outcomes = session.scalars(
        select(AuditEntry.outcome)
        .where(AuditEntry.action == "employee.pin_check")
        .order_by(AuditEntry.id)
    ).all()
    assert outcomes == ["wrong", "wrong", "locked"]

    reset = run_tool(session, as_actor(demo.peter), "reset_pin", {"employee_id": demo.amina.id})
    assert reset.summary.startswith("The phone PIN of Amina Hassan is cleared")
    session.refresh(demo.amina)
    assert (demo.amina.pin_hash, demo.amina.pin_locked_until) == (None, None)
    told = session.scalars(
        select(Notification.kind).where(Notification.recipient_id == demo.amina.id)
    )
    assert "pin.reset" in list(told)
    fresh = phone(client, demo.amina)
    fresh.dial()
    assert fresh.send("5").startswith("CON Choose a 4-digit PIN.")
    fresh.send("7391")
    assert fresh.send("7391").startswith("END Payslip Oct 2026")


def test_a_right_pin_clears_the_count_and_the_lock_ends_after_30_minutes(
    session: Session, demo: Demo
) -> None:
    people.set_pin(session, as_actor(demo.amina), pin="2580")
    actor = as_actor(demo.amina, Channel.USSD)

    def check(pin: str) -> people.PinCheck:
        return people.check_pin(session, actor, pin=pin)

    with frozen(NOW):
        assert [check("1111"), check("2222"), check("2580")] == ["wrong", "wrong", "ok"]
        assert demo.amina.pin_failed_attempts == 0
        assert [check("1111"), check("2222"), check("3333")] == ["wrong", "wrong", "locked"]
        assert check("2580") == "locked"  # even the right PIN, while locked
    with frozen(NOW + timedelta(minutes=29)):
        assert check("2580") == "locked"
    with frozen(NOW + timedelta(minutes=30, seconds=1)):
        assert check("2580") == "ok"


def test_pin_rules_on_the_phone(client: TestClient, session: Session, demo: Demo) -> None:
    mary = phone(client, demo.mary)
    mary.dial()
    mary.send("98")
    mary.send("8")
    assert mary.send("12").startswith("CON A PIN is 4 digits.\nChoose a 4-digit PIN.")
    mary.send("1234")
    weak = mary.send("1234")
    assert weak.startswith("CON That PIN is too easy to guess.\nChoose a 4-digit PIN.")
    mary.send("4821")
    assert mary.send("4822").startswith("CON The two PINs were different. Start again.")
    session.refresh(demo.mary)
    assert demo.mary.pin_hash is None


def test_reset_pin_is_for_hr_and_admin_only(session: Session, demo: Demo) -> None:
    from hrcore.errors import Forbidden

    with pytest.raises(Forbidden):
        run_tool(session, as_actor(demo.mary), "reset_pin", {"employee_id": demo.john.id})


# ------------------------------------------------------------------ who is calling


def test_an_unknown_number_gets_a_polite_end_and_nothing_else(
    client: TestClient, session: Session, demo: Demo
) -> None:
    stranger = phone(client, "+254799123456")
    expected = (
        "END Sorry, this number is not registered with Ajira. Please ask your HR team to add "
        "it.\nNamba hii haijasajiliwa. Wasiliana na HR."
    )
    assert stranger.dial() == expected
    # The same answer wherever it pretends to be, PIN included: nothing tells more.
    assert stranger.post("5").text == expected
    assert stranger.post("5*2580").text == expected
    assert count(session, MenuSession) == 0
    assert count(session, ChannelIdentity) == 0


def test_a_deactivated_users_number_gets_a_clear_end(
    client: TestClient, session: Session, demo: Demo
) -> None:
    demo.john.is_active = False
    session.flush()
    john = phone(client, demo.john)
    assert john.dial() == (
        "END Your access to Ajira has ended. If you think this is a mistake, speak to your HR team."
    )
    assert john.post("1").text.startswith("END Your access to Ajira has ended.")
    assert count(session, AttendanceRecord) == 0


# ------------------------------------------------------------------ language and characters


def test_swahili_speakers_get_every_screen_in_swahili(
    client: TestClient, session: Session, demo: Demo
) -> None:
    demo.amina.language = "sw"
    session.flush()
    amina = phone(client, demo.amina)
    home = amina.dial()
    assert home.startswith("CON Habari Amina! Chagua:\n1. Ingia kazini\n2. Toka kazini\n")
    assert "98.Zaidi" in home
    assert amina.send("3").startswith("CON Aina ya likizo:\n1. Likizo ya mwaka\n")
    amina.send("1")
    assert amina.send("1").startswith("CON Andika tarehe kama DDMM")
    amina.send("0712")
    confirm = amina.send("1")
    assert confirm.startswith("CON Likizo ya mwaka: Jumatatu 7 Des hadi Jumatatu 7 Des, siku 1.")
    assert "1. Thibitisha\n2. Ghairi\n0.Rudi 00.Mwanzo" in confirm
    assert amina.send("1").startswith("END Ombi #")


def test_names_are_transliterated_to_gsm(client: TestClient, session: Session, demo: Demo) -> None:
    demo.john.full_name = "Zoë “Kamau” ✨"
    session.flush()
    john = phone(client, demo.john)
    assert john.dial().startswith("CON Hi Zoe! Choose:")


@pytest.mark.parametrize(
    "text",
    [
        "9" * 20_000,
        "1*" * 10_000,
        "😀",
        "Mwajiri ’ wangu – sawa",
        "'; DROP TABLE users; --",
        "{name}[x]%s%n\x00",
        "*",
        "**",
        "00*00*0*98*98*98",
    ],
    ids=[
        "20k-digits",
        "20k-stars",
        "emoji",
        "smart-quote",
        "sql",
        "template",
        "star",
        "stars",
        "nav",
    ],
)
def test_absurd_text_gets_a_normal_screen(
    client: TestClient, session: Session, demo: Demo, text: str
) -> None:
    john = phone(client, demo.john)
    john.dial()
    john.post(text)
    assert count(session, LeaveRequest) == 0


def test_absurd_input_on_every_kind_of_screen_keeps_the_session(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    assert john.send("42").startswith("CON Invalid choice. Try again.\nHi John!")
    john.send("3")
    assert john.send("😀").startswith("CON Invalid choice. Try again.\nType of leave:")
    john.send("1")
    assert john.send("3102").startswith("CON Type the date as DDMM, e.g. 2411.")
    john.send("0712")
    assert john.send("61").startswith("CON Type a number from 1 to 60.")
    assert john.send("0").startswith("CON First day of leave")
    assert john.send("00").startswith("CON Hi John!")


def test_a_refusal_is_shown_on_the_screen_it_came_from(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    for entry in ("3", "1", "0712"):
        john.send(entry)
    refused = john.send("16")
    assert refused == (
        "CON Not enough annual leave: 15 days available by December 2026, but this needs 16 "
        "working days.\nNumber of days (1-60):\n0.Back 00.Home"
    )
    # A long refusal is cut, never the screen it belongs to.
    spans = john.send("40")
    assert spans.startswith("CON Leave cannot span two calendar years")
    assert spans.endswith("...\nNumber of days (1-60):\n0.Back 00.Home")
    john.send("1")
    assert john.send("2").startswith("CON Cancelled. Nothing was saved.\nHi John!")
    assert count(session, LeaveRequest) == 0


def test_mood_and_navigation(client: TestClient, session: Session, demo: Demo) -> None:
    john = phone(client, demo.john)
    john.dial()
    page2 = john.send("98")
    assert "6. Today's mood" in page2
    assert "0.Back" in page2
    assert john.send("0").startswith("CON Hi John! Choose:\n1. Clock in")
    john.send("6")
    assert john.send("4") == "END Thank you. Your mood is recorded without your name."
    assert count(session, MoodEntry) == 1


# ------------------------------------------------------------------ the end of a session


def _form(client: TestClient, path: str, fields: dict[str, str], **params: str) -> Response:
    return client.post(
        path,
        content=urlencode(fields),
        params=params,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_the_end_of_session_report_is_recorded_without_the_input(
    client: TestClient, session: Session, demo: Demo
) -> None:
    john = phone(client, demo.john)
    john.dial()
    last = john.send("1")
    response = _form(
        client,
        EVENTS,
        {
            "date": "2026-11-23 09:00:42",
            "sessionId": john.session_id,
            "serviceCode": SERVICE_CODE,
            "networkCode": "63902",
            "phoneNumber": demo.john.phone or "",
            "status": "Success",
            "cost": "KES 0.10",
            "durationInMillis": "41250",
            "hopsCount": "2",
            "input": "5*2580",
            "lastAppResponse": last,
            "errorMessage": "",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "received"}
    row = session.scalar(select(MenuSession).where(MenuSession.session_key == john.session_id))
    assert row is not None
    session.refresh(row)
    assert (row.end_status, row.duration_ms, row.end_hops, row.error_message) == (
        "Success",
        41250,
        2,
        None,
    )
    assert row.last_response == last
    assert "2580" not in str(row.state) + str(row.trail)


def test_a_failed_session_of_an_unknown_caller_is_recorded_too(
    client: TestClient, session: Session
) -> None:
    fields = {
        "sessionId": "ATUid_c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f0",
        "status": "Failed",
        "durationInMillis": "15310",
        "hopsCount": "1",
        "input": "",
        "lastAppResponse": "",
        "errorMessage": "Application response timeout",
    }
    assert _form(client, EVENTS, fields).status_code == 200
    row = session.scalar(select(MenuSession).where(MenuSession.session_key == fields["sessionId"]))
    assert row is not None
    assert (row.end_status, row.error_message, row.user_id) == (
        "Failed",
        "Application response timeout",
        None,
    )


# ------------------------------------------------------------------ bad requests


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        (
            {
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "+254700000004",
                "text": "",
                "networkCode": "1",
            },
            "sessionId",
        ),
        (
            {
                "sessionId": "ATUid_1",
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "+254700000004",
                "networkCode": "1",
            },
            "text",
        ),
        (
            {
                "sessionId": "ATUid_1",
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "not a phone",
                "text": "",
                "networkCode": "1",
            },
            "phoneNumber",
        ),
        (
            {
                "sessionId": "ATUid 1; drop",
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "+254700000004",
                "text": "",
                "networkCode": "1",
            },
            "sessionId",
        ),
        (
            {
                "sessionId": "A" * 101,
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "+254700000004",
                "text": "",
                "networkCode": "1",
            },
            "sessionId",
        ),
        (
            {
                "sessionId": "ATUid_1",
                "phoneNumber": "+254700000004",
                "text": "",
                "networkCode": "1",
            },
            "serviceCode",
        ),
        (
            {
                "sessionId": "ATUid_1",
                "serviceCode": SERVICE_CODE,
                "phoneNumber": "+254700000004",
                "text": "",
            },
            "networkCode",
        ),
    ],
)
def test_malformed_callbacks_are_400_problems(
    client: TestClient, fields: dict[str, str], detail: str
) -> None:
    response = _form(client, USSD, fields)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "malformed_ussd_request"
    assert detail in body["detail"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"sessionId": "ATUid_1"}', "application/json"),
        (b"", "application/x-www-form-urlencoded"),
        (
            b"sessionId=ATUid_1&sessionId=ATUid_2&serviceCode=1&phoneNumber=%2B254700000004&text=&networkCode=1",
            "application/x-www-form-urlencoded",
        ),
        (b"\xff\xfe\x00garbage", "multipart/form-data; boundary=zzz"),
    ],
    ids=["json", "empty", "duplicate", "broken-multipart"],
)
def test_bodies_that_are_not_a_callback_are_400(
    client: TestClient, content: bytes, content_type: str
) -> None:
    response = client.post(USSD, content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_ussd_request"


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "Success"},
        {"sessionId": "ATUid_1"},
        {"sessionId": "ATUid_1", "status": "Success", "durationInMillis": "soon"},
        {"sessionId": "ATUid_1", "status": "Success", "hopsCount": "-1"},
    ],
)
def test_malformed_session_ends_are_400(client: TestClient, fields: dict[str, str]) -> None:
    response = _form(client, EVENTS, fields)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_ussd_event"


def test_the_optional_callback_token(
    client: TestClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AT_CALLBACK_TOKEN", "s3cret-path-token-for-at")
    callbacks.get_callback_settings.cache_clear()
    try:
        fields = {
            "sessionId": "ATUid_tok",
            "serviceCode": SERVICE_CODE,
            "phoneNumber": demo.john.phone or "",
            "networkCode": "63902",
            "text": "",
        }
        assert _form(client, USSD, fields).status_code == 403
        assert _form(client, USSD, fields, token="wrong").json()["code"] == "invalid_callback_token"
        assert (
            _form(client, EVENTS, {"sessionId": "ATUid_tok", "status": "Success"}).status_code
            == 403
        )
        good = _form(client, USSD, fields, token="s3cret-path-token-for-at")
        assert good.status_code == 200
        check_screen(good.text)
    finally:
        monkeypatch.delenv("AT_CALLBACK_TOKEN")
        callbacks.get_callback_settings.cache_clear()


def test_callbacks_are_rate_limited_per_address(
    client: TestClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrcore.config import get_settings

    monkeypatch.setattr(get_settings(), "webhook_limit", "2/minute")
    john = phone(client, demo.john)
    john.dial()
    john.post("")
    response = _form(client, USSD, {"sessionId": john.session_id})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


# ------------------------------------------------------------------ every screen, every role


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize("who", ["john", "mary", "peter", "grace"])
def test_every_first_screen_for_every_role_and_language(
    client: TestClient, session: Session, demo: Demo, who: str, language: str
) -> None:
    pay_october(session, demo)
    file_leave(session, demo.john)
    user: User = getattr(demo, who)
    user.language = language
    user.full_name = "Bartholomew-Wanjiku Ng'ang'a Odhiambo-Kamau"
    people.set_pin(session, as_actor(user), pin="2580")
    session.flush()
    caller = phone(client, user)
    home = caller.dial()
    options = 0
    while True:
        options += len(re.findall(r"^\d+\. ", home, re.MULTILINE))
        if "98." not in home:
            break
        home = caller.send("98")
    assert options >= 7
    for number in range(1, options + 1):
        item = phone(client, user)
        item.dial()
        first = item.post(str(number)).text
        if "PIN" in first:
            item.post(f"{number}*2580")
    # Every screen seen above went through check_screen.
    assert count(session, MenuSession) == options + 1


def test_old_sessions_are_forgotten(client: TestClient, session: Session, demo: Demo) -> None:
    john = phone(client, demo.john)
    john.dial()
    with frozen(NOW + timedelta(days=2)):
        other = phone(client, demo.amina)
        other.dial()
    keys = session.scalars(select(MenuSession.session_key)).all()
    assert keys == [other.session_id]


# ------------------------------------------------------------------ retries racing each other


def test_parallel_retries_of_a_confirmation_act_once(committed_engine: Any) -> None:
    import asyncio

    with frozen(NOW):
        with arranged() as s:
            org = make_org(s, name="Race Ltd")
            leave.ensure_default_leave_types(s, org)
            boss = make_user(s, org, role=Role.SUPERVISOR, phone="+254711555001")
            worker = make_user(s, org, reports_to=boss, phone="+254711555002")
            worker_id = worker.id

        def request(text: str) -> ussd.UssdRequest:
            return ussd.UssdRequest("ATUid_race", SERVICE_CODE, "+254711555002", "63902", text)

        async def walk() -> list[str]:
            for text in ("", "3", "3*1", "3*1*0712", "3*1*0712*2"):
                check_screen(await ussd.answer(request(text)))
            confirm = request("3*1*0712*2*1")
            return list(await asyncio.gather(*(ussd.answer(confirm) for _ in range(6))))

        bodies = asyncio.run(walk())
    assert len(set(bodies)) == 1, bodies
    assert bodies[0].startswith("END Request #")
    with arranged() as s:
        assert count(s, LeaveRequest, LeaveRequest.employee_id == worker_id) == 1
        assert count(s, InboundMessage) == 6
