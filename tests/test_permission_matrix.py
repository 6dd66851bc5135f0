"""Every role against every service, and every employer against another's objects.

The actors are the target employee themselves ("self"), a colleague with the
same supervisor ("teammate"), that supervisor, hr and admin. Each cell runs in
a session of its own acting for its actor's employer, as a request does, so the
database's row-level security applies too; it is rolled back, so the cells cannot
affect one another.

Older rows name the actors allowed (everyone else is forbidden); newer rows write the
outcome out for every actor, at home and from another employer, because "not found"
(the object does not exist for them) and "forbidden" (it does, but not for them) are
different promises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore import db, tenancy
from hrcore.actor import Actor, Role
from hrcore.attendance import service as attendance
from hrcore.cases import service as cases
from hrcore.clock import frozen
from hrcore.errors import Forbidden, HRError, NotFound
from hrcore.leave import service as leave
from hrcore.notifications import service as notifications
from hrcore.payroll import payslips, runs, structures
from hrcore.payroll.models import Payslip
from hrcore.people import service as people
from hrcore.performance import service as performance
from hrcore.wellness import service as wellness
from hrcore.wellness import summary as wellness_summaries
from knowledge import service as documents
from tests.factories import Team, as_actor
from tools.registry import run_tool

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Nairobi and Dar es Salaam
ACTORS = ("self", "teammate", "supervisor", "hr", "admin")
EVERYONE = frozenset(ACTORS)
MANAGERS = frozenset({"self", "supervisor", "hr", "admin"})
PEOPLE_TEAM = frozenset({"hr", "admin"})
ALLOWED, FORBIDDEN, NOT_FOUND = "allowed", "forbidden", "not_found"
Outcomes = dict[str, str]


def outcomes(*, self: str, teammate: str, supervisor: str, hr: str, admin: str) -> Outcomes:
    """What each actor gets; every actor must be named."""
    return {"self": self, "teammate": teammate, "supervisor": supervisor, "hr": hr, "admin": admin}


@dataclass
class World:
    team: Team
    request_id: int
    review_id: int
    # Filled in by a row's setup (`SETUP`) when it needs them.
    run_id: int = 0
    payslip_id: int = 0
    draft_payslip_id: int = 0
    case_id: int = 0
    document_id: int = 0

    def actor(self, name: str) -> Actor:
        user = self.team.employee if name == "self" else getattr(self.team, name)
        return as_actor(user)

    @property
    def target(self) -> int:
        return self.team.employee.id


Call = Callable[[Session, Actor, World], Any]

# service name -> (call, the actors allowed, or every actor's outcome)
MATRIX: dict[str, tuple[Call, frozenset[str] | Outcomes]] = {
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
    # Payroll: the people team runs it; an employee reads their own pay and nobody else's,
    # and their supervisor does not see it either.
    "structures.set_salary_structure": (
        lambda s, a, w: structures.set_salary_structure(
            s, a, employee_id=w.target, basic_pay="70000", effective_from=date(2026, 11, 1)
        ),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "structures.get_salary_structure": (
        lambda s, a, w: structures.get_salary_structure(s, a, employee_id=w.target),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    "structures.list_salary_structures": (
        lambda s, a, w: structures.list_salary_structures(s, a, employee_id=w.target),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    "runs.run_payroll": (
        lambda s, a, w: runs.run_payroll(s, a, month="2026-11"),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "runs.get_run": (
        lambda s, a, w: runs.get_run(s, a, run_id=w.run_id),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "runs.submit_for_review": (
        lambda s, a, w: runs.submit_for_review(s, a, run_id=w.run_id),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "runs.finalize_run": (
        lambda s, a, w: runs.finalize_run(s, a, run_id=w.run_id),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "payslips.get_payslip": (
        lambda s, a, w: payslips.get_payslip(s, a, payslip_id=w.payslip_id),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    # A payslip of a run not yet finalised does not exist for its employee.
    "payslips.get_payslip (draft)": (
        lambda s, a, w: payslips.get_payslip(s, a, payslip_id=w.draft_payslip_id),
        outcomes(
            self=NOT_FOUND, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "payslips.find_payslip": (
        lambda s, a, w: payslips.find_payslip(s, a, employee_id=w.target, month="2026-10"),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    "payslips.list_payslips": (
        lambda s, a, w: payslips.list_payslips(s, a, employee_id=w.target),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    # Questions to hr: anyone asks; only the asker and the people team see a question.
    "cases.open_case": (
        lambda s, a, w: cases.open_case(s, a, question="Is the 12th a public holiday?"),
        outcomes(self=ALLOWED, teammate=ALLOWED, supervisor=ALLOWED, hr=ALLOWED, admin=ALLOWED),
    ),
    "cases.list_cases": (
        lambda s, a, w: cases.list_cases(s, a),
        outcomes(self=ALLOWED, teammate=ALLOWED, supervisor=ALLOWED, hr=ALLOWED, admin=ALLOWED),
    ),
    "cases.get_case": (
        lambda s, a, w: cases.get_case(s, a, case_id=w.case_id),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    "cases.answer_case": (
        lambda s, a, w: cases.answer_case(s, a, case_id=w.case_id, answer="Yes, it is."),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "cases.close_case": (
        lambda s, a, w: cases.close_case(s, a, case_id=w.case_id),
        outcomes(self=ALLOWED, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED),
    ),
    # Policy documents: the people team manages them; everyone searches them.
    "knowledge.upload_document": (
        lambda s, a, w: documents.upload_document(
            s, a, filename="conduct.md", content=b"# Conduct\n\nBe kind.\n"
        ),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "knowledge.list_documents": (
        lambda s, a, w: documents.list_documents(s, a),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "knowledge.get_document": (
        lambda s, a, w: documents.get_document(s, a, document_id=w.document_id),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "knowledge.delete_document": (
        lambda s, a, w: documents.delete_document(s, a, document_id=w.document_id),
        outcomes(
            self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=ALLOWED, admin=ALLOWED
        ),
    ),
    "knowledge.search_policy": (
        lambda s, a, w: run_tool(s, a, "search_policy", {"query": "How long is paternity leave?"}),
        outcomes(self=ALLOWED, teammate=ALLOWED, supervisor=ALLOWED, hr=ALLOWED, admin=ALLOWED),
    ),
}


def _salaries(session: Session, world: World) -> None:
    hr = as_actor(world.team.hr)
    for user in world.team.people():
        structures.set_salary_structure(
            session, hr, employee_id=user.id, basic_pay="60000", effective_from=date(2026, 1, 1)
        )


def _payroll(session: Session, world: World) -> None:
    """October paid and issued; November's run a draft."""
    _salaries(session, world)
    hr = as_actor(world.team.hr)
    runs.run_payroll(session, hr, month="2026-10", finalize=True)
    world.run_id = runs.run_payroll(session, hr, month="2026-11").id
    world.payslip_id = payslips.find_payslip(session, as_actor(world.team.employee)).id
    draft = session.scalar(
        select(Payslip).where(Payslip.run_id == world.run_id, Payslip.employee_id == world.target)
    )
    assert draft is not None
    world.draft_payslip_id = draft.id


