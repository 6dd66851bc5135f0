"""Messages from hr: to a person, a department or everyone, by service, REST and chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import memory
from assistant.offline import OfflineChatModel
from assistant.service import Assistant
from hrcore.audit import AuditEntry
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications import broadcasts
from hrcore.notifications.models import Broadcast, Notification, NotificationStatus
from hrcore.people.models import User
from tests.factories import Team, bearer, make_department, make_user, refused
from tests.fakes import LoopRunner

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Nairobi
TOOLS = "/api/v1/tools"

run = LoopRunner()


@pytest.fixture(scope="module", autouse=True)
def _checkpointer(engine: object) -> Iterator[None]:
    memory.setup_checkpointer()
    yield
    run.close()


pytestmark = pytest.mark.frozen_at(NOW)


@pytest.fixture
def other(session: Session) -> Team:
    return Team(session)


def notes_of(session: Session, broadcast_id: int) -> list[Notification]:
    return list(
        session.scalars(select(Notification).where(Notification.broadcast_id == broadcast_id))
    )


def recipients(session: Session, broadcast_id: int) -> set[int]:
    return {n.recipient_id for n in notes_of(session, broadcast_id)}


# --------------------------------------------------------------------------- service


def test_everyone_means_the_active_people_of_the_senders_organization(
    session: Session, team: Team, other: Team
) -> None:
    gone = make_user(session, team.org, is_active=False)

    sent = broadcasts.send_message(
        session, team.actor("hr"), "everyone", None, "  The canteen is closed on Friday.  "
    )

    expected = {p.id for p in team.people()} - {team.hr.id}
    assert recipients(session, sent.id) == expected
    assert gone.id not in recipients(session, sent.id)
    assert not recipients(session, sent.id) & {p.id for p in other.people()}
    assert sent.recipients == len(expected)
    assert sent.text == "The canteen is closed on Friday."
    notes = notes_of(session, sent.id)
    assert {n.kind for n in notes} == {"message"}
    assert {n.organization_id for n in notes} == {team.org.id}
    # Signed, so people know who is telling them.
    assert all(n.text == f"{team.hr.full_name}: {sent.text}" for n in notes)
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "message.send", AuditEntry.target_id == str(sent.id)
        )
    ).all()
    assert [(a.actor_user_id, a.outcome) for a in audit] == [(team.hr.id, "ok")]


def test_a_department_gets_it_and_nobody_else(session: Session, team: Team) -> None:
    logistics = make_department(session, team.org, "Logistics")
    for person in (team.employee, team.teammate):
        person.department_id = logistics.id
    session.flush()

    sent = broadcasts.send_message(
        session, team.actor("admin"), "department", logistics.id, "Kikao ni saa nne."
    )

    assert recipients(session, sent.id) == {team.employee.id, team.teammate.id}
    assert (sent.audience, sent.audience_id, sent.sender_id) == (
        "department",
        logistics.id,
        team.admin.id,
    )


def test_one_person(session: Session, team: Team) -> None:
    sent = broadcasts.send_message(
        session, team.actor("hr"), "person", team.employee.id, "Your badge is ready."
    )
    assert recipients(session, sent.id) == {team.employee.id}


def test_another_organizations_department_or_person_is_not_found(
    session: Session, team: Team, other: Team
) -> None:
    theirs = make_department(session, other.org, "Logistics")
    with refused(NotFound):
        broadcasts.send_message(session, team.actor("hr"), "department", theirs.id, "Hi")
    with refused(NotFound):
        broadcasts.send_message(session, team.actor("hr"), "person", other.employee.id, "Hi")
    assert session.scalar(select(Broadcast).where(Broadcast.organization_id == team.org.id)) is None


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_only_hr_and_admin_may_send(session: Session, team: Team, who: str) -> None:
    with refused(Forbidden):
        broadcasts.send_message(session, team.actor(who), "everyone", None, "Hello all")


@pytest.mark.parametrize(
    ("audience", "text", "error", "code"),
    [
        ("person", "Hi me", Invalid, "message_to_self"),
        ("everyone", "", Invalid, "message_empty"),
        ("everyone", "   ", Invalid, "message_empty"),
        ("everyone", "x" * 1001, Invalid, "message_too_long"),
        ("team", "Hi", Invalid, "invalid_audience"),
    ],
)
def test_refusals(
    session: Session, team: Team, audience: str, text: str, error: type, code: str
) -> None:
    audience_id = team.hr.id if audience == "person" else None
    with refused(error) as info:
        broadcasts.send_message(session, team.actor("hr"), audience, audience_id, text)
    assert info.value.code == code


def test_a_thousand_characters_is_fine_and_an_inactive_person_is_refused(
    session: Session, team: Team
) -> None:
    sent = broadcasts.send_message(session, team.actor("hr"), "everyone", None, "y" * 1000)
    assert len(sent.text) == 1000
    team.outsider.is_active = False
    session.flush()
    with refused(Conflict):
        broadcasts.send_message(session, team.actor("hr"), "person", team.outsider.id, "Hi")


def test_delivery_counts_follow_the_rows(session: Session, team: Team, other: Team) -> None:
    sent = broadcasts.send_message(session, team.actor("hr"), "everyone", None, "Payday is 25th")
    notes = sorted(notes_of(session, sent.id), key=lambda n: n.id)
    assert len(notes) == 5
    notes[0].status = NotificationStatus.SENT
    notes[1].status = NotificationStatus.DELIVERED
    notes[2].status = NotificationStatus.FAILED
    notes[3].status = NotificationStatus.SENDING
    notes[4].status = NotificationStatus.PENDING
    session.flush()

    counts = broadcasts.delivery_counts(session, team.actor("admin"), sent.id)

    assert (counts.recipients, counts.pending, counts.sent, counts.delivered, counts.failed) == (
        5,
        2,
        1,
        1,
        1,
    )
    with refused(NotFound):
        broadcasts.delivery_counts(session, other.actor("hr"), sent.id)
    with refused(Forbidden):
        broadcasts.delivery_counts(session, team.actor("employee"), sent.id)


# ------------------------------------------------------------------ names to audiences


def test_names_are_read_as_departments_or_people(session: Session, team: Team) -> None:
    logistics = make_department(session, team.org, "Logistics")
    team.employee.full_name = "John Kamau"
    team.teammate.full_name = "John Otieno"
    team.outsider.full_name = "Amina Hassan"
    session.flush()
    hr = team.actor("hr")

    assert broadcasts.find_addressee(session, hr, "wote").audience == "everyone"
    found = broadcasts.find_addressee(session, hr, f"the {logistics.name} team")
    assert (found.audience, found.audience_id) == ("department", logistics.id)
    found = broadcasts.find_addressee(session, hr, "amina")
    assert (found.audience, found.audience_id) == ("person", team.outsider.id)
    found = broadcasts.find_addressee(session, hr, f"#{team.employee.id}")
    assert (found.audience, found.audience_id) == ("person", team.employee.id)
    with refused(Invalid) as info:
        broadcasts.find_addressee(session, hr, "John")
    assert info.value.code == "ambiguous_recipient"
    assert "John Kamau" in info.value.message
    assert "John Otieno" in info.value.message
    with refused(NotFound):
        broadcasts.find_addressee(session, hr, "Marketing")


# ------------------------------------------------------------------------------ REST


def test_rest_sends_and_counts(
    client: TestClient, session: Session, team: Team, other: Team
) -> None:
    logistics = make_department(session, team.org, "Logistics")
    team.employee.department_id = logistics.id
    session.flush()

    response = client.post(
        f"{TOOLS}/send_message",
        json={"to": logistics.name, "text": "The truck leaves at 6."},
        headers=bearer(team.hr),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["audience"], body["audience_id"], body["recipients"]) == (
        "department",
        logistics.id,
        1,
    )
    assert recipients(session, body["broadcast_id"]) == {team.employee.id}

    status = client.post(
        f"{TOOLS}/message_status",
        json={"broadcast_id": body["broadcast_id"]},
        headers=bearer(team.admin),
    )
    assert status.status_code == 200, status.text
    counts = status.json()
    assert counts["recipients"] == 1
    assert sum(counts[k] for k in ("pending", "sent", "delivered", "failed")) == 1

    theirs = client.post(
        f"{TOOLS}/message_status",
        json={"broadcast_id": body["broadcast_id"]},
        headers=bearer(other.hr),
    )
    assert theirs.status_code == 404


def test_rest_refuses_employees_and_ambiguous_names(
    client: TestClient, session: Session, team: Team
) -> None:
    response = client.post(
        f"{TOOLS}/send_message",
        json={"to": "everyone", "text": "Free lunch!"},
        headers=bearer(team.employee),
    )
    assert response.status_code == 403
    assert session.scalar(select(Broadcast).where(Broadcast.organization_id == team.org.id)) is None

    team.employee.full_name = "Mary Wanjiru"
    team.teammate.full_name = "Mary Akinyi"
    session.flush()
    ambiguous = client.post(
        f"{TOOLS}/send_message", json={"to": "Mary", "text": "Hi"}, headers=bearer(team.hr)
    )
    assert ambiguous.status_code == 422
    assert ambiguous.json()["code"] == "ambiguous_recipient"
    assert "Mary Akinyi" in ambiguous.json()["detail"]

    too_long = client.post(
        f"{TOOLS}/send_message",
        json={"to": "everyone", "text": "z" * 1001},
        headers=bearer(team.hr),
    )
    assert too_long.status_code == 422


# ------------------------------------------------------------------------------ chat


def test_hr_tells_everyone_by_chat_after_a_yes(session: Session, team: Team, other: Team) -> None:
    gone = make_user(session, team.org, is_active=False)
    assistant = Assistant(model=OfflineChatModel())
    hr = team.actor("hr")

    first = run(assistant.turn(hr, "tell everyone the canteen is closed on Friday"))

    assert first.pending_confirmation is not None, first.reply
    assert first.pending_confirmation.tool == "send_message"
    assert first.pending_confirmation.args == {
        "to": "everyone",
        "text": "the canteen is closed on Friday",
    }
    assert "5 people" in first.reply
    assert "canteen is closed on Friday" in first.reply
    assert session.scalar(select(Broadcast).where(Broadcast.organization_id == team.org.id)) is None

    done = run(assistant.turn(hr, "yes"))

    assert done.pending_confirmation is None
    sent = session.scalars(select(Broadcast).where(Broadcast.organization_id == team.org.id)).one()
    people = recipients(session, sent.id)
    assert people == {p.id for p in team.people()} - {team.hr.id}
    assert gone.id not in people
    assert not people & set(
        session.scalars(select(User.id).where(User.organization_id == other.org.id))
    )
    assert len(notes_of(session, sent.id)) == len(people)
    assert "Sent" in done.reply
    assert f"message {sent.id}" in done.reply


def test_swahili_chat_names_a_department(session: Session, team: Team) -> None:
    logistics = make_department(session, team.org, "Logistics")
    logistics.name = "Logistics"
    team.employee.department_id = logistics.id
    session.flush()
    assistant = Assistant(model=OfflineChatModel())

    first = run(assistant.turn(team.actor("hr"), "waambie watu wa Logistics kikao ni saa nne"))

    assert first.pending_confirmation is not None, first.reply
    assert first.pending_confirmation.args == {"to": "Logistics", "text": "kikao ni saa nne"}
    assert "Thibitisha" in first.reply
    run(assistant.turn(team.actor("hr"), "ndiyo"))
    sent = session.scalars(select(Broadcast).where(Broadcast.organization_id == team.org.id)).one()
    assert recipients(session, sent.id) == {team.employee.id}


def test_chat_asks_for_what_is_missing(session: Session, team: Team) -> None:
    assistant = Assistant(model=OfflineChatModel())
    hr = team.actor("hr")

    asked = run(assistant.turn(hr, "send a message to everyone"))
    assert asked.pending_confirmation is None
    assert "What should the message" in asked.reply

    answered = run(assistant.turn(hr, "Payday is on the 25th this month"))
    assert answered.pending_confirmation is not None, answered.reply
    assert answered.pending_confirmation.args == {
        "to": "everyone",
        "text": "Payday is on the 25th this month",
    }


def test_an_employee_is_refused_by_chat(session: Session, team: Team) -> None:
    assistant = Assistant(model=OfflineChatModel())

    result = run(assistant.turn(team.actor("employee"), "tell everyone the canteen is closed"))

    assert result.pending_confirmation is None
    assert "can't" in result.reply
    assert session.scalar(select(Broadcast).where(Broadcast.organization_id == team.org.id)) is None
