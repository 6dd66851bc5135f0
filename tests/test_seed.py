from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Role
from hrcore.all_models import Base
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus
from hrcore.clock import frozen
from hrcore.leave.models import LeaveType
from hrcore.people.models import Department, GeofenceMode, Organization, Site, User
from hrcore.security import verify_secret
from hrcore.seed import SeedReport, seed_demo

PASSWORD = "demo-pass-2026"
# Mid-January 2026 in Nairobi: "last month" is December 2025, which has three
# public holidays on weekdays (Jamhuri Day on the 12th, Christmas, Boxing Day).
JANUARY = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
NAIROBI = ZoneInfo("Africa/Nairobi")
STANDARD_LEAVE = {"annual", "sick", "maternity", "paternity", "compassionate", "unpaid"}

DEMO_TABLE = {
    # email: (name, phone, role, manager's email)
    "admin@demo.ajira.test": ("Grace Wanjiru", "+254700000001", Role.ADMIN, None),
    "hr@demo.ajira.test": ("Peter Otieno", "+254700000002", Role.HR, None),
    "mary@demo.ajira.test": ("Mary Akinyi", "+254700000003", Role.SUPERVISOR, None),
    "john@demo.ajira.test": (
        "John Kamau",
        "+254700000004",
        Role.EMPLOYEE,
        "mary@demo.ajira.test",
    ),
    "amina@demo.ajira.test": (
        "Amina Hassan",
        "+254700000005",
        Role.EMPLOYEE,
        "mary@demo.ajira.test",
    ),
    "brian@demo.ajira.test": (
        "Brian Mwangi",
        "+254700000006",
        Role.EMPLOYEE,
        "hr@demo.ajira.test",
    ),
}
ACME_TABLE = {
    "admin@acme-tz.ajira.test": ("Baraka Mushi", "+255700000001", Role.ADMIN, None),
    "neema@acme-tz.ajira.test": (
        "Neema Mollel",
        "+255700000002",
        Role.EMPLOYEE,
        "admin@acme-tz.ajira.test",
    ),
}


def seed(session: Session, at: datetime = JANUARY, password: str = PASSWORD) -> SeedReport:
    with frozen(at):
        return seed_demo(session, password=password)


def org(session: Session, slug: str) -> Organization:
    found = session.scalar(select(Organization).where(Organization.slug == slug))
    assert found is not None, slug
    return found


def people_table(session: Session, organization: Organization) -> dict[str, tuple]:
    users = session.scalars(select(User).where(User.organization_id == organization.id)).all()
    email_of = {u.id: u.email for u in users}
    return {
        u.email: (
            u.full_name,
            u.phone,
            u.role,
            email_of.get(u.reports_to_id) if u.reports_to_id else None,
        )
        for u in users
    }


def row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def demo_shifts(session: Session) -> list[AttendanceRecord]:
    demo = org(session, "demo")
    return list(
        session.scalars(
            select(AttendanceRecord)
            .where(AttendanceRecord.organization_id == demo.id)
            .order_by(AttendanceRecord.employee_id, AttendanceRecord.clock_in_at)
        )
    )


def december_working_days() -> set[date]:
    public = holidays.country_holidays("KE", years=2025)
    return {
        date(2025, 12, d)
        for d in range(1, 32)
        if date(2025, 12, d).weekday() < 5 and date(2025, 12, d) not in public
    }


def test_demo_employer_is_created_as_designed(session: Session) -> None:
    report = seed(session)

    demo = org(session, "demo")
    assert (demo.name, demo.country, demo.timezone, demo.currency) == (
        "Jua Kali Foods Ltd",
        "KE",
        "Africa/Nairobi",
        "KES",
    )
    assert demo.work_start == time(8, 0)
    assert demo.grace_minutes == 10
    assert demo.geofence_mode is GeofenceMode.FLAG
    assert demo.default_annual_leave_days == 21  # Kenyan statutory minimum

    sites = session.scalars(select(Site).where(Site.organization_id == demo.id)).all()
    assert len(sites) == 1
    assert sites[0].latitude == pytest.approx(-1.3080)
    assert sites[0].longitude == pytest.approx(36.8530)
    assert sites[0].radius_m == 300
    departments = session.scalars(
        select(Department.name).where(Department.organization_id == demo.id)
    ).all()
    assert sorted(departments) == ["Logistics", "Management", "People", "Production"]

    assert people_table(session, demo) == DEMO_TABLE
    assert sorted(report.organizations) == ["acme-tz", "demo"]
    assert sorted(report.users) == sorted([*DEMO_TABLE, *ACME_TABLE])


def test_second_employer_is_tanzanian_and_separate(session: Session) -> None:
    seed(session)

    acme = org(session, "acme-tz")
    assert (acme.country, acme.timezone, acme.currency) == ("TZ", "Africa/Dar_es_Salaam", "TZS")
    assert people_table(session, acme) == ACME_TABLE
    # Nobody reports across employers.
    managers = session.execute(
        select(User.organization_id, User.reports_to_id).where(User.reports_to_id.is_not(None))
    ).all()
    for organization_id, manager_id in managers:
        assert session.get(User, manager_id).organization_id == organization_id


