from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Permission
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.notifications.models import Notification
from hrcore.people.models import Department, Organization
from hrcore.wellness import service as wellness
from hrcore.wellness import summary as summaries
from hrcore.wellness.models import IssueReport, MoodEntry, MoodParticipation
from tests.factories import Team, make_department
from tools.registry import get_tool, run_tool
from tools.wellness import IssueCategory

# 09:00 in Nairobi on Wednesday 11 November 2026.
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 11)
LAST = date(2026, 11, 2)  # Monday of the last week that has ended (2 to 8 November)
SUNDAY = date(2026, 11, 8)
ROLES = ["employee", "supervisor", "hr", "admin"]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _audit_rows_by(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(select(AuditEntry.action).where(AuditEntry.actor_user_id == user_id))
    )


def _add_week(
    session: Session,
    org: Organization,
    dept: Department | None,
    scores: list[int],
    week: date = LAST,
    *,
    notes: list[str] | None = None,
) -> None:
    """A week's moods as `submit_mood` stores them: entries, and one pseudonym per person."""
    texts = notes or []
    for n, score in enumerate(scores):
        session.add(
            MoodEntry(
                organization_id=org.id,
                department_id=dept.id if dept else None,
                week=week,
                score=score,
                note=texts[n] if n < len(texts) else None,
            )
        )
        session.add(
            MoodParticipation(
                organization_id=org.id,
                week=week,
                department_id=dept.id if dept else None,
                pseudonym=os.urandom(32),
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
    assert (entry.organization_id, entry.week, entry.score, entry.note) == (
        team.org.id,
        date(2026, 11, 9),
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
def test_summary_defaults_to_the_last_four_weeks_that_have_ended(
    session: Session, team: Team, who: str
) -> None:
    first = LAST - timedelta(days=21)
    _add_week(session, team.org, None, [4, 4, 5, 3, 4], first, notes=["Busy"])
    _add_week(session, team.org, None, [1, 1, 1, 1, 1], first - timedelta(days=7))
    _add_week(session, team.org, None, [2, 2, 2, 2, 2], date(2026, 11, 9))
    result = run_tool(session, team.actor(who), "wellness_summary", {})
    assert (result.start, result.end) == (SUNDAY - timedelta(days=27), SUNDAY)
    assert (result.covered_start, result.covered_end) == (first, SUNDAY)
    assert result.total.responses == 5
    assert result.total.average == Decimal("4.0")
    assert result.total.distribution == {1: 0, 2: 0, 3: 1, 4: 3, 5: 1}
    assert result.min_group_size == wellness.MIN_GROUP_SIZE
    assert result.notes == 1
    assert result.summary.startswith(
        f"Wellness for the weeks {first.isoformat()} to {SUNDAY.isoformat()} (Monday to Sunday)."
    )
    assert f"{team.org.name}: 5 responses, average 4.0/5" in result.summary
    assert "Busy" not in result.summary
    assert "wellness.summary" in _audit_rows_by(session, team.actor(who).user_id)


def test_summary_by_department_suppresses_small_groups(session: Session, team: Team) -> None:
    kitchen = make_department(session, team.org, "Kitchen")
    depot = make_department(session, team.org, "Depot")
    _add_week(session, team.org, kitchen, [5, 5, 4, 4, 5, 5])
    _add_week(session, team.org, depot, [1, 2])
    for n in range(5):
        session.add(
            IssueReport(organization_id=team.org.id, day=LAST, category="workload", text=f"L{n}")
        )
    session.flush()
    args = {"start": "2026-11-01", "end": "2026-11-11", "group_by": "department"}
    result = run_tool(session, team.actor("hr"), "wellness_summary", args)
    assert (result.start, result.end) == (date(2026, 11, 1), TODAY)
    assert (result.covered_start, result.covered_end) == (LAST, SUNDAY)
    assert result.total.responses == 8
    # The depot's two are hidden, and so is the kitchen, or subtraction would reveal them;
    # neither is listed, so not even that someone there answered is told.
    assert result.groups == []
    assert depot.name not in result.summary
    assert kitchen.name not in result.summary
    counts = {i.category: i for i in result.issues}
    assert counts["workload"].count == 5
    assert counts["safety"].suppressed
    assert counts["safety"].count is None
    assert result.summary == summaries.describe_summary(
        summaries.wellness_summary(
            session, team.actor("hr"), start=date(2026, 11, 1), end=TODAY, group_by="department"
        )
    )
    assert "Issue reports: workload 5." in result.summary


def test_one_more_mood_today_changes_no_figure(session: Session, team: Team) -> None:
    _add_week(session, team.org, None, [3, 4, 4, 5, 2])
    args = {"start": "2026-11-02", "end": "2026-11-11"}
    before = run_tool(session, team.actor("hr"), "wellness_summary", args)
    run_tool(session, team.actor("employee"), "submit_mood", {"score": 1, "note": "Awful"})
    after = run_tool(session, team.actor("hr"), "wellness_summary", args)
    assert after.model_dump() == before.model_dump()


def test_summary_never_counts_another_employer(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    _add_week(session, other.org, None, [5, 5, 5, 5, 5])
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


@pytest.mark.parametrize("tool", ["wellness_summary", "review_wellness_notes"])
@pytest.mark.parametrize(
    ("args", "fields"),
    [
        ({"end": "0001-01-01"}, ["end"]),
        ({"end": "9999-12-31"}, ["end"]),
        ({"start": "0001-01-01"}, ["start"]),
        ({"start": "9999-12-31"}, ["start"]),
        ({"start": "0001-01-01", "end": "0001-01-07"}, ["start", "end"]),
    ],
)
def test_extreme_dates_are_refused_not_a_crash(
    session: Session, team: Team, tool: str, args: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), tool, args)
    assert err.value.status == 422
    assert _fields(err) == fields


# --- review_wellness_notes -----------------------------------------------------------------


def test_review_wellness_notes_is_declared_like_the_other_wellness_tools() -> None:
    spec = get_tool("review_wellness_notes")
    assert spec.permission is Permission.WELLNESS_SUMMARY
    assert not spec.changes_state
    assert "audited" in spec.description.lower()
    assert set(spec.args_model.model_fields) == {"start", "end", "limit", "offset"}
    assert set(spec.result_model.model_fields) == {
        "summary",
        "start",
        "end",
        "covered_start",
        "covered_end",
        "total",
        "notes",
    }


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_reads_the_notes_and_it_is_audited(session: Session, team: Team, who: str) -> None:
    kitchen = make_department(session, team.org, "Kitchen")
    _add_week(session, team.org, kitchen, [1, 2, 3, 4, 5], notes=["Stove broke", "Tired"])
    _add_week(session, team.org, None, [1] * 4, LAST - timedelta(days=7), notes=["Only four"])
    result = run_tool(session, team.actor(who), "review_wellness_notes", {"start": "2026-10-26"})
    assert sorted(result.notes) == ["Stove broke", "Tired"]
    assert result.total == 2
    assert (result.covered_start, result.covered_end) == (date(2026, 10, 26), SUNDAY)
    assert "“Stove broke”" in result.summary
    for absent in ("Kitchen", "Only four", "2026-11-0"):
        assert absent not in "".join(result.notes)
    assert "Kitchen" not in result.summary
    assert _audit_rows_by(session, team.actor(who).user_id).count("wellness.review_notes") == 1


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_notes_are_not_for_employees_or_supervisors(session: Session, team: Team, who: str) -> None:
    _add_week(session, team.org, None, [3] * 5, notes=["Fine"])
    with pytest.raises(Forbidden):
        run_tool(session, team.actor(who), "review_wellness_notes", {})


@pytest.mark.parametrize(
    ("args", "field"),
    [({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"week": "2026-11-02"}, "week")],
)
def test_bad_notes_arguments_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "review_wellness_notes", args)
    assert _fields(err) == [field]
