"""Every role against every service, and every employer against another's objects.

The actors are the target employee themselves ("self"), a colleague with the
same supervisor ("teammate"), that supervisor, hr and admin. Each cell runs in
a session of its own acting for its actor's employer, as a request does, so the
database's row-level security applies too; it is rolled back, so the cells cannot
affect one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hrcore import db, tenancy
from hrcore.actor import Actor, Role
from hrcore.attendance import service as attendance
from hrcore.clock import frozen
from hrcore.errors import Forbidden, HRError, NotFound
from hrcore.leave import service as leave
from hrcore.notifications import service as notifications
from hrcore.people import service as people
from hrcore.performance import service as performance
from hrcore.wellness import service as wellness
from hrcore.wellness import summary as wellness_summaries
from tests.factories import Team, as_actor

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Nairobi and Dar es Salaam
ACTORS = ("self", "teammate", "supervisor", "hr", "admin")
EVERYONE = frozenset(ACTORS)
MANAGERS = frozenset({"self", "supervisor", "hr", "admin"})
PEOPLE_TEAM = frozenset({"hr", "admin"})


@dataclass
class World:
    team: Team
    request_id: int
    review_id: int

    def actor(self, name: str) -> Actor:
        user = self.team.employee if name == "self" else getattr(self.team, name)
        return as_actor(user)

    @property
    def target(self) -> int:
        return self.team.employee.id


Call = Callable[[Session, Actor, World], Any]

# service name -> (call, the actors allowed)
MATRIX: dict[str, tuple[Call, frozenset[str]]] = {
    "people.create_employee": (
        lambda s, a, w: people.create_employee(
            s, a, full_name="New Hire", email="new.hire@matrix.test", hire_date=date(2026, 11, 1)
        ),
        PEOPLE_TEAM,
    ),
    "people.get_employee": (
        lambda s, a, w: people.get_employee(s, a, employee_id=w.target),
        MANAGERS,
    ),
    "people.list_employees": (lambda s, a, w: people.list_employees(s, a), EVERYONE),
    "people.deactivate_employee": (
        lambda s, a, w: people.deactivate_employee(s, a, employee_id=w.target),
        PEOPLE_TEAM,
    ),
    "attendance.clock_in": (lambda s, a, w: attendance.clock_in(s, a), EVERYONE),
    "attendance.attendance_history": (
        lambda s, a, w: attendance.attendance_history(s, a, employee_id=w.target),
        MANAGERS,
    ),
    "attendance.monthly_work_report (target)": (
        lambda s, a, w: attendance.monthly_work_report(
            s, a, year=2026, month=11, employee_id=w.target
        ),
        MANAGERS,
    ),
    "attendance.monthly_work_report (scope)": (
        lambda s, a, w: attendance.monthly_work_report(s, a, year=2026, month=11),
        EVERYONE,
    ),
    "leave.list_leave_types": (lambda s, a, w: leave.list_leave_types(s, a), EVERYONE),
    "leave.create_leave_type": (
        lambda s, a, w: leave.create_leave_type(
            s,
            a,
            code="study",
            name="Study leave",
            days_per_year=5,
            accrual="upfront",
            paid=True,
            requires_document=False,
            carry_over_cap=0,
            carry_over_expiry_months=0,
        ),
        PEOPLE_TEAM,
    ),
    "leave.request_leave": (
        lambda s, a, w: leave.request_leave(
            s, a, leave_type="annual", start_date=date(2026, 12, 8), end_date=date(2026, 12, 8)
        ),
        EVERYONE,
    ),
    "leave.leave_balance": (
        lambda s, a, w: leave.leave_balance(s, a, employee_id=w.target),
        MANAGERS,
    ),
    "leave.list_leave_requests (target)": (
        lambda s, a, w: leave.list_leave_requests(s, a, employee_id=w.target),
        MANAGERS,
    ),
    "leave.approve_leave": (
        lambda s, a, w: leave.approve_leave(s, a, request_id=w.request_id, decision="approve"),
        frozenset({"supervisor", "hr", "admin"}),
    ),
    "leave.reject_leave": (
        lambda s, a, w: leave.approve_leave(
            s, a, request_id=w.request_id, decision="reject", comment="Peak season"
        ),
        frozenset({"supervisor", "hr", "admin"}),
    ),
    "leave.cancel_leave": (
        lambda s, a, w: leave.cancel_leave(s, a, request_id=w.request_id),
        frozenset({"self"}),
    ),
    "performance.submit_review": (
        lambda s, a, w: performance.submit_review(
            s, a, employee_id=w.target, period="2026-Q2", overall_score=4
        ),
        frozenset({"supervisor", "hr"}),
    ),
    "performance.list_reviews": (
        lambda s, a, w: performance.list_reviews(s, a, employee_id=w.target),
        MANAGERS,
    ),
    "performance.get_review": (
        lambda s, a, w: performance.get_review(s, a, review_id=w.review_id),
        MANAGERS,
    ),
    "wellness.submit_mood": (lambda s, a, w: wellness.submit_mood(s, a, score=4), EVERYONE),
    "wellness.report_issue": (
        lambda s, a, w: wellness.report_issue(s, a, category="safety", text="Loose cable"),
        EVERYONE,
    ),
    "wellness.wellness_summary": (
        lambda s, a, w: wellness_summaries.wellness_summary(
            s, a, start=date(2026, 11, 1), end=date(2026, 11, 23)
        ),
        PEOPLE_TEAM,
    ),
    "wellness.review_wellness_notes": (
        lambda s, a, w: wellness_summaries.review_wellness_notes(
            s, a, start=date(2026, 11, 1), end=date(2026, 11, 23)
        ),
        PEOPLE_TEAM,
    ),
    "wellness.list_issue_reports": (
        lambda s, a, w: wellness.list_issue_reports(s, a),
        PEOPLE_TEAM,
    ),
    "notifications.list_notifications": (
        lambda s, a, w: notifications.list_notifications(s, a),
        EVERYONE,
    ),
}

# Services that name an object: another employer's actors must get "not found".
TARGETED = [
    "people.get_employee",
    "people.deactivate_employee",
    "attendance.attendance_history",
    "attendance.monthly_work_report (target)",
    "leave.leave_balance",
    "leave.list_leave_requests (target)",
    "leave.approve_leave",
    "leave.cancel_leave",
    "performance.submit_review",
    "performance.list_reviews",
    "performance.get_review",
]


def _build_world(session: Session, country: str = "KE") -> World:
    team = Team(session, country=country)
    leave.ensure_default_leave_types(session, team.org)
    request = leave.request_leave(
        session,
        as_actor(team.employee),
        leave_type="annual",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 2),
    )
    review = performance.submit_review(
        session,
        as_actor(team.supervisor),
        employee_id=team.employee.id,
        period="2026-Q3",
        overall_score=4,
    )
    return World(team=team, request_id=request.id, review_id=review.id)


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    with frozen(NOW):
        yield _build_world(session)


@pytest.fixture
def other(session: Session, world: World) -> World:
    with frozen(NOW):
        return _build_world(session, country="TZ")


@contextmanager
def _acting(actor: Actor) -> Iterator[Session]:
    """A session of its own, as the API gives `actor`: the database shows it only its own
    employer's rows (row-level security), and everything it writes is rolled back."""
    cell = db.session_factory()()
    tenancy.act_as(cell, actor)
    try:
        yield cell
    finally:
        cell.rollback()
        cell.close()