def test_every_demo_login_uses_the_given_password(session: Session) -> None:
    seed(session, password="another-pass-1")

    emails = [*DEMO_TABLE, *ACME_TABLE]
    users = session.scalars(select(User).where(User.email.in_(emails))).all()
    assert len(users) == len(emails)
    for user in users:
        assert verify_secret("another-pass-1", user.password_hash)
        assert not verify_secret(PASSWORD, user.password_hash)


def test_both_employers_get_the_standard_leave_types(session: Session) -> None:
    report = seed(session)

    for slug in ("demo", "acme-tz"):
        codes = set(
            session.scalars(
                select(LeaveType.code).where(LeaveType.organization_id == org(session, slug).id)
            )
        )
        assert codes >= STANDARD_LEAVE, slug
    assert report.leave_types >= 2 * len(STANDARD_LEAVE)


def test_last_month_attendance_covers_working_days_only(session: Session) -> None:
    report = seed(session)

    shifts = demo_shifts(session)
    assert report.attendance_records == len(shifts)
    expected_days = december_working_days()
    assert date(2025, 12, 12) not in expected_days  # Jamhuri Day falls on a Friday
    by_employee: dict[int, set[date]] = {}
    for shift in shifts:
        by_employee.setdefault(shift.employee_id, set()).add(
            shift.clock_in_at.astimezone(NAIROBI).date()
        )
    # Everyone at the demo employer worked every working day of December, and no other day.
    assert len(by_employee) == len(DEMO_TABLE)
    for days in by_employee.values():
        assert days == expected_days
    assert len(shifts) == len(DEMO_TABLE) * len(expected_days)
    # The other employer has no invented history.
    acme = org(session, "acme-tz")
    assert (
        session.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.organization_id == acme.id)
        )
        == 0
    )


def test_shift_times_are_realistic_with_a_few_late_arrivals(session: Session) -> None:
    seed(session)

    shifts = demo_shifts(session)
    late = 0
    for shift in shifts:
        clock_in = shift.clock_in_at.astimezone(NAIROBI)
        clock_out = shift.clock_out_at.astimezone(NAIROBI)
        assert time(7, 40) <= clock_in.time() <= time(8, 40)
        assert time(16, 50) <= clock_out.time() <= time(18, 10)
        assert clock_out.date() == clock_in.date()
        start = datetime.combine(clock_in.date(), time(8, 0), NAIROBI)
        if clock_in > start + timedelta(minutes=10):
            late += 1
            assert shift.late_minutes == (clock_in - start) // timedelta(minutes=1)
        else:
            assert shift.late_minutes == 0
        if shift.geofence_status is GeofenceStatus.INSIDE:
            assert shift.site_id is not None
            assert shift.latitude_in == pytest.approx(-1.3080, abs=0.003)
            assert shift.longitude_in == pytest.approx(36.8530, abs=0.003)
        else:
            assert shift.geofence_status is GeofenceStatus.NO_LOCATION
            assert shift.latitude_in is None
    # "A few": some late arrivals, but most people are on time.
    assert 0 < late < len(shifts) // 4


def test_attendance_is_the_same_every_time(session: Session) -> None:
    savepoint = session.begin_nested()
    seed(session)
    first = [(s.clock_in_at, s.clock_out_at, s.late_minutes) for s in demo_shifts(session)]
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0

    seed(session)
    second = [(s.clock_in_at, s.clock_out_at, s.late_minutes) for s in demo_shifts(session)]
    assert first == second


def test_running_it_again_changes_nothing(session: Session) -> None:
    seed(session)
    counts = row_counts(session)
    hashes = dict(session.execute(select(User.email, User.password_hash)).all())

    again = seed(session, password="a-different-password")

    assert not again.created_anything
    assert again == SeedReport()
    session.expire_all()
    assert row_counts(session) == counts
    assert dict(session.execute(select(User.email, User.password_hash)).all()) == hashes


def test_a_month_later_only_the_new_month_is_filled(session: Session) -> None:
    seed(session)
    december = len(demo_shifts(session))

    later = seed(session, at=datetime(2026, 2, 10, 9, 0, tzinfo=UTC))

    assert later.organizations == []
    assert later.users == []
    january = [s for s in demo_shifts(session) if s.clock_in_at.astimezone(NAIROBI).month == 1]
    assert later.attendance_records == len(january) > 0
    assert len(demo_shifts(session)) == december + len(january)
    assert date(2026, 1, 1) not in {s.clock_in_at.astimezone(NAIROBI).date() for s in january}


def test_existing_people_are_left_alone(session: Session) -> None:
    seed(session)
    john = session.scalar(select(User).where(User.email == "john@demo.ajira.test"))
    john.full_name = "John K. Kamau"
    john.reports_to_id = None
    session.flush()

    seed(session)

    session.refresh(john)
    assert john.full_name == "John K. Kamau"
    assert john.reports_to_id is None
