"""Two employers, the demo's shape, for the tests of the REST surface (`world` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from hrcore.actor import Actor
from hrcore.attendance import service as attendance
from hrcore.leave import service as leave
from hrcore.people.models import GeofenceMode, User
from tests.factories import Team, as_actor, make_site

# Monday 23 November 2026, 09:00 in Nairobi: a working day, an hour after work starts.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@dataclass
class World:
    """Two employers: `team` is the caller's, `other` is somebody else's."""

    team: Team
    other: Team
    request_id: int  # a pending request of team.employee, who reports to team.supervisor
    other_request_id: int

    def user(self, role: str) -> User:
        return getattr(self.team, role)


def make_world(session: Session) -> World:
    """The demo's shape: admin, hr, a supervisor with two reports; leave types; a request."""
    team, other = Team(session, geofence_mode=GeofenceMode.FLAG), Team(session, country="TZ")
    make_site(session, team.org)  # the head office, at the factories' Nairobi coordinates
    requests = []
    for t in (team, other):
        leave.ensure_default_leave_types(session, t.org)
        filed = leave.request_leave(
            session,
            t.actor("employee"),
            leave_type="annual",
            start_date=date(2026, 12, 14),
            end_date=date(2026, 12, 15),
        )
        requests.append(filed.id)
    session.flush()
    return World(team=team, other=other, request_id=requests[0], other_request_id=requests[1])


def actor_of(user: User) -> Actor:
    return as_actor(user)


def _open_a_shift(session: Session, world: World) -> None:
    attendance.clock_in(session, actor_of(world.team.employee))


def _open_a_case(session: Session, world: World) -> dict[str, Any]:
    from hrcore.cases.service import open_case

    case = open_case(session, actor_of(world.team.employee), question="Is Friday a holiday?")
    return {"case_id": case.id}


def _give_salaries(session: Session, world: World) -> None:
    from hrcore.payroll.structures import set_salary_structure

    hr = actor_of(world.team.hr)
    for user in world.team.people():
        set_salary_structure(
            session, hr, employee_id=user.id, basic_pay="60000", effective_from=date(2026, 1, 1)
        )


def _pay_october(session: Session, world: World) -> None:
    from hrcore.payroll.runs import run_payroll

    _give_salaries(session, world)
    run_payroll(session, actor_of(world.team.hr), month="2026-10", finalize=True)


def _send_a_message(session: Session, world: World) -> dict[str, Any]:
    from hrcore.notifications.broadcasts import send_message

    sent = send_message(session, actor_of(world.team.hr), "everyone", None, "Canteen closed.")
    return {"broadcast_id": sent.id}


# What a valid call of some tools needs first, beyond the world (and the body it points to).
PRECONDITIONS: dict[str, Callable[[Session, World], dict[str, Any] | None]] = {
    "clock_out": _open_a_shift,
    "answer_hr_case": _open_a_case,
    "run_payroll": _give_salaries,
    "fetch_payslip": _pay_october,
    "list_payslips": _pay_october,
    "message_status": _send_a_message,
}