def _case(session: Session, world: World) -> None:
    asked = cases.open_case(session, as_actor(world.team.employee), question="Is Friday off?")
    world.case_id = asked.id


def _document(session: Session, world: World) -> None:
    uploaded = documents.upload_document(
        session, as_actor(world.team.hr), filename="leave.md", content=b"# Leave\n\n21 days.\n"
    )
    world.document_id = uploaded.id


# What a row needs in the target's employer beyond the world everyone gets.
SETUP: dict[str, Callable[[Session, World], None]] = {
    "structures.get_salary_structure": _salaries,
    "structures.list_salary_structures": _salaries,
    "runs.run_payroll": _salaries,
    "runs.get_run": _payroll,
    "runs.submit_for_review": _payroll,
    "runs.finalize_run": _payroll,
    "payslips.get_payslip": _payroll,
    "payslips.get_payslip (draft)": _payroll,
    "payslips.find_payslip": _payroll,
    "payslips.list_payslips": _payroll,
    "cases.get_case": _case,
    "cases.answer_case": _case,
    "cases.close_case": _case,
    "knowledge.get_document": _document,
    "knowledge.delete_document": _document,
}


def expected(service: str, who: str) -> str:
    rule = MATRIX[service][1]
    if isinstance(rule, dict):
        return rule[who]
    return ALLOWED if who in rule else FORBIDDEN


