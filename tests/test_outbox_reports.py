"""Africa's Talking delivery reports update the row they are about; nothing else gets in."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.notifications.models import Notification, NotificationStatus
from tests.factories import Team
from tests.fakes.outbox_support import settings_env

PATH = "/channels/africastalking/sms/delivery"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The documented callbacks (shared/channels/africastalking/delivery_report.txt), fake values.
DELIVERED = (
    "id=ATXid_5b0c8e1f7a2d4c9e3b6a1f0d8e7c2b4a&status=Success&phoneNumber=%2B254711000001"
    "&networkCode=63902&retryCount=0"
)
FAILED = (
    "id=ATXid_9d4e2a7c1b8f3e6a0c5d9b2e4f1a7c3d&status=Failed&phoneNumber=%2B254711000002"
    "&networkCode=63903&failureReason=UserInBlackList&retryCount=0"
)
BUFFERED = (
    "id=ATXid_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d&status=Buffered&phoneNumber=%2B254711000003"
    "&networkCode=63902&retryCount=1"
)


def sent_row(session: Session, team: Team, message_id: str) -> Notification:
    """A notification the provider took under `message_id`."""
    notification = Notification(
        organization_id=team.org.id,
        recipient_id=team.employee.id,
        channel=Channel.SMS,
        kind="leave.approved",
        text="Your leave was approved.",
        status=NotificationStatus.SENT,
        attempts=1,
        provider_message_id=message_id,
    )
    session.add(notification)
    session.flush()
    return notification


def post(client: TestClient, body: str) -> dict[str, object]:
    response = client.post(PATH, content=body, headers=FORM)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_success_marks_the_row_delivered(client: TestClient, session: Session, team: Team) -> None:
    row = sent_row(session, team, "ATXid_5b0c8e1f7a2d4c9e3b6a1f0d8e7c2b4a")

    assert post(client, DELIVERED) == {"status": "received"}

    session.refresh(row)
    assert row.status is NotificationStatus.DELIVERED
    assert row.delivered_at is not None


def test_a_failure_keeps_the_reason(client: TestClient, session: Session, team: Team) -> None:
    row = sent_row(session, team, "ATXid_9d4e2a7c1b8f3e6a0c5d9b2e4f1a7c3d")
    post(client, FAILED)
    session.refresh(row)
    assert (row.status, row.last_error) == (NotificationStatus.FAILED, "UserInBlackList")


def test_reports_out_of_order_never_undo_a_delivery(
    client: TestClient, session: Session, team: Team
) -> None:
    row = sent_row(session, team, "ATXid_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")
    post(client, BUFFERED)
    session.refresh(row)
    assert row.status is NotificationStatus.SENT
    success = BUFFERED.replace("status=Buffered", "status=Success")
    post(client, success)
    post(client, success)  # a repeat
    post(client, BUFFERED)  # late
    post(client, BUFFERED.replace("status=Buffered", "status=Failed"))
    session.refresh(row)
    assert row.status is NotificationStatus.DELIVERED


def test_an_unknown_id_is_accepted_and_ignored(
    client: TestClient, session: Session, team: Team
) -> None:
    row = sent_row(session, team, "ATXid_ours")
    assert post(client, DELIVERED) == {"status": "received"}
    session.refresh(row)
    assert row.status is NotificationStatus.SENT


@pytest.mark.parametrize(
    "body",
    [
        "status=Success&phoneNumber=%2B254711000001",  # no id
        "id=ATXid_1",  # no status
        "id=ATXid_1&status=Delivered",  # not one of theirs
        "id=ATXid_1&status=Success&retryCount=many",
        "id=" + "x" * 300 + "&status=Success",
        "",
    ],
)
def test_a_malformed_report_is_a_400_problem(client: TestClient, body: str) -> None:
    response = client.post(PATH, content=body, headers=FORM)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "malformed_delivery_report"
    assert "Traceback" not in response.text


def test_a_json_body_is_not_a_report(client: TestClient) -> None:
    response = client.post(PATH, json={"id": "ATXid_1", "status": "Success"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_delivery_report"


def test_the_webhook_is_rate_limited_per_address(client: TestClient) -> None:
    with settings_env(AJIRA_WEBHOOK_LIMIT="2/minute"):
        assert [
            client.post(PATH, content=DELIVERED, headers=FORM).status_code for _ in range(3)
        ] == [
            200,
            200,
            429,
        ]


def test_the_webhook_is_documented_as_a_form(app: FastAPI) -> None:
    operation = app.openapi()["paths"][PATH]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["id", "status"]
    assert {"400", "429"} <= set(operation["responses"])
