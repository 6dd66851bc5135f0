"""`ajira chat --user`: a terminal conversation with the real assistant and the offline model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from assistant import memory
from assistant.models import uses_remote_model
from hrcore.attendance.models import AttendanceRecord
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest
from hrcore.people.models import User
from knowledge.search import ingest_text
from tests.factories import make_org, make_user
from tests.knowledge_fixtures import LEAVE_POLICY, CachedE5

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Nairobi


@pytest.fixture(scope="module", autouse=True)
def _offline(engine: object) -> Iterator[None]:
    # These conversations are written for the offline model: never reach a configured LLM.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            patch.delenv(name, raising=False)
        get_settings.cache_clear()
        assert not uses_remote_model(get_settings())
        memory.setup_checkpointer()
        yield
    get_settings.cache_clear()


@pytest.fixture
def john(session: Session) -> Iterator[User]:
    with frozen(NOW):
        org = make_org(session)
        leave.ensure_default_leave_types(session, org)
        mary = make_user(session, org, full_name="Mary Akinyi")
        yield make_user(session, org, full_name="John Kamau", reports_to=mary)


def chat(login: str, *lines: str) -> tuple[int, str]:
    with frozen(NOW):
        result = CliRunner().invoke(app, ["chat", "--user", login], input="\n".join(lines) + "\n")
    return result.exit_code, result.output


def count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_terminal_conversation_with_a_confirmation_and_a_new_conversation(session, john):
    code, output = chat(
        john.phone,
        "clock me in",
        "annual leave next Monday to Friday",
        "/new",
        "yes",  # a new conversation: nothing waits for this yes
        "annual leave next Monday to Friday",
        "ndiyo",
        "/quit",
        "clock me out",  # never read: /quit ended the conversation
    )

    assert code == 0, output
    assert output.startswith("Chatting as John Kamau (employee).")
    assert "you> ajira> Clocked in at 09:00" in output
    assert output.count("waiting for your yes or no: request_leave") == 2
    assert "(a new conversation)" in output
    (shift,) = session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.employee_id == john.id)
    )
    assert (shift.method_in, shift.clock_out_at) == ("cli", None)
    assert count(session, LeaveRequest, LeaveRequest.employee_id == john.id) == 1


def test_the_email_works_too_and_end_of_input_ends_cleanly(session, john):
    code, output = chat(john.email.upper(), "clock me in")
    assert code == 0, output
    assert "ajira> Clocked in" in output
    assert count(session, AttendanceRecord, AttendanceRecord.employee_id == john.id) == 1


def test_citations_are_shown_under_the_reply(session, john):
    ingest_text(
        session,
        organization_id=john.organization_id,
        title="Staff Handbook",
        filename="handbook.md",
        content=LEAVE_POLICY,
        embedder=CachedE5(),
    )
    code, output = chat(john.email, "how many days of maternity leave", "/quit")
    assert code == 0, output
    assert "90 calendar days" in output
    assert "[1] Staff Handbook › " in output
    assert "Maternity leave: “" in output


@pytest.mark.parametrize("login", ["nobody@example.test", "+254799999999", "not a login"])
def test_an_unknown_user_is_refused_before_any_conversation(session, login):
    code, output = chat(login, "clock me in")
    assert code == 1
    assert "no active user has the email or phone" in output
    assert "ajira>" not in output
    assert count(session, AttendanceRecord) == 0


def test_a_deactivated_user_cannot_chat(session, john):
    john.is_active = False
    session.flush()
    code, output = chat(john.email, "clock me in")
    assert code == 1
    assert "no active user" in output
    assert count(session, AttendanceRecord, AttendanceRecord.employee_id == john.id) == 0
