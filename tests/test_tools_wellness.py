from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.notifications.models import Notification
from hrcore.people.models import Department, Organization
from hrcore.wellness import service as wellness
from hrcore.wellness.models import IssueReport, MoodEntry
from tests.factories import Team, make_department
from tools.registry import get_tool, run_tool
from tools.wellness import IssueCategory

# 09:00 in Nairobi on Wednesday 11 November 2026.
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 11)
ROLES = ["employee", "supervisor", "hr", "admin"]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


@pytest.fixture
def team(session: Session) -> Team:
    return Team(session)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _audit_rows_by(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(select(AuditEntry.action).where(AuditEntry.actor_user_id == user_id))
    )


def _add_moods(
    session: Session, org: Organization, dept: Department | None, scores: list[int], day: date
) -> None:
    for score in scores:
        session.add(
            MoodEntry(
                organization_id=org.id,
                department_id=dept.id if dept else None,
                day=day,
                score=score,
            )
        )
    session.flush()


def _fields(err: pytest.ExceptionInfo[Invalid]) -> list[str]:
    assert err.value.code == "invalid_arguments"
    return [e["field"] for e in err.value.details["errors"]]


# --- submit_mood ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_every_role_shares_a_mood_anonymously(session: Session, team: Team, who: str) -> None:
    spec = get_tool("submit_mood")
    assert spec.changes_state
    assert not spec.confirm
    result = run_tool(session, team.actor(who), "submit_mood", {"score": 4, "note": " Busy "})
    assert result.summary == "Thanks — your mood for today is recorded anonymously."
    assert (result.day, result.score) == (TODAY, 4)
    # The answer names no stored row, so it cannot be matched back later.
    assert set(type(result).model_fields) == {"summary", "day", "score"}
    entry = session.scalars(select(MoodEntry)).one()
    assert (entry.organization_id, entry.day, entry.score, entry.note) == (
        team.org.id,
        TODAY,
        4,
        "Busy",
    )
    assert _audit_rows_by(session, team.actor(who).user_id) == []


def test_second_mood_the_same_day_conflicts(session: Session, team: Team) -> None:
    run_tool(session, team.actor("employee"), "submit_mood", {"score": 2})
    with pytest.raises(Conflict) as err:
        run_tool(session, team.actor("employee"), "submit_mood", {"score": 5})
    assert err.value.code == "mood_already_submitted"
    assert session.scalars(select(MoodEntry.score)).all() == [2]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": 3.5}, "score"),
        ({"score": "great"}, "score"),
        ({}, "score"),
        ({"score": 3, "note": "x" * 1001}, "note"),
        ({"score": 3, "employee_id": 1}, "employee_id"),
    ],
)
def test_bad_mood_arguments_name_the_field_and_write_nothing(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("employee"), "submit_mood", args)
    assert _fields(err) == [field]
    assert _count(session, MoodEntry) == 0


# --- report_issue --------------------------------------------------------------------------


def test_the_category_choices_are_the_services() -> None:
    assert get_args(IssueCategory) == wellness.ISSUE_CATEGORIES


def test_report_issue_tells_the_model_it_is_anonymous() -> None:
    spec = get_tool("report_issue")
    assert spec.changes_state
    assert not spec.confirm
    assert "anonymous" in spec.description.lower()


@pytest.mark.parametrize("who", ROLES)
def test_every_role_reports_an_issue_anonymously(session: Session, team: Team, who: str) -> None:
    result = run_tool(
        session,
        team.actor(who),
        "report_issue",
        {"category": "safety", "text": "  The loading bay light is broken.  "},
    )
    assert result.summary == (
        "Thank you. Your safety report has been passed to hr anonymously; "
        "your name is not attached to it."
    )
    assert (result.day, result.category) == (TODAY, "safety")
    assert set(type(result).model_fields) == {"summary", "day", "category"}
    report = session.scalars(select(IssueReport)).one()
    assert (report.organization_id, report.category, report.text, report.status) == (
        team.org.id,
        "safety",
        "The loading bay light is broken.",
        "open",
    )
    told = session.scalars(
        select(Notification.recipient_id).where(Notification.kind == "wellness.issue_reported")
    ).all()
    assert told == [team.hr.id]
    assert _audit_rows_by(session, team.actor(who).user_id) == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"category": "gossip", "text": "Someone said something."}, "category"),
        ({"category": "Safety", "text": "Loose cable."}, "category"),
        ({"category": "safety", "text": "ok"}, "text"),
        ({"category": "safety", "text": "x" * 4001}, "text"),
        ({"text": "Loose cable."}, "category"),
    ],
)
def test_bad_issue_arguments_name_the_field_and_write_nothing(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("employee"), "report_issue", args)
    assert _fields(err) == [field]
    assert _count(session, IssueReport) == 0
    assert _count(session, Notification) == 0


