"""In-app notifications: delivered once stored, listed for their person, marked read by them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.notifications.service import notify
from tests.factories import Team, bearer

API = "/api/v1"


def in_app(session: Session, team: Team, text: str, *, who: str = "employee") -> Notification:
    note = notify(session, getattr(team, who), kind="test.inapp", text=text, channel=Channel.WEB)
    session.commit()  # delivered after the commit, in-process without a broker
    return note


def listed(client: TestClient, team: Team) -> dict[int, dict[str, object]]:
    response = client.get(f"{API}/notifications", headers=bearer(team.employee))
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def test_an_in_app_notification_is_delivered_once_stored(
    client: TestClient, session: Session, team: Team
) -> None:
    note = in_app(session, team, "Your payslip for November is ready.")
    item = listed(client, team)[note.id]
    assert (item["status"], item["channel"], item["read_at"]) == (
        NotificationStatus.DELIVERED,
        "web",
        None,
    )


def test_the_person_marks_one_read_once(client: TestClient, session: Session, team: Team) -> None:
    first = in_app(session, team, "First")
    second = in_app(session, team, "Second")

    response = client.post(f"{API}/notifications/{first.id}/read", headers=bearer(team.employee))

    assert response.status_code == 200, response.text
    read_at = response.json()["read_at"]
    assert read_at is not None
    again = client.post(f"{API}/notifications/{first.id}/read", headers=bearer(team.employee))
    assert again.json()["read_at"] == read_at
    items = listed(client, team)
    assert items[first.id]["read_at"] == read_at
    assert items[second.id]["read_at"] is None


def test_someone_elses_notification_is_not_found(
    client: TestClient, session: Session, team: Team
) -> None:
    theirs = in_app(session, team, "For the teammate", who="teammate")
    response = client.post(f"{API}/notifications/{theirs.id}/read", headers=bearer(team.employee))
    assert response.status_code == 404
    assert response.json()["code"] == "notification_not_found"
    session.refresh(theirs)
    assert theirs.read_at is None
    # Not even hr reads someone else's notifications as their own.
    as_hr = client.post(f"{API}/notifications/{theirs.id}/read", headers=bearer(team.hr))
    assert as_hr.status_code == 404


def test_all_of_the_callers_notifications_are_marked_read(
    client: TestClient, session: Session, team: Team
) -> None:
    mine = [in_app(session, team, f"Note {n}") for n in range(3)]
    theirs = in_app(session, team, "Not mine", who="teammate")
    client.post(f"{API}/notifications/{mine[0].id}/read", headers=bearer(team.employee))

    response = client.post(f"{API}/notifications/read", headers=bearer(team.employee))

    assert response.status_code == 200, response.text
    assert response.json() == {"marked": 2}
    assert all(item["read_at"] for item in listed(client, team).values())
    session.refresh(theirs)
    assert theirs.read_at is None


@pytest.mark.parametrize("path", ["/notifications/read", "/notifications/1/read"])
def test_anonymous_callers_get_401(client: TestClient, path: str) -> None:
    response = client.post(API + path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_an_id_out_of_range_is_422_not_a_crash(client: TestClient, team: Team) -> None:
    response = client.post(f"{API}/notifications/{2**70}/read", headers=bearer(team.employee))
    assert response.status_code == 422
