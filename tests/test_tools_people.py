from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Role
from hrcore.audit import AuditEntry
from hrcore.errors import Invalid
from hrcore.people.models import User
from tests.factories import Team, make_department
from tools.registry import get_tool, parse_args, run_tool, tools_for

ROLES = ("employee", "supervisor", "hr", "admin")
NATIONAL_ID = "27450913"


pytestmark = pytest.mark.usefixtures("personal_records")


@pytest.fixture
def personal_records(session: Session, team: Team) -> None:
    """Everyone's national id and secrets on file, and the employee's department, language
    and start date: what the people tools must show, or must never show."""
    dept = make_department(session, team.org, "Dispatch")
    for user in (team.admin, team.hr, team.supervisor, team.employee, team.teammate, team.outsider):
        user.national_id = NATIONAL_ID
        user.password_hash = "argon2-hash-never-shown"
        user.pin_hash = "pin-hash-never-shown"
    team.employee.department_id = dept.id
    team.employee.language = "sw"
    team.employee.hire_date = date(2025, 3, 3)
    session.flush()


@pytest.fixture
def other(session: Session, team: Team) -> Team:
    return Team(session, country="TZ")


def call(session: Session, actor: Actor, name: str, args: dict[str, Any]) -> Any:
    """Run a tool through the registry, as the agent and the REST routes do."""
    return run_tool(session, actor, name, args)


def assert_no_secrets(result: Any) -> None:
    text = result.model_dump_json()
    for secret in (NATIONAL_ID, "argon2-hash-never-shown", "pin-hash-never-shown"):
        assert secret not in text
    assert "national_id" not in text


def invalid_fields(session: Session, actor: Actor, name: str, args: dict[str, Any]) -> set[str]:
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(Invalid) as err:
        run_tool(session, actor, name, args)
    assert err.value.code == "invalid_arguments"
    # Refused before the service ran: nothing was read, so nothing was audited.
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    return {e["field"] for e in err.value.details["errors"]}


@pytest.mark.parametrize("name", ["my_profile", "list_employees"])
def test_people_tools_are_read_only_and_offered_to_everyone(team: Team, name: str) -> None:
    spec = get_tool(name)
    assert (str(spec.permission), spec.changes_state, spec.confirm) == (
        "employee.read",
        False,
        False,
    )
    parse_args(spec, spec.example)
    assert not set(spec.args_model.model_json_schema().get("properties", {})) & {
        "user_id",
        "employee_id",
        "organization_id",
        "role",
    }
    assert all(name in {s.name for s in tools_for(team.actor(role))} for role in ROLES)


# ------------------------------------------------------------------ my_profile


