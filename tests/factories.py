"""Plain factory functions: `make_x(session, **overrides)`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from hrcore import db, tenancy
from hrcore.actor import Actor, Channel, Role
from hrcore.auth.service import open_session
from hrcore.db import keep_failure_writes
from hrcore.errors import HRError
from hrcore.leave import service as leave
from hrcore.leave.models import Accrual, LeaveType
from hrcore.people.models import Department, Organization, Site, User
from hrcore.people.service import actor_for
from hrcore.security import hash_secret

_seq = itertools.count(1)

#: A test's own sessions set up and check several employers' rows at once.
ARRANGING = tenancy.Tenant(crossing=tenancy.Crossing.ARRANGE)


def arranging(session: Session) -> Session:
    """Let a test's own session (not the code under test's) cross the row-level-security
    wall between employers, as the `session` fixture does; returns it."""
    tenancy.bind(session, ARRANGING)
    return session


@contextmanager
def arranged() -> Iterator[Session]:
    """`db.unit_of_work()` for a test's own setup and checks across employers."""
    with db.unit_of_work() as session:
        yield arranging(session)


COUNTRIES = {
    "KE": ("Africa/Nairobi", "KES", "+2547110"),
    "TZ": ("Africa/Dar_es_Salaam", "TZS", "+2557120"),
}


def make_org(session: Session, *, country: str = "KE", **overrides: Any) -> Organization:
    n = next(_seq)
    tz, currency, _ = COUNTRIES[country]
    values: dict[str, Any] = {
        "slug": f"org-{n}",
        "name": f"Org {n} Ltd",
        "country": country,
        "timezone": tz,
        "currency": currency,
        "work_start": time(8, 0),
        "work_end": time(17, 0),
        "grace_minutes": 0,
        "default_annual_leave_days": 15,
    }
    values.update(overrides)
    org = Organization(**values)
    session.add(org)
    session.flush()
    return org


def make_user(
    session: Session,
    org: Organization,
    *,
    role: Role = Role.EMPLOYEE,
    reports_to: User | None = None,
    password: str | None = None,
    **overrides: Any,
) -> User:
    n = next(_seq)
    prefix = COUNTRIES.get(org.country, COUNTRIES["KE"])[2]
    values: dict[str, Any] = {
        "organization_id": org.id,
        "full_name": f"Person {n}",
        "email": f"person{n}@{org.slug}.test",
        "phone": f"{prefix}{n:05d}",
        "role": role,
        "hire_date": date(2024, 1, 15),
        "reports_to_id": reports_to.id if reports_to else None,
        "password_hash": hash_secret(password) if password else None,
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def make_department(session: Session, org: Organization, name: str = "Operations") -> Department:
    dept = Department(organization_id=org.id, name=f"{name} {next(_seq)}")
    session.add(dept)
    session.flush()
    return dept


def make_site(session: Session, org: Organization, **overrides: Any) -> Site:
    values: dict[str, Any] = {
        "organization_id": org.id,
        "name": "Head office",
        "latitude": -1.2921,
        "longitude": 36.8219,
        "radius_m": 200,
    }
    values.update(overrides)
    site = Site(**values)
    session.add(site)
    session.flush()
    return site


def make_leave_type(session: Session, org: Organization, **overrides: Any) -> LeaveType:
    values: dict[str, Any] = {
        "organization_id": org.id,
        "code": "annual",
        "name": "Annual leave",
        "days_per_year": Decimal(21),
        "accrual": Accrual.UPFRONT,
        "paid": True,
        "carry_over_cap": Decimal(5),
        "carry_over_expiry_months": 3,
    }
    values.update(overrides)
    leave_type = LeaveType(**values)
    session.add(leave_type)
    session.flush()
    return leave_type


def as_actor(user: User, channel: Channel = Channel.API) -> Actor:
    return actor_for(user, channel)


class Team:
    """A small organization: admin, hr, a supervisor with two reports, one outsider;
    with `leave_types`, also the country's standard leave types."""

    def __init__(
        self,
        session: Session,
        *,
        country: str = "KE",
        leave_types: bool = False,
        **org_overrides: Any,
    ) -> None:
        self.org = make_org(session, country=country, **org_overrides)
        self.admin = make_user(session, self.org, role=Role.ADMIN)
        self.hr = make_user(session, self.org, role=Role.HR)
        self.supervisor = make_user(session, self.org, role=Role.SUPERVISOR)
        self.employee = make_user(session, self.org, reports_to=self.supervisor)
        self.teammate = make_user(session, self.org, reports_to=self.supervisor)
        self.outsider = make_user(session, self.org, reports_to=self.hr)
        if leave_types:
            # The country's statutory set, as a new employer gets it.
            leave.ensure_default_leave_types(session, self.org)

    def people(self) -> list[User]:
        return [self.admin, self.hr, self.supervisor, self.employee, self.teammate, self.outsider]

    def actor(self, name: str, channel: Channel = Channel.API) -> Actor:
        return as_actor(getattr(self, name), channel)


def bearer(user: User) -> dict[str, str]:
    """An Authorization header for `user`: a real sign-in session, without password hashing."""
    session = object_session(user)
    assert session is not None, "the user must belong to a session"
    pair = open_session(session, user)
    return {"Authorization": f"Bearer {pair.access_token}"}


@contextmanager
def refused(kind: type[HRError]) -> Iterator[pytest.ExceptionInfo[HRError]]:
    """`pytest.raises` for a service called directly, then what the caller's unit of work
    does with a failure: the error's own record (its audit row) is written on its own."""
    with pytest.raises(kind) as info:
        yield info
    keep_failure_writes(info.value)


@contextmanager
def statements(session: Session) -> Iterator[list[int]]:
    """Count the SQL statements sent inside the block (the session's pending writes first)."""
    session.flush()
    count = [0]
    connection = session.connection()

    def seen(*_: Any) -> None:
        count[0] += 1

    event.listen(connection, "before_cursor_execute", seen)
    try:
        yield count
    finally:
        event.remove(connection, "before_cursor_execute", seen)
