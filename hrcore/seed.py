"""The demo employers: Jua Kali Foods (Kenya) and Acme (Tanzania).

Each gets its people, leave types, salaries and last month's finalised payroll; Jua Kali
Foods also gets a month of attendance.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from hrcore.actor import Channel, Role
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus
from hrcore.attendance.service import late_minutes_for
from hrcore.calendar import is_working_day
from hrcore.clock import local_today
from hrcore.errors import Conflict, HRError
from hrcore.leave.models import LeaveType
from hrcore.leave.service import ensure_default_leave_types
from hrcore.payroll.models import PayrollRun, SalaryStructure
from hrcore.payroll.runs import run_payroll
from hrcore.payroll.structures import set_salary_structure
from hrcore.people.models import Department, GeofenceMode, Organization, Site, User
from hrcore.people.service import actor_for, create_organization
from hrcore.security import hash_secret
from hrcore.tenancy import Crossing, act_as, system


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    country: str
    timezone: str
    currency: str
    work_start: time
    grace_minutes: int
    geofence_mode: GeofenceMode
    default_annual_leave_days: int


@dataclass(frozen=True)
class DemoSite:
    name: str
    latitude: float
    longitude: float
    radius_m: int


@dataclass(frozen=True)
class DemoPerson:
    full_name: str
    email: str
    phone: str
    role: Role
    reports_to: str | None  # the manager's email
    department: str | None
    hire_date: date


DEMO_ORG = DemoOrganization(
    slug="demo",
    name="Jua Kali Foods Ltd",
    country="KE",
    timezone="Africa/Nairobi",
    currency="KES",
    work_start=time(8, 0),
    grace_minutes=10,
    geofence_mode=GeofenceMode.FLAG,
    # The Employment Act 2007 (s. 28) gives at least 21 working days; the column's
    # default of 15 applies only to employers who never set their own.
    default_annual_leave_days=21,
)
DEMO_SITE = DemoSite(
    name="Jua Kali Foods factory, Industrial Area Nairobi",
    latitude=-1.3080,
    longitude=36.8530,
    radius_m=300,
)
DEMO_DEPARTMENTS = ("Management", "People", "Production", "Logistics")
DEMO_PEOPLE = (
    DemoPerson(
        "Grace Wanjiru",
        "admin@demo.ajira.test",
        "+254700000001",
        Role.ADMIN,
        None,
        "Management",
        date(2019, 1, 7),
    ),
    DemoPerson(
        "Peter Otieno",
        "hr@demo.ajira.test",
        "+254700000002",
        Role.HR,
        None,
        "People",
        date(2020, 3, 2),
    ),
    DemoPerson(
        "Mary Akinyi",
        "mary@demo.ajira.test",
        "+254700000003",
        Role.SUPERVISOR,
        None,
        "Production",
        date(2020, 6, 15),
    ),
    DemoPerson(
        "John Kamau",
        "john@demo.ajira.test",
        "+254700000004",
        Role.EMPLOYEE,
        "mary@demo.ajira.test",
        "Production",
        date(2022, 2, 1),
    ),
    DemoPerson(
        "Amina Hassan",
        "amina@demo.ajira.test",
        "+254700000005",
        Role.EMPLOYEE,
        "mary@demo.ajira.test",
        "Production",
        date(2023, 5, 8),
    ),
    DemoPerson(
        "Brian Mwangi",
        "brian@demo.ajira.test",
        "+254700000006",
        Role.EMPLOYEE,
        "hr@demo.ajira.test",
        "Logistics",
        date(2024, 1, 15),
    ),
)

ACME_ORG = DemoOrganization(
    slug="acme-tz",
    name="Acme Tanzania Ltd",
    country="TZ",
    timezone="Africa/Dar_es_Salaam",
    currency="TZS",
    work_start=time(8, 0),
    grace_minutes=0,
    geofence_mode=GeofenceMode.OFF,
    default_annual_leave_days=28,  # Tanzania's statutory minimum
)
ACME_PEOPLE = (
    DemoPerson(
        "Baraka Mushi",
        "admin@acme-tz.ajira.test",
        "+255700000001",
        Role.ADMIN,
        None,
        None,
        date(2021, 7, 1),
    ),
    DemoPerson(
        "Neema Mollel",
        "neema@acme-tz.ajira.test",
        "+255700000002",
        Role.EMPLOYEE,
        "admin@acme-tz.ajira.test",
        None,
        date(2023, 9, 4),
    ),
)

#: Demo salaries by email: basic pay and components; John earns 85,000 a month gross.
DEMO_SALARIES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "admin@demo.ajira.test": (
        "300000",
        [{"kind": "allowance", "code": "house", "label": "House allowance", "amount": "50000"}],
    ),
    "hr@demo.ajira.test": (
        "150000",
        [{"kind": "allowance", "code": "house", "label": "House allowance", "amount": "20000"}],
    ),
    "mary@demo.ajira.test": (
        "110000",
        [{"kind": "allowance", "code": "house", "label": "House allowance", "amount": "15000"}],
    ),
    "john@demo.ajira.test": (
        "75000",
        [
            {"kind": "allowance", "code": "house", "label": "House allowance", "amount": "10000"},
            {
                "kind": "deduction",
                "code": "sacco",
                "label": "Sacco savings",
                "amount": "2000",
            },
        ],
    ),
    "amina@demo.ajira.test": (
        "62000",
        [{"kind": "allowance", "code": "house", "label": "House allowance", "amount": "8000"}],
    ),
    "brian@demo.ajira.test": (
        "48000",
        [
            {
                "kind": "allowance",
                "code": "transport",
                "label": "Transport allowance",
                "amount": "4000",
                "taxable": True,
            }
        ],
    ),
    "admin@acme-tz.ajira.test": ("4500000", []),
    "neema@acme-tz.ajira.test": (
        "1800000",
        [{"kind": "allowance", "code": "housing", "label": "Housing allowance", "percent": "10"}],
    ),
}

#: The attendance generator's seed: the same month always gets the same times.
ATTENDANCE_SEED = "ajira-demo-attendance-v1"
LATE_SHARE = 0.1
_CLOCK_CHANNELS = (Channel.WEB, Channel.TELEGRAM, Channel.WHATSAPP, Channel.USSD)


@dataclass
class SeedReport:
    """What one run of the seed created; empty when everything was already there."""

    organizations: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    sites: int = 0
    departments: int = 0
    leave_types: int = 0
    attendance_records: int = 0

    @property
    def created_anything(self) -> bool:
        """Whether this run wrote anything at all."""
        return bool(
            self.organizations
            or self.users
            or self.sites
            or self.departments
            or self.leave_types
            or self.attendance_records
        )


def seed_demo(session: Session, *, password: str) -> SeedReport:
    """Create the demo employers, their people and last month's attendance, once.

    Organizations are matched on slug and people on email: what exists is left
    exactly as it is (no password is ever reset), only what is missing is added.
    """
    report = SeedReport()

    demo = _ensure_organization(session, DEMO_ORG, report)
    site = _ensure_site(session, demo, DEMO_SITE, report)
    departments = _ensure_departments(session, demo, DEMO_DEPARTMENTS, report)
    people = _ensure_people(session, demo, DEMO_PEOPLE, departments, password, report)
    _ensure_leave_types(session, demo, report)
    for person in DEMO_PEOPLE:
        report.attendance_records += _ensure_last_month_attendance(
            session, demo, site, people[person.email]
        )

    acme = _ensure_organization(session, ACME_ORG, report)
    _ensure_people(session, acme, ACME_PEOPLE, {}, password, report)
    _ensure_leave_types(session, acme, report)
    for org in (demo, acme):  # salaries and last month's finalised payroll
        act_as(session, org.id)
        seed_demo_salaries(session, org)

    session.flush()
    return report


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before `today`'s."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _working_days_in(country: str, first: date, last: date) -> list[date]:
    """Weekdays from `first` to `last` (inclusive) that are not public holidays in `country`."""
    days = []
    day = first
    while day <= last:
        if is_working_day(day, country=country):
            days.append(day)
        day += timedelta(days=1)
    return days


def _ensure_organization(
    session: Session, spec: DemoOrganization, report: SeedReport
) -> Organization:
    # Found by slug across employers; what follows is written as this one.
    with system(session, Crossing.OPERATIONS):
        org = session.scalar(select(Organization).where(Organization.slug == spec.slug))
    if org is not None:
        act_as(session, org.id)
        return org
    report.organizations.append(spec.slug)
    return create_organization(
        session,
        slug=spec.slug,
        name=spec.name,
        country=spec.country,
        timezone=spec.timezone,
        currency=spec.currency,
        work_start=spec.work_start,
        grace_minutes=spec.grace_minutes,
        geofence_mode=spec.geofence_mode,
        default_annual_leave_days=spec.default_annual_leave_days,
    )


def _ensure_site(session: Session, org: Organization, spec: DemoSite, report: SeedReport) -> Site:
    site = session.scalar(
        select(Site).where(Site.organization_id == org.id, Site.name == spec.name)
    )
    if site is None:
        site = Site(
            organization_id=org.id,
            name=spec.name,
            latitude=spec.latitude,
            longitude=spec.longitude,
            radius_m=spec.radius_m,
        )
        session.add(site)
        session.flush()
        report.sites += 1
    return site


def _ensure_departments(
    session: Session, org: Organization, names: tuple[str, ...], report: SeedReport
) -> dict[str, Department]:
    existing = {
        d.name: d
        for d in session.scalars(select(Department).where(Department.organization_id == org.id))
    }
    for name in names:
        if name not in existing:
            existing[name] = Department(organization_id=org.id, name=name)
            session.add(existing[name])
            report.departments += 1
    session.flush()
    return existing


def _ensure_people(
    session: Session,
    org: Organization,
    people: tuple[DemoPerson, ...],
    departments: dict[str, Department],
    password: str,
    report: SeedReport,
) -> dict[str, User]:
    users: dict[str, User] = {}
    # Managers come before their reports in the tables above, so one pass suffices.
    for person in people:
        # Logins are unique across employers.
        with system(session, Crossing.LOGIN):
            user = session.scalar(select(User).where(func.lower(User.email) == person.email))
            taken = session.scalar(select(User.id).where(User.phone == person.phone))
        if user is None:
            if taken is not None:
                raise Conflict(
                    f"Cannot create the demo user {person.email}: "
                    "their phone number belongs to another account.",
                    code="contact_taken",
                )
            manager = users.get(person.reports_to) if person.reports_to else None
            department = departments.get(person.department) if person.department else None
            user = User(
                organization_id=org.id,
                full_name=person.full_name,
                email=person.email,
                phone=person.phone,
                role=person.role,
                hire_date=person.hire_date,
                reports_to_id=manager.id if manager else None,
                department_id=department.id if department else None,
                password_hash=hash_secret(password),
            )
            session.add(user)
            session.flush()
            report.users.append(person.email)
        users[person.email] = user
    return users


def _ensure_leave_types(session: Session, org: Organization, report: SeedReport) -> None:
    def count() -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(LeaveType)
                .where(LeaveType.organization_id == org.id)
            )
            or 0
        )

    before = count()
    ensure_default_leave_types(session, org)
    report.leave_types += count() - before


def seed_demo_salaries(session: Session, organization: Organization) -> int:
    """Give the demo people their salaries and finalise last month's payroll, once.

    Returns the number of salary structures created. Idempotent: people who have a
    salary keep it, and a month that already has a run is left alone.
    """
    users = list(
        session.scalars(
            select(User)
            .where(
                User.organization_id == organization.id,
                func.lower(User.email).in_(list(DEMO_SALARIES)),
            )
            .order_by(User.id)
        )
    )
    manager = next((u for u in users if u.role in ("hr", "admin")), None)
    if manager is None:
        return 0
    actor = actor_for(manager, Channel.SYSTEM)
    created = 0
    for user in users:
        if session.scalar(select(exists().where(SalaryStructure.employee_id == user.id))):
            continue
        basic, components = DEMO_SALARIES[(user.email or "").lower()]
        set_salary_structure(
            session,
            actor,
            employee_id=user.id,
            basic_pay=Decimal(basic),
            effective_from=user.hire_date,
            components=components,
        )
        created += 1
    month = f"{last_month(local_today(organization.timezone))[0]:%Y-%m}"
    has_run = session.scalar(
        select(
            exists().where(PayrollRun.organization_id == organization.id, PayrollRun.month == month)
        )
    )
    if not has_run:
        # A month the rules do not cover (a clock set far back) only means no demo payslip.
        with contextlib.suppress(HRError):
            run_payroll(session, actor, month=month, finalize=True)
    return created


def _ensure_last_month_attendance(
    session: Session, org: Organization, site: Site, user: User
) -> int:
    """Fill last month with shifts for `user`, unless they already have any in it."""
    zone = ZoneInfo(org.timezone)
    first, last = last_month(local_today(org.timezone))
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    already = session.scalar(
        select(AttendanceRecord.id)
        .where(
            AttendanceRecord.organization_id == org.id,
            AttendanceRecord.employee_id == user.id,
            AttendanceRecord.clock_in_at >= start,
            AttendanceRecord.clock_in_at < end,
        )
        .limit(1)
    )
    if already is not None:
        return 0

    # Reproducible sample data, not secrets: a seeded generator is what we want here.
    rng = random.Random(f"{ATTENDANCE_SEED}:{first:%Y-%m}:{user.email}")  # noqa: S311  # nosec B311
    records = []
    for day in _working_days_in(org.country, first, last):
        if day < user.hire_date:
            continue
        records.append(_shift(rng, org, site, user, day, zone))
    session.add_all(records)
    session.flush()
    return len(records)


def _shift(
    rng: random.Random, org: Organization, site: Site, user: User, day: date, zone: ZoneInfo
) -> AttendanceRecord:
    work_start = datetime.combine(day, org.work_start, zone)
    if rng.random() < LATE_SHARE:
        # Late: after the grace period, up to 08:40.
        offset = rng.randint((org.grace_minutes + 1) * 60, 40 * 60)
    else:
        # On time: from 07:40 to the end of the grace period.
        offset = rng.randint(-20 * 60, org.grace_minutes * 60)
    clock_in = work_start + timedelta(seconds=offset)
    clock_out = datetime.combine(day, time(16, 50), zone) + timedelta(
        seconds=rng.randint(0, 80 * 60)
    )

    channel = rng.choice(_CLOCK_CHANNELS)
    record = AttendanceRecord(
        organization_id=org.id,
        employee_id=user.id,
        clock_in_at=clock_in.astimezone(UTC),
        clock_out_at=clock_out.astimezone(UTC),
        method_in=channel,
        method_out=channel,
        late_minutes=late_minutes_for(org, clock_in),
    )
    if channel is Channel.USSD:
        # A feature phone sends no GPS fix.
        record.geofence_status = GeofenceStatus.NO_LOCATION
        return record
    record.site_id = site.id
    record.geofence_status = GeofenceStatus.INSIDE
    record.latitude_in = round(site.latitude + rng.uniform(-0.0008, 0.0008), 6)
    record.longitude_in = round(site.longitude + rng.uniform(-0.0008, 0.0008), 6)
    record.accuracy_in_m = float(rng.randint(5, 35))
    record.latitude_out = round(site.latitude + rng.uniform(-0.0008, 0.0008), 6)
    record.longitude_out = round(site.longitude + rng.uniform(-0.0008, 0.0008), 6)
    record.accuracy_out_m = float(rng.randint(5, 35))
    return record
