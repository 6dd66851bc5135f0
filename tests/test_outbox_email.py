"""Email notifications over SMTP (`SMTP_URL`), against a local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from channels.delivery import deliver
from channels.email.smtp import SMTPSender, subject_of
from channels.outbound import SendError
from hrcore.actor import Channel
from hrcore.notifications import outbox
from hrcore.notifications.models import AttemptOutcome, NotificationStatus
from hrcore.notifications.service import notify, preferred_channel
from hrcore.people.models import User
from tests.factories import arranging, make_user
from tests.fakes import smtp_server
from tests.fakes.outbox_support import (
    attempts,
    committed_team,
    row,
    settings_env,
    wait_for,
)

# Deliveries without a broker run in the committing thread here (see conftest).
pytestmark = [pytest.mark.usefixtures("inline_outbox"), pytest.mark.one_committed_database]

TEXT = "Your leave request #7 was approved by Mary Akinyi.\nEnjoy the time off."


@pytest.fixture(autouse=True)
def _no_background_sweep() -> None:
    outbox.skip_in_process_sweeps(3600)


@pytest.fixture
def inbox() -> Iterator[smtp_server.Inbox]:
    with (
        smtp_server.running() as server,
        settings_env(
            SMTP_URL=server.url,
            SMTP_FROM="Ajira HR <hr@jua-kali.test>",
            AJIRA_OUTBOX_RETRY_BASE="0.2",
        ),
    ):
        yield server


@pytest.fixture
def emailed(committed_engine: Engine) -> Iterator[User]:
    """Someone with an email address and no phone, in a committed team."""
    with committed_team(committed_engine) as team, arranging(Session(committed_engine)) as session:
        person = make_user(session, team.org, phone=None, reports_to=team.supervisor)
        session.commit()
        session.refresh(person)
        session.expunge(person)
        yield person


def email_now(engine: Engine, person: User) -> int:
    with arranging(Session(engine)) as session:
        user = session.get(User, person.id)
        assert user is not None
        assert preferred_channel(user) is Channel.EMAIL  # no phone, and SMTP is set up
        note = notify(session, user, kind="leave.approved", text=TEXT)
        session.commit()
        return note.id


def test_someone_without_a_phone_is_emailed_after_the_commit(
    committed_engine: Engine, inbox: smtp_server.Inbox, emailed: User
) -> None:
    nid = email_now(committed_engine, emailed)

    ((recipients, message),) = inbox.messages
    assert recipients == [emailed.email]
    assert message["To"] == emailed.email
    assert message["From"] == "Ajira HR <hr@jua-kali.test>"
    assert message["Subject"] == "Ajira: Your leave request #7 was approved by Mary Akinyi."
    assert message.get_content().replace("\r\n", "\n").strip() == TEXT
    sent = row(committed_engine, nid)
    assert sent.status is NotificationStatus.SENT
    assert sent.channel is Channel.EMAIL
    assert sent.provider_message_id == message["Message-ID"]


def test_a_refused_mailbox_fails_for_good(
    committed_engine: Engine, inbox: smtp_server.Inbox, emailed: User
) -> None:
    inbox.refuse_next.append("550 5.1.1 No such user here")
    nid = email_now(committed_engine, emailed)
    failed = row(committed_engine, nid)
    assert failed.status is NotificationStatus.FAILED
    assert failed.last_error is not None
    assert failed.last_error.startswith("smtp_550")
    assert inbox.messages == []


def test_a_busy_server_is_tried_again(
    committed_engine: Engine, inbox: smtp_server.Inbox, emailed: User
) -> None:
    inbox.refuse_next.append("451 4.3.0 Try again later")
    nid = email_now(committed_engine, emailed)
    wait_for(lambda: row(committed_engine, nid).status is NotificationStatus.SENT)
    assert len(inbox.messages) == 1
    assert [(a.number, a.outcome, a.error_code) for a in attempts(committed_engine, nid)] == [
        (1, AttemptOutcome.RETRY, "smtp_451"),
        (2, AttemptOutcome.SENT, None),
    ]


def test_no_server_is_tried_again_until_the_attempts_run_out(
    committed_engine: Engine, emailed: User
) -> None:
    with smtp_server.running() as gone:
        url = gone.url
    with settings_env(SMTP_URL=url, AJIRA_OUTBOX_MAX_ATTEMPTS="1"):
        nid = email_now(committed_engine, emailed)
    assert [(a.outcome, a.error_code) for a in attempts(committed_engine, nid)] == [
        (AttemptOutcome.FAILED, "connection_failed")
    ]


def test_without_smtp_a_person_without_a_phone_is_told_in_the_app(
    committed_engine: Engine, emailed: User
) -> None:
    with settings_env(SMTP_URL=None), arranging(Session(committed_engine)) as session:
        user = session.get(User, emailed.id)
        assert user is not None
        assert preferred_channel(user) is Channel.WEB
        note = notify(session, user, kind="leave.approved", text=TEXT)
        session.commit()
        assert deliver(note.id) == "skipped"  # already delivered in the app after the commit
        assert row(committed_engine, note.id).status is NotificationStatus.DELIVERED


def test_credentials_never_cross_a_connection_without_tls() -> None:
    sender = SMTPSender("smtp://mailer:secret@192.0.2.10:2525")
    assert (sender.host, sender.port, sender.username, sender.password) == (
        "192.0.2.10",
        2525,
        "mailer",
        "secret",
    )

    class NoTLS:
        def ehlo(self) -> None:
            return None

        def has_extn(self, name: str) -> bool:
            return False

        def login(self, user: str, password: str) -> None:
            raise AssertionError("logged in without TLS")

    with pytest.raises(SendError) as refused:
        sender._secure_and_log_in(NoTLS())  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.retryable) == ("smtp_insecure", False)
    assert SMTPSender("smtps://mx.example.test").port == 465
    with pytest.raises(ValueError):
        SMTPSender("http://mx.example.test")


def test_the_subject_is_the_first_line_shortened() -> None:
    assert subject_of("Short one") == "Ajira: Short one"
    long = subject_of("word " * 40)
    assert long.startswith("Ajira: word word")
    assert long.endswith("…")
    assert len(long) <= len("Ajira: ") + 70
