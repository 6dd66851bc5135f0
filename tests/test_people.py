from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.actor import Role
from hrcore.audit import AuditEntry
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.people import service as people
from hrcore.people.models import User
from tests.factories import Team, refused


def test_hr_creates_employee_with_phone_normalised_to_e164(session: Session, team: Team) -> None:
    user = people.create_employee(
        session,
        team.actor("hr"),
        full_name="Wanjiku Njeri",
        phone="0712 345 678",
        hire_date=date(2026, 3, 1),
        reports_to_id=team.supervisor.id,
    )
    assert user.phone == "+254712345678"
    assert user.organization_id == team.org.id


@pytest.mark.parametrize("phone", ["12345", "+2547", "not a phone", "+254 000 000 000"])
def test_invalid_phone_is_refused_and_nothing_written(
    session: Session, team: Team, phone: str
) -> None:
    before = session.scalar(select(User.id).order_by(User.id.desc()).limit(1))
    with refused(Invalid) as err:
        people.create_employee(
            session, team.actor("hr"), full_name="X", phone=phone, hire_date=date(2026, 1, 1)
        )
    assert err.value.code == "invalid_phone"
    assert session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) == before
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "employee.create").order_by(AuditEntry.id)
    ).all()
    assert audit[-1].outcome == "invalid_phone"


def test_duplicate_phone_conflicts(session: Session, team: Team) -> None:
    with refused(Conflict) as err:
        people.create_employee(
            session,
            team.actor("hr"),
            full_name="Copy",
            phone=team.employee.phone,
            hire_date=date(2026, 1, 1),
        )
    assert err.value.code == "contact_taken"


def test_hr_cannot_create_admin_and_employee_cannot_create_anyone(
    session: Session, team: Team
) -> None:
    with refused(Forbidden):
        people.create_employee(
            session,
            team.actor("hr"),
            full_name="Boss",
            email="boss@x.test",
            role=Role.ADMIN,
            hire_date=date(2026, 1, 1),
        )
    with refused(Forbidden):
        people.create_employee(
            session,
            team.actor("employee"),
            full_name="Friend",
            email="friend@x.test",
            hire_date=date(2026, 1, 1),
        )


def test_visibility_self_team_org(session: Session, team: Team) -> None:
    assert people.get_employee(session, team.actor("employee"), employee_id=team.employee.id)
    with refused(Forbidden):
        people.get_employee(session, team.actor("employee"), employee_id=team.teammate.id)
    assert people.get_employee(session, team.actor("supervisor"), employee_id=team.teammate.id)
    with refused(Forbidden):
        people.get_employee(session, team.actor("supervisor"), employee_id=team.outsider.id)
    assert people.get_employee(session, team.actor("hr"), employee_id=team.outsider.id)
    listed = {u.id for u in people.list_employees(session, team.actor("supervisor"))}
    assert listed == {team.supervisor.id, team.employee.id, team.teammate.id}


def test_other_organization_is_not_found(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    with refused(NotFound):
        people.get_employee(session, other.actor("admin"), employee_id=team.employee.id)
    assert team.employee.id not in {
        u.id for u in people.list_employees(session, other.actor("admin"))
    }


def test_find_user_by_login_accepts_email_case_and_local_phone(
    session: Session, team: Team
) -> None:
    assert people.find_user_by_login(session, team.employee.email.upper()) is team.employee
    local = "0" + team.employee.phone.removeprefix("+254")
    assert people.find_user_by_login(session, local, region="KE") is team.employee
    assert people.find_user_by_login(session, "nobody@nowhere.test") is None


def test_a_login_holding_nul_matches_nobody_instead_of_failing(
    session: Session, team: Team
) -> None:
    assert people.find_user_by_login(session, team.employee.email + "\x00") is None
    assert people.find_user_by_login(session, "\x00") is None