def _attempt(session: Session, call: Call, actor: Actor, world: World) -> HRError | None:
    session.flush()
    with _acting(actor) as cell:
        try:
            with frozen(NOW):
                call(cell, actor, world)
            return None
        except HRError as exc:
            return exc


def test_matrix_roles_are_what_the_fixture_says(world: World) -> None:
    roles = {name: world.actor(name).role for name in ACTORS}
    assert roles == {
        "self": Role.EMPLOYEE,
        "teammate": Role.EMPLOYEE,
        "supervisor": Role.SUPERVISOR,
        "hr": Role.HR,
        "admin": Role.ADMIN,
    }
    assert world.team.employee.reports_to_id == world.team.supervisor.id
    assert world.team.teammate.reports_to_id == world.team.supervisor.id


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("service", sorted(MATRIX))
def test_permission_matrix(session: Session, world: World, service: str, who: str) -> None:
    call, allowed = MATRIX[service]
    error = _attempt(session, call, world.actor(who), world)
    if who in allowed:
        assert error is None, f"{who} should be allowed {service}, got {error and error.code}"
    else:
        assert isinstance(error, Forbidden), f"{who} should be forbidden {service}, got {error!r}"


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("service", TARGETED)
def test_another_employer_sees_not_found(
    session: Session, world: World, other: World, service: str, who: str
) -> None:
    """Actors of `other` (Tanzania) aim at `world`'s (Kenya) objects: always "not found"."""
    call, _ = MATRIX[service]
    error = _attempt(session, call, other.actor(who), world)
    assert isinstance(error, NotFound | Forbidden), f"{who} of another employer: {error!r}"
    if who in MATRIX[service][1]:
        # A role that may do this at home must still not reach across employers.
        assert isinstance(error, NotFound), f"{who}: expected not found, got {error.code}"


@pytest.mark.parametrize("service", ["people.list_employees", "leave.list_leave_requests"])
def test_lists_never_cross_employers(
    session: Session, world: World, other: World, service: str
) -> None:
    listing = {
        "people.list_employees": lambda s, a: {
            u.id for u in people.list_employees(s, a, limit=100)
        },
        "leave.list_leave_requests": lambda s, a: {
            r.employee_id for r in leave.list_leave_requests(s, a, limit=100)
        },
    }[service]
    session.flush()
    with _acting(other.actor("admin")) as cell:
        seen = listing(cell, other.actor("admin"))
    assert seen
    assert not seen & {u.id for u in (world.team.employee, world.team.supervisor, world.team.hr)}