def test_my_profile_shows_the_users_own_record(session: Session, team: Team) -> None:
    result = call(session, team.actor("employee"), "my_profile", {})
    department = team.employee.department.name
    assert result.model_dump(exclude={"summary"}) == {
        "employee_id": team.employee.id,
        "full_name": team.employee.full_name,
        "role": Role.EMPLOYEE,
        "organization_name": team.org.name,
        "supervisor_name": team.supervisor.full_name,
        "department": department,
        "hire_date": date(2025, 3, 3),
        "language": "sw",
    }
    assert result.summary == (
        f"{team.employee.full_name}, employee at {team.org.name}, department {department}, "
        f"reports to {team.supervisor.full_name}, since 3 Mar 2025."
    )
    assert_no_secrets(result)
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "employee.read").order_by(AuditEntry.id)
    ).all()[-1]
    assert (audit.actor_user_id, audit.target_id, audit.outcome) == (
        team.employee.id,
        str(team.employee.id),
        "ok",
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_their_own_profile(session: Session, team: Team, role: str) -> None:
    result = call(session, team.actor(role), "my_profile", {})
    user = getattr(team, role)
    assert (result.employee_id, result.full_name, result.role) == (
        user.id,
        user.full_name,
        user.role,
    )
    assert_no_secrets(result)


def test_a_profile_without_supervisor_or_department(session: Session, team: Team) -> None:
    result = call(session, team.actor("hr"), "my_profile", {})
    assert (result.supervisor_name, result.department) == (None, None)
    assert result.summary == f"{team.hr.full_name}, hr at {team.org.name}, since 15 Jan 2024."


@pytest.mark.parametrize("field", ["employee_id", "user_id", "organization_id"])
def test_my_profile_refuses_any_identity_argument(session: Session, team: Team, field: str) -> None:
    fields = invalid_fields(session, team.actor("employee"), "my_profile", {field: team.hr.id})
    assert fields == {field}


# ------------------------------------------------------------------ list_employees


def _ids(result: Any) -> list[int]:
    return [e.employee_id for e in result.employees]


def test_an_employee_sees_only_themselves(session: Session, team: Team) -> None:
    result = call(session, team.actor("employee"), "list_employees", {})
    (me,) = result.employees
    assert (me.employee_id, me.role, me.reports_to_id, me.reports_to_name, me.is_active) == (
        team.employee.id,
        Role.EMPLOYEE,
        team.supervisor.id,
        team.supervisor.full_name,
        True,
    )
    # Their own contact details are theirs to see.
    assert (me.email, me.phone) == (team.employee.email, team.employee.phone)
    assert result.summary == (
        f"1 person:\n#{team.employee.id} {team.employee.full_name} "
        f"(employee, {team.employee.department.name})"
    )
    assert_no_secrets(result)


def test_a_supervisor_sees_their_team_without_contact_details(session: Session, team: Team) -> None:
    result = call(session, team.actor("supervisor"), "list_employees", {})
    assert set(_ids(result)) == {team.supervisor.id, team.employee.id, team.teammate.id}
    reports = [e for e in result.employees if e.employee_id != team.supervisor.id]
    assert all((e.email, e.phone) == (None, None) for e in reports)
    assert result.summary.startswith("3 people:\n")
    assert_no_secrets(result)


@pytest.mark.parametrize("role", ["hr", "admin"])
def test_hr_and_admin_see_everyone_with_contact_details(
    session: Session, team: Team, other: Team, role: str
) -> None:
    result = call(session, team.actor(role), "list_employees", {})
    everyone = [team.admin, team.hr, team.supervisor, team.employee, team.teammate, team.outsider]
    assert sorted(_ids(result)) == sorted(u.id for u in everyone)
    by_id = {e.employee_id: e for e in result.employees}
    assert all((by_id[u.id].email, by_id[u.id].phone) == (u.email, u.phone) for u in everyone)
    assert by_id[team.outsider.id].reports_to_name == team.hr.full_name
    names = [e.full_name for e in result.employees]
    assert names == sorted(names)
    assert_no_secrets(result)


def test_people_who_left_are_listed_only_on_request(session: Session, team: Team) -> None:
    team.outsider.is_active = False
    session.flush()
    active = call(session, team.actor("hr"), "list_employees", {})
    assert team.outsider.id not in _ids(active)
    everyone = call(session, team.actor("hr"), "list_employees", {"include_inactive": True})
    (gone,) = [e for e in everyone.employees if e.employee_id == team.outsider.id]
    assert gone.is_active is False
    assert gone.summary == f"#{team.outsider.id} {team.outsider.full_name} (employee, left)"


def test_list_employees_pages(session: Session, team: Team) -> None:
    full = _ids(call(session, team.actor("admin"), "list_employees", {}))
    page = call(session, team.actor("admin"), "list_employees", {"limit": 2, "offset": 2})
    assert _ids(page) == full[2:4]
    assert call(session, team.actor("admin"), "list_employees", {"offset": 50}).summary == (
        "0 people."
    )


def test_another_organization_is_never_listed(session: Session, team: Team, other: Team) -> None:
    result = call(session, other.actor("admin"), "list_employees", {"limit": 100})
    assert set(_ids(result)).isdisjoint(
        session.scalars(select(User.id).where(User.organization_id == team.org.id))
    )
    assert len(result.employees) == 6


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"include_inactive": "sometimes"}, "include_inactive"),
        ({"organization_id": 1}, "organization_id"),
    ],
)
def test_list_employees_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    assert invalid_fields(session, team.actor("hr"), "list_employees", args) == {field}