# --- wellness_summary ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_summary_is_for_hr_and_admin_only(session: Session, team: Team, who: str) -> None:
    with pytest.raises(Forbidden):
        run_tool(session, team.actor(who), "wellness_summary", {})
    assert "wellness.summary" not in _audit_rows_by(session, team.actor(who).user_id)


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_summary_defaults_to_the_last_30_days(session: Session, team: Team, who: str) -> None:
    first = TODAY - timedelta(days=29)
    _add_moods(session, team.org, None, [4, 4, 5, 3, 4], first)
    _add_moods(session, team.org, None, [1, 1, 1, 1, 1], first - timedelta(days=1))
    result = run_tool(session, team.actor(who), "wellness_summary", {})
    assert (result.start, result.end) == (first, TODAY)
    assert result.total.responses == 5
    assert result.total.average == Decimal("4.0")
    assert result.total.distribution == {1: 0, 2: 0, 3: 1, 4: 3, 5: 1}
    assert result.min_group_size == wellness.MIN_GROUP_SIZE
    assert result.summary.startswith(f"Wellness {first.isoformat()} to {TODAY.isoformat()}.")
    assert f"{team.org.name}: 5 responses, average 4.0/5" in result.summary
    assert "wellness.summary" in _audit_rows_by(session, team.actor(who).user_id)


def test_summary_by_department_suppresses_small_groups(session: Session, team: Team) -> None:
    kitchen = make_department(session, team.org, "Kitchen")
    depot = make_department(session, team.org, "Depot")
    _add_moods(session, team.org, kitchen, [5, 5, 4, 4, 5, 5], TODAY)
    _add_moods(session, team.org, depot, [1, 2], TODAY)
    for n in range(5):
        session.add(
            IssueReport(
                organization_id=team.org.id, day=TODAY, category="workload", text=f"Late {n}"
            )
        )
    session.flush()
    result = run_tool(
        session,
        team.actor("hr"),
        "wellness_summary",
        {"start": "2026-11-01", "end": "2026-11-11", "group_by": "department"},
    )
    assert result.total.responses == 8
    groups = {g.name: g for g in result.groups}
    # The depot's two are hidden, and so is the kitchen, or subtraction would reveal them.
    assert groups[depot.name].suppressed
    assert groups[depot.name].average is None
    assert groups[kitchen.name].suppressed
    counts = {i.category: i for i in result.issues}
    assert counts["workload"].count == 5
    assert counts["safety"].suppressed
    assert counts["safety"].count is None
    assert result.summary == wellness.describe_summary(
        wellness.wellness_summary(
            session,
            team.actor("hr"),
            start=date(2026, 11, 1),
            end=date(2026, 11, 11),
            group_by="department",
        )
    )
    assert "Issue reports: workload 5." in result.summary


def test_summary_never_counts_another_employer(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    _add_moods(session, other.org, None, [5, 5, 5, 5, 5], TODAY)
    result = run_tool(
        session, team.actor("admin"), "wellness_summary", {"group_by": "organization"}
    )
    assert result.total.suppressed
    assert result.total.responses is None
    assert [g.key for g in result.groups] == ["organization"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"group_by": "team"}, "group_by"),
        ({"start": "last week"}, "start"),
        ({"end": "2026-13-01"}, "end"),
        ({"organization_id": 1}, "organization_id"),
    ],
)
def test_bad_summary_arguments_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "wellness_summary", args)
    assert _fields(err) == [field]


def test_summary_range_rules_come_from_the_service(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(
            session,
            team.actor("hr"),
            "wellness_summary",
            {"start": "2026-11-10", "end": "2026-11-01"},
        )
    assert err.value.code == "invalid_range"
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "wellness_summary", {"start": "2025-01-01"})
    assert err.value.code == "range_too_long"
