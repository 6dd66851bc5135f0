"""`ajira outbox`: failed, held and stuck deliveries listed, masked, and sent again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from hrcore.actor import Channel
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.notifications.operations import mask
from tests.factories import Team
from tests.fakes import africastalking_server
from tests.fakes.outbox_support import at_env, settings_env

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SECRET_TEXT = "Your payslip for November: net pay KES 84,512.00, see the attached PDF"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "250"})


pytestmark = pytest.mark.frozen_at(NOW)


def failed(
    session: Session, team: Team, channel: Channel, *, error: str = "InvalidPhoneNumber"
) -> Notification:
    note = Notification(
        organization_id=team.org.id,
        recipient_id=team.employee.id,
        channel=channel,
        kind="payslip_ready",
        text=SECRET_TEXT,
        status=NotificationStatus.FAILED,
        attempts=1,
        last_error=f"{error}: {team.employee.phone} refused",
        created_at=NOW - timedelta(hours=3),
    )
    session.add(note)
    session.flush()
    session.add(
        NotificationAttempt(
            organization_id=team.org.id,
            notification_id=note.id,
            number=1,
            started_at=NOW - timedelta(hours=3),
            finished_at=NOW - timedelta(hours=3),
            outcome=AttemptOutcome.FAILED,
            error_code=error,
        )
    )
    session.commit()
    return note


def test_lists_failed_rows_with_phones_masked(
    runner: CliRunner, session: Session, team: Team
) -> None:
    sms = failed(session, team, Channel.SMS)
    other = Team(session)
    failed(session, other, Channel.SMS)

    result = runner.invoke(app, ["outbox", "--org", team.org.slug])

    assert result.exit_code == 0, result.output
    assert str(sms.id) in result.output
    assert team.org.slug in result.output
    assert other.org.slug not in result.output
    assert "failed" in result.output
    assert "payslip_ready" in result.output
    assert "3h" in result.output
    phone = team.employee.phone
    assert phone not in result.output
    assert phone[-3:] in result.output  # the masked form keeps the ends: "+2547•••012"
    assert mask(phone) in result.output
    # Only the start of the text, never the figures further on.
    assert "84,512" not in result.output
    assert SECRET_TEXT[:20] in result.output


def test_nothing_to_show(runner: CliRunner, session: Session, team: Team) -> None:
    result = runner.invoke(app, ["outbox", "--org", team.org.slug])
    assert result.exit_code == 0, result.output
    assert "No failed, held or stuck deliveries" in result.output


def test_retry_makes_them_pending_and_the_outbox_delivers_them(
    runner: CliRunner, session: Session, team: Team, inline_outbox: None
) -> None:
    sms = failed(session, team, Channel.SMS)
    web = failed(session, team, Channel.WEB, error="no_address")
    untouched = failed(session, team, Channel.SMS)

    with (
        africastalking_server.running() as provider,
        settings_env(**at_env(provider.base_url)),
    ):
        result = runner.invoke(app, ["outbox", "--retry", str(sms.id), str(web.id)])

    assert result.exit_code == 0, result.output
    assert "Sent again: 2" in result.output
    for note in (sms, web, untouched):
        session.refresh(note)
    assert web.status is NotificationStatus.DELIVERED  # stored in the app
    assert sms.status is NotificationStatus.SENT  # the provider took it
    assert sms.attempts == 2
    assert [r.form["to"] for r in provider.sent()] == [team.employee.phone]
    assert untouched.status is NotificationStatus.FAILED


def test_retry_failed_takes_every_failed_row_of_the_organization(
    runner: CliRunner, session: Session, team: Team, inline_outbox: None
) -> None:
    mine = [failed(session, team, Channel.WEB), failed(session, team, Channel.WEB)]
    other = Team(session)
    theirs = failed(session, other, Channel.WEB)

    result = runner.invoke(app, ["outbox", "--retry-failed", "--org", team.org.slug])

    assert result.exit_code == 0, result.output
    for note in (*mine, theirs):
        session.refresh(note)
    assert [n.status for n in mine] == [NotificationStatus.DELIVERED] * 2
    assert theirs.status is NotificationStatus.FAILED


def test_sent_rows_are_left_alone_and_ids_need_retry(
    runner: CliRunner, session: Session, team: Team
) -> None:
    note = failed(session, team, Channel.WEB)
    note.status = NotificationStatus.DELIVERED
    session.commit()

    result = runner.invoke(app, ["outbox", "--retry", str(note.id), "999999999"])
    assert result.exit_code == 0, result.output
    assert "left alone (delivered" in result.output
    assert "#999999999: left alone (not found)" in result.output
    assert "Nothing to send again." in result.output

    bare = runner.invoke(app, ["outbox", str(note.id)])
    assert bare.exit_code == 1
    assert "add --retry" in bare.output