# Services that name an object: another employer's actors must get "not found"
# (or "forbidden", where their role may not do it even at home).
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

# Newer services that name an object, each actor of another employer aiming at the target
# employer's: what they get, written out. A role that may do it at home never gets more than
# "not found"; one that may not is refused before anything is looked up where the service
# checks the permission first.
ABROAD: dict[str, Outcomes] = {
    "structures.set_salary_structure": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "structures.get_salary_structure": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "structures.list_salary_structures": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "runs.get_run": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "runs.submit_for_review": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "runs.finalize_run": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "payslips.get_payslip": outcomes(
        self=NOT_FOUND, teammate=NOT_FOUND, supervisor=NOT_FOUND, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "payslips.find_payslip": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "payslips.list_payslips": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "cases.get_case": outcomes(
        self=NOT_FOUND, teammate=NOT_FOUND, supervisor=NOT_FOUND, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "cases.answer_case": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "cases.close_case": outcomes(
        self=NOT_FOUND, teammate=NOT_FOUND, supervisor=NOT_FOUND, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "knowledge.get_document": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
    "knowledge.delete_document": outcomes(
        self=FORBIDDEN, teammate=FORBIDDEN, supervisor=FORBIDDEN, hr=NOT_FOUND, admin=NOT_FOUND
    ),
}


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


def _check(error: HRError | None, outcome: str, what: str) -> None:
    if outcome == ALLOWED:
        assert error is None, f"{what} should be allowed, got {error and error.code}"
    elif outcome == FORBIDDEN:
        assert isinstance(error, Forbidden), f"{what} should be forbidden, got {error!r}"
    else:
        assert outcome == NOT_FOUND
        assert isinstance(error, NotFound), f"{what} should be not found, got {error!r}"


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("service", sorted(MATRIX))
def test_permission_matrix(session: Session, world: World, service: str, who: str) -> None:
    call, _ = MATRIX[service]
    if service in SETUP:
        SETUP[service](session, world)
    error = _attempt(session, call, world.actor(who), world)
    _check(error, expected(service, who), f"{who} at {service}")


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("service", TARGETED)
def test_another_employer_sees_not_found(
    session: Session, world: World, other: World, service: str, who: str
) -> None:
    """Actors of `other` (Tanzania) aim at `world`'s (Kenya) objects: always "not found"."""
    call, _ = MATRIX[service]
    error = _attempt(session, call, other.actor(who), world)
    assert isinstance(error, NotFound | Forbidden), f"{who} of another employer: {error!r}"
    if expected(service, who) == ALLOWED:
        # A role that may do this at home must still not reach across employers.
        assert isinstance(error, NotFound), f"{who}: expected not found, got {error.code}"


def test_every_object_naming_row_is_checked_across_employers() -> None:
    assert not set(TARGETED) & set(ABROAD)
    assert set(SETUP) - {"runs.run_payroll", "payslips.get_payslip (draft)"} <= set(ABROAD)


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("service", sorted(ABROAD))
def test_another_employers_actors_get_what_the_table_says(
    session: Session, world: World, other: World, service: str, who: str
) -> None:
    """Actors of `other` (Tanzania) aim at `world`'s (Kenya) objects."""
    call, _ = MATRIX[service]
    if service in SETUP:
        SETUP[service](session, world)
    error = _attempt(session, call, other.actor(who), world)
    _check(error, ABROAD[service][who], f"{who} of another employer at {service}")


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
