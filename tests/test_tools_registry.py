"""Invariants every tool declaration must keep, checked over the whole registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission, Role
from hrcore.errors import Forbidden, Invalid, NotFound
from tools.registry import ToolResult, all_tools, get_tool, preview_tool, run_tool, tools_for

TOOLS = [spec.name for spec in all_tools()]
IDENTITY_FIELDS = {
    "actor",
    "runtime",
    "user_id",
    "acting_user_id",
    "organization_id",
    "org_id",
    "tenant_id",
    "role",
    "my_id",
    "caller_id",
}


def _actor(role: Role) -> Actor:
    return Actor(user_id=1, organization_id=1, role=role)


def test_the_registry_is_not_empty() -> None:
    assert {"clock_in", "clock_out", "attendance_history", "monthly_work_report"} <= set(TOOLS)


@pytest.mark.parametrize("name", TOOLS)
def test_model_facing_schema_has_no_identity(name: str) -> None:
    spec = get_tool(name)
    properties = spec.args_model.model_json_schema().get("properties", {})
    assert not IDENTITY_FIELDS & set(properties), f"{name} exposes an identity field"


@pytest.mark.parametrize("name", TOOLS)
def test_identity_smuggled_into_arguments_is_refused(name: str) -> None:
    spec = get_tool(name)
    with pytest.raises(ValidationError):
        spec.args_model.model_validate({**spec.example, "user_id": 999})


@pytest.mark.parametrize("name", TOOLS)
def test_declaration_is_complete(name: str) -> None:
    spec = get_tool(name)
    assert len(spec.description) >= 20, f"{name} needs a docstring the model can read"
    assert issubclass(spec.result_model, ToolResult)
    for field, info in spec.args_model.model_fields.items():
        assert info.description, f"{name}.{field} needs a description"
    spec.args_model.model_validate(spec.example)
    if spec.confirm:
        assert spec.changes_state, f"{name} asks for confirmation but changes nothing"


# What each role is meant to be offered, written out by hand: a tool given to the wrong
# role (or a permission moved between roles) fails here, and so does a new tool until
# somebody decides who gets it.
EVERYONE_TOOLS = {
    "clock_in",
    "clock_out",
    "attendance_history",
    "monthly_work_report",
    "my_profile",
    "list_employees",
    "request_leave",
    "cancel_leave",
    "leave_balance",
    "list_leave_requests",
    "list_leave_types",
    "fetch_payslip",
    "list_payslips",
    "salary_preview",
    "list_reviews",
    "submit_mood",
    "report_issue",
    "ask_hr",
    "list_hr_cases",
    "search_policy",
    "get_preferences",
    "set_preferences",
}
PEOPLE_TEAM_TOOLS = {
    "approve_leave",
    "work_report_chart",
    "reset_pin",
    "run_payroll",
    "answer_hr_case",
    "send_message",
    "message_status",
    "wellness_summary",
    "wellness_chart",
    "review_wellness_notes",
}
EXPECTED_TOOLS = {
    Role.EMPLOYEE: EVERYONE_TOOLS,
    # Approves and reviews their own reports, and sees their team's hours; nothing of pay,
    # wellness or messaging.
    Role.SUPERVISOR: EVERYONE_TOOLS | {"approve_leave", "submit_review", "work_report_chart"},
    Role.HR: EVERYONE_TOOLS | PEOPLE_TEAM_TOOLS | {"submit_review"},
    # The employer's settings are the admin's alone; reviews are written by hr and
    # supervisors.
    Role.ADMIN: EVERYONE_TOOLS | PEOPLE_TEAM_TOOLS | {"automation_settings"},
}


def test_every_role_has_its_expected_tools() -> None:
    assert set(EXPECTED_TOOLS) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_tools_for_a_role_are_exactly_those_it_is_meant_to_have(role: Role) -> None:
    listed = {spec.name for spec in tools_for(_actor(role))}
    assert sorted(listed - EXPECTED_TOOLS[role]) == [], "offered but not meant for this role"
    assert sorted(EXPECTED_TOOLS[role] - listed) == [], "meant for this role but not offered"


def test_employee_sees_no_people_team_tools() -> None:
    hr_only = {
        spec.name
        for spec in all_tools()
        if spec.permission in {Permission.LEAVE_APPROVE, Permission.WELLNESS_SUMMARY}
        or spec.permission is Permission.PAYROLL_RUN
    }
    assert not hr_only & {spec.name for spec in tools_for(_actor(Role.EMPLOYEE))}
    assert hr_only <= {spec.name for spec in tools_for(_actor(Role.HR))}


def test_unknown_tool_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound) as err:
        run_tool(session, _actor(Role.ADMIN), "format_hard_disk", {})
    assert err.value.code == "tool_not_found"


def test_forbidden_before_arguments_are_even_read(session: Session) -> None:
    forbidden = next((s for s in all_tools() if not _actor(Role.EMPLOYEE).can(s.permission)), None)
    assert forbidden is not None
    with pytest.raises(Forbidden):
        run_tool(session, _actor(Role.EMPLOYEE), forbidden.name, {"nonsense": True})


def test_schema_violation_names_the_field(session: Session) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, _actor(Role.EMPLOYEE), "clock_in", {"latitude": 123})
    assert err.value.code == "invalid_arguments"
    assert [e["field"] for e in err.value.details["errors"]] == ["latitude"]


def test_preview_shows_the_result_and_writes_nothing(session: Session) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from hrcore.attendance.models import AttendanceRecord
    from hrcore.audit import AuditEntry
    from hrcore.clock import frozen
    from tests.factories import Team

    team = Team(session)
    counts = (
        select(func.count()).select_from(AttendanceRecord),
        select(func.count()).select_from(AuditEntry),
    )
    before = [session.scalar(q) for q in counts]
    with frozen(datetime(2026, 11, 23, 5, 3, tzinfo=UTC)):
        preview = preview_tool(session, team.actor("employee"), "clock_in", {})
    assert preview.summary == "Clocked in at 08:03, 3 minutes late."
    assert [session.scalar(q) for q in counts] == before


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("report_issue", {"category": "safety", "text": "loose\x00cable"}, "text"),
        (
            "submit_review",
            {
                "employee_id": 1,
                "period": "2026-Q3",
                "overall_score": 4,
                "kpi_scores": {"sales\x00": 4},
            },
            "kpi_scores",
        ),
        ("clock_in", {"note": "\x00"}, "note"),
    ],
)
def test_nul_characters_are_refused_before_the_database(
    session: Session, name: str, args: dict, field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, _actor(Role.HR), name, args)
    assert [e["field"] for e in err.value.details["errors"]] == [field]
