import threading
import time as wallclock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.orm import Session

from hrcore import tenancy
from hrcore.actor import Actor, Channel
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus, LocationSource
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.db import keep_failure_writes
from hrcore.errors import Conflict, Forbidden, HRError, Invalid, NotFound
from hrcore.people.models import GeofenceMode, Organization, User
from tests.factories import Team, arranging, as_actor, make_org, make_site, make_user, refused

NAIROBI = ZoneInfo("Africa/Nairobi")
DAR = ZoneInfo("Africa/Dar_es_Salaam")
SITE_LAT, SITE_LNG = -1.2921, 36.8219
METRES_PER_DEGREE_LAT = 111_195.08  # a degree of latitude on the mean-radius sphere


def local(*parts: int, tz: ZoneInfo = NAIROBI) -> datetime:
    """A wall-clock time at the employer, as the UTC instant `frozen` expects."""
    return datetime(*parts, tzinfo=tz).astimezone(UTC)


def north_of_site(metres: float) -> tuple[float, float]:
    return SITE_LAT + metres / METRES_PER_DEGREE_LAT, SITE_LNG


def record_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.employee_id == user.id)
    )


def last_audit(session: Session, action: str) -> AuditEntry:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def clock_in_at(session: Session, team: Team, when: datetime, **kwargs: Any) -> AttendanceRecord:
    with frozen(when):
        return attendance.clock_in(session, team.actor("employee"), **kwargs)


pytestmark = pytest.mark.team(grace_minutes=5)


def set_geofence(session: Session, org: Organization, mode: GeofenceMode) -> None:
    org.geofence_mode = mode
    session.flush()


# --- lateness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "late"),
    [
        ((7, 55, 0), 0),
        ((8, 0, 0), 0),
        ((8, 5, 0), 0),  # the last second of grace
        ((8, 5, 30), 5),  # past grace: lateness counts from work_start, not from grace
        ((8, 6, 0), 6),
        ((9, 30, 0), 90),
    ],
)
def test_lateness_against_work_start_and_grace(
    session: Session, team: Team, wall: tuple[int, int, int], late: int
) -> None:
    record = clock_in_at(session, team, local(2026, 10, 14, *wall))
    assert record.late_minutes == late
    assert record.clock_in_at == local(2026, 10, 14, *wall)


def test_lateness_is_computed_in_the_employer_time_zone(session: Session, team: Team) -> None:
    # 05:30 UTC is 08:30 in Nairobi.
    record = clock_in_at(session, team, datetime(2026, 10, 14, 5, 30, tzinfo=UTC))
    assert record.late_minutes == 30
    assert attendance.describe_clock_in(record, team.org) == "Clocked in at 08:30, 30 minutes late."


def test_weekend_is_never_late(session: Session, team: Team) -> None:
    assert date(2026, 10, 17).weekday() == 5
    assert clock_in_at(session, team, local(2026, 10, 17, 11, 0)).late_minutes == 0


@pytest.mark.parametrize(
    ("day", "name"), [(date(2026, 10, 20), "Mashujaa Day"), (date(2025, 12, 12), "Jamhuri Day")]
)
def test_kenyan_public_holiday_is_never_late(
    session: Session, team: Team, day: date, name: str
) -> None:
    assert holidays.country_holidays("KE", years=day.year).get(day) == name
    assert day.weekday() < 5  # a weekday, so only the holiday rule can excuse it
    record = clock_in_at(session, team, local(day.year, day.month, day.day, 10, 0))
    assert record.late_minutes == 0
    assert attendance.describe_clock_in(record, team.org) == "Clocked in at 10:00."


def test_holidays_follow_the_employer_country(session: Session) -> None:
    day = date(2026, 12, 9)
    assert day in holidays.country_holidays("TZ", years=2026)
    assert day not in holidays.country_holidays("KE", years=2026)
    tz_team, ke_team = Team(session, country="TZ"), Team(session)
    with frozen(local(2026, 12, 9, 10, 0, tz=DAR)):
        tz_record = attendance.clock_in(session, tz_team.actor("employee"))
    with frozen(local(2026, 12, 9, 10, 0)):
        ke_record = attendance.clock_in(session, ke_team.actor("employee"))
    assert tz_record.late_minutes == 0
    assert ke_record.late_minutes == 120


# --- clocking in and out ------------------------------------------------------------------


def test_clock_in_records_channel_note_and_audit(session: Session, team: Team) -> None:
    with frozen(local(2026, 10, 14, 8, 4)):
        record = attendance.clock_in(
            session, team.actor("employee", Channel.USSD), note="  Matatu was late  "
        )
    assert record.employee_id == team.employee.id
    assert record.organization_id == team.org.id
    assert record.method_in is Channel.USSD
    assert record.note == "Matatu was late"
    assert record.clock_out_at is None
    assert record.geofence_status is GeofenceStatus.NOT_CHECKED
    assert attendance.describe_clock_in(record, team.org) == "Clocked in at 08:04, on time."
    audit = last_audit(session, "attendance.clock_in")
    assert (audit.outcome, audit.target_id, audit.channel) == ("ok", str(record.id), "ussd")


def test_second_clock_in_conflicts_and_says_since_when(session: Session, team: Team) -> None:
    first = clock_in_at(session, team, local(2026, 10, 14, 8, 4))
    with refused(Conflict) as err:
        clock_in_at(session, team, local(2026, 10, 14, 9, 0))
    assert err.value.code == "already_clocked_in"
    assert "08:04 today" in err.value.message
    assert err.value.details["record_id"] == first.id
    assert record_count(session, team.employee) == 1
    assert last_audit(session, "attendance.clock_in").outcome == "already_clocked_in"


def test_forgotten_shift_from_yesterday_names_the_day(session: Session, team: Team) -> None:
    clock_in_at(session, team, local(2026, 10, 14, 8, 4))
    with refused(Conflict) as err:
        clock_in_at(session, team, local(2026, 10, 15, 8, 0))
    assert "08:04 on Wed 14 Oct" in err.value.message


def test_clock_out_closes_the_shift_and_describes_it(session: Session, team: Team) -> None:
    opened = clock_in_at(session, team, local(2026, 10, 14, 8, 4), note="in")
    with frozen(local(2026, 10, 14, 17, 2)):
        closed = attendance.clock_out(session, team.actor("employee", Channel.TELEGRAM), note="out")
    assert closed.id == opened.id
    assert closed.clock_out_at == local(2026, 10, 14, 17, 2)
    assert closed.method_out is Channel.TELEGRAM
    assert closed.note == "in\nout"
    assert (
        attendance.describe_clock_out(closed, team.org) == "Clocked out at 17:02 after 8 h 58 min."
    )
    assert last_audit(session, "attendance.clock_out").target_id == str(opened.id)
    # The next day starts a new shift.
    again = clock_in_at(session, team, local(2026, 10, 15, 7, 59))
    assert again.id != opened.id
    assert record_count(session, team.employee) == 2


def test_clock_out_without_clock_in_conflicts(session: Session, team: Team) -> None:
    with refused(Conflict) as err, frozen(local(2026, 10, 14, 17, 0)):
        attendance.clock_out(session, team.actor("employee"))
    assert err.value.code == "not_clocked_in"
    assert last_audit(session, "attendance.clock_out").outcome == "not_clocked_in"


def test_clock_out_does_not_close_a_colleagues_shift(session: Session, team: Team) -> None:
    clock_in_at(session, team, local(2026, 10, 14, 8, 0))
    with refused(Conflict) as err, frozen(local(2026, 10, 14, 17, 0)):
        attendance.clock_out(session, team.actor("teammate"))
    assert err.value.code == "not_clocked_in"
    open_rows = session.scalar(
        select(func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.employee_id == team.employee.id)
        .where(AttendanceRecord.clock_out_at.is_(None))
    )
    assert open_rows == 1


def test_overlong_note_is_invalid_and_nothing_written(session: Session, team: Team) -> None:
    with refused(Invalid) as err:
        clock_in_at(session, team, local(2026, 10, 14, 8, 0), note="x" * 501)
    assert err.value.code == "note_too_long"
    assert record_count(session, team.employee) == 0


# --- geofence ------------------------------------------------------------------------------


def test_geofence_off_does_not_check_or_keep_location(session: Session, team: Team) -> None:
    make_site(session, team.org)
    far = north_of_site(50_000)
    record = clock_in_at(
        session, team, local(2026, 10, 14, 8, 0), latitude=far[0], longitude=far[1]
    )
    assert record.geofence_status is GeofenceStatus.NOT_CHECKED
    assert (record.latitude_in, record.longitude_in, record.site_id) == (None, None, None)


@pytest.mark.parametrize("mode", [GeofenceMode.FLAG, GeofenceMode.REJECT])
def test_inside_the_fence_is_accepted_with_its_site(
    session: Session, team: Team, mode: GeofenceMode
) -> None:
    set_geofence(session, team.org, mode)
    site = make_site(session, team.org, radius_m=200)
    lat, lng = north_of_site(150)
    record = clock_in_at(session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng)
    assert record.geofence_status is GeofenceStatus.INSIDE
    assert record.site_id == site.id
    assert (record.latitude_in, record.longitude_in) == (lat, lng)


def test_the_record_says_how_far_its_location_can_be_trusted(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.FLAG)
    make_site(session, team.org, radius_m=200)
    lat, lng = north_of_site(50)
    device = clock_in_at(session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng)
    assert device.location_source_in is LocationSource.DEVICE
    with frozen(local(2026, 10, 14, 17, 0)):
        shift = attendance.clock_out(
            session, team.actor("employee"), latitude=lat, longitude=lng, source=LocationSource.PIN
        )
    assert shift.location_source_out is LocationSource.PIN
    pinned = clock_in_at(
        session, team, local(2026, 10, 15, 8, 0), latitude=lat, longitude=lng,
        source=LocationSource.LIVE,
    )  # fmt: skip
    assert pinned.location_source_in is LocationSource.LIVE
    blind = attendance.clock_out(session, team.actor("employee"))
    assert blind.location_source_out is None  # no location shared, nothing to trust


def test_flag_mode_accepts_outside_and_missing_location(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.FLAG)
    site = make_site(session, team.org, radius_m=200)
    lat, lng = north_of_site(1_500)
    outside = clock_in_at(session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng)
    assert outside.geofence_status is GeofenceStatus.OUTSIDE
    assert outside.site_id == site.id  # the nearest site, for whoever reviews the flag
    assert "outside the work site" in attendance.describe_clock_in(outside, team.org)
    with frozen(local(2026, 10, 14, 17, 0)):
        attendance.clock_out(session, team.actor("employee"))
    blind = clock_in_at(session, team, local(2026, 10, 15, 8, 0))
    assert blind.geofence_status is GeofenceStatus.NO_LOCATION
    assert "No location" in attendance.describe_clock_in(blind, team.org)


def test_reject_mode_refuses_outside_and_writes_nothing(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.REJECT)
    make_site(session, team.org, name="Industrial Area depot", radius_m=200)
    lat, lng = north_of_site(1_500)
    with refused(Forbidden) as err:
        clock_in_at(session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng)
    assert err.value.code == "outside_geofence"
    assert "1.5 km from Industrial Area depot" in err.value.message
    assert record_count(session, team.employee) == 0
    assert last_audit(session, "attendance.clock_in").outcome == "outside_geofence"


def test_reject_mode_requires_a_location(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.REJECT)
    make_site(session, team.org)
    with refused(Invalid) as err:
        clock_in_at(session, team, local(2026, 10, 14, 8, 0))
    assert err.value.code == "location_required"
    assert record_count(session, team.employee) == 0


@pytest.mark.parametrize("mode", [GeofenceMode.FLAG, GeofenceMode.REJECT])
def test_no_sites_means_not_checked(session: Session, team: Team, mode: GeofenceMode) -> None:
    set_geofence(session, team.org, mode)
    record = clock_in_at(session, team, local(2026, 10, 14, 8, 0))
    assert record.geofence_status is GeofenceStatus.NOT_CHECKED


@pytest.mark.parametrize(
    ("metres", "accuracy", "inside"),
    [
        (230, None, False),
        (230, 40, True),  # the fix might well be inside: give it the benefit of the doubt
        (260, 5_000, False),  # a fix vague by kilometres widens the fence by 50 m at most
        (240, 5_000, True),
    ],
)
def test_reported_accuracy_widens_the_fence_up_to_a_cap(
    session: Session, team: Team, metres: float, accuracy: float | None, inside: bool
) -> None:
    set_geofence(session, team.org, GeofenceMode.FLAG)
    make_site(session, team.org, radius_m=200)
    lat, lng = north_of_site(metres)
    assert attendance.haversine_m(lat, lng, SITE_LAT, SITE_LNG) == pytest.approx(metres, abs=0.5)
    record = clock_in_at(
        session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng, accuracy_m=accuracy
    )
    expected = GeofenceStatus.INSIDE if inside else GeofenceStatus.OUTSIDE
    assert record.geofence_status is expected
    assert record.accuracy_in_m == accuracy


def test_nearest_site_decides(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.REJECT)
    make_site(session, team.org, name="Head office", radius_m=200)
    # Mombasa: far from head office, a few metres from the coast branch.
    branch = make_site(
        session, team.org, name="Coast branch", latitude=-4.0435, longitude=39.6682, radius_m=100
    )
    record = clock_in_at(
        session, team, local(2026, 10, 14, 8, 0), latitude=-4.0436, longitude=39.6683
    )
    assert (record.geofence_status, record.site_id) == (GeofenceStatus.INSIDE, branch.id)


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": 90.5, "longitude": 36.8},
        {"latitude": -91, "longitude": 36.8},
        {"latitude": -1.29, "longitude": 180.1},
        {"latitude": -1.29, "longitude": -181},
        {"latitude": float("nan"), "longitude": 36.8},
        {"latitude": -1.29},
        {"longitude": 36.8},
        {"latitude": -1.29, "longitude": 36.8, "accuracy_m": -1},
        {"accuracy_m": 10},
    ],
)
def test_invalid_location_is_refused_and_nothing_written(
    session: Session, team: Team, location: dict[str, float]
) -> None:
    set_geofence(session, team.org, GeofenceMode.FLAG)
    make_site(session, team.org)
    with refused(Invalid) as err:
        clock_in_at(session, team, local(2026, 10, 14, 8, 0), **location)
    assert err.value.code == "invalid_location"
    assert record_count(session, team.employee) == 0
    assert last_audit(session, "attendance.clock_in").outcome == "invalid_location"


def test_clock_out_validates_and_keeps_its_location(session: Session, team: Team) -> None:
    set_geofence(session, team.org, GeofenceMode.REJECT)
    make_site(session, team.org)
    lat, lng = north_of_site(10)
    clock_in_at(session, team, local(2026, 10, 14, 8, 0), latitude=lat, longitude=lng)
    with refused(Invalid) as err, frozen(local(2026, 10, 14, 17, 0)):
        attendance.clock_out(session, team.actor("employee"), latitude=100, longitude=0)
    assert err.value.code == "invalid_location"
    far = north_of_site(5_000)
    with frozen(local(2026, 10, 14, 17, 0)):
        # Leaving from elsewhere is recorded, never refused: the shift must be able to close.
        closed = attendance.clock_out(
            session, team.actor("employee"), latitude=far[0], longitude=far[1], accuracy_m=12
        )
    assert (closed.latitude_out, closed.longitude_out, closed.accuracy_out_m) == (*far, 12)


# --- the race ------------------------------------------------------------------------------


def test_insert_path_turns_the_unique_index_into_a_conflict(session: Session, team: Team) -> None:
    # Another transaction won between our check and our insert: its open row is already there.
    winner_at = local(2026, 10, 14, 8, 1)
    session.execute(
        insert(AttendanceRecord).values(
            organization_id=team.org.id,
            employee_id=team.employee.id,
            clock_in_at=winner_at,
            method_in=Channel.WHATSAPP,
            geofence_status=GeofenceStatus.NOT_CHECKED,
            late_minutes=0,
        )
    )
    loser = AttendanceRecord(
        organization_id=team.org.id,
        employee_id=team.employee.id,
        clock_in_at=local(2026, 10, 14, 8, 2),
        method_in=Channel.USSD,
        geofence_status=GeofenceStatus.NOT_CHECKED,
        late_minutes=0,
    )
    with frozen(local(2026, 10, 14, 8, 2)), refused(Conflict) as err:
        attendance.insert_open_shift(session, team.org, loser)
    assert err.value.code == "already_clocked_in"
    assert "08:01 today" in err.value.message
    # The session is still usable and holds exactly the winner.
    assert record_count(session, team.employee) == 1


def _wait_until_blocked(engine: Engine, pid: int) -> None:
    deadline = wallclock.monotonic() + 10
    with engine.connect() as watcher:
        while wallclock.monotonic() < deadline:
            waiting = watcher.execute(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                {"pid": pid},
            ).scalar_one()
            if waiting:
                return
            watcher.rollback()
            wallclock.sleep(0.02)
    raise AssertionError("the second clock-in never waited on the first")


@dataclass
class Race:
    """Two sessions of one committed employee, the second made to wait on the first."""

    engine: Engine
    actor: Actor
    first: Session
    second: Session

    def run(self, service: Callable[[Session, Actor], AttendanceRecord]) -> tuple[Any, Any]:
        """Run `service` in `first` (uncommitted), then in `second`, which must wait for it."""
        won = service(self.first, self.actor)
        pid = self.second.connection().connection.dbapi_connection.info.backend_pid
        outcome: dict[str, Any] = {}

        def lose() -> None:
            try:
                outcome["result"] = service(self.second, self.actor)
            except HRError as exc:
                # As a unit of work does: undo everything, then record the refusal on its own.
                self.second.rollback()
                keep_failure_writes(exc)
                outcome["result"] = exc
            except BaseException as exc:  # handed to the main thread below
                outcome["result"] = exc

        racer = threading.Thread(target=lose)
        racer.start()
        # The second call passed its own check and now waits on the first's row.
        _wait_until_blocked(self.engine, pid)
        self.first.commit()
        racer.join(timeout=10)
        assert not racer.is_alive()
        self.second.commit()
        return won, outcome["result"]


@pytest.fixture
def race(engine: Engine) -> Iterator[Race]:
    # Real concurrency needs committed people, so this fixture cleans up after itself.
    with arranging(Session(engine)) as setup:
        org = make_org(setup)
        user = make_user(setup, org)
        setup.commit()
        org_id, actor = org.id, as_actor(user)
    try:
        with Session(engine) as first, Session(engine) as second:
            # Two requests of the employee's: the database shows each only their employer.
            tenancy.act_as(first, actor)
            tenancy.act_as(second, actor)
            yield Race(engine, actor, first, second)
    finally:
        with arranging(Session(engine)) as cleanup:
            cleanup.execute(delete(AuditEntry).where(AuditEntry.organization_id == org_id))
            cleanup.execute(delete(Organization).where(Organization.id == org_id))
            cleanup.commit()


def _committed(race: Race) -> tuple[list[tuple[Any, ...]], list[str]]:
    with arranging(Session(race.engine)) as check:
        shifts = check.execute(
            select(AttendanceRecord.id, AttendanceRecord.clock_out_at)
            .where(AttendanceRecord.employee_id == race.actor.user_id)
            .order_by(AttendanceRecord.id)
        ).all()
        outcomes = check.scalars(
            select(AuditEntry.outcome)
            .where(AuditEntry.organization_id == race.actor.organization_id)
            .order_by(AuditEntry.id)
        ).all()
    return [tuple(row) for row in shifts], list(outcomes)


def test_two_concurrent_clock_ins_one_wins_the_other_conflicts(race: Race) -> None:
    with frozen(local(2026, 10, 14, 8, 1)):
        won, lost = race.run(lambda s, a: attendance.clock_in(s, a))
    assert isinstance(lost, Conflict), lost
    assert lost.code == "already_clocked_in"
    assert lost.details["record_id"] == won.id
    shifts, outcomes = _committed(race)
    assert shifts == [(won.id, None)]
    assert outcomes == ["ok", "already_clocked_in"]


def test_two_concurrent_clock_outs_close_the_shift_once(race: Race) -> None:
    with frozen(local(2026, 10, 14, 8, 0)):
        opened = attendance.clock_in(race.first, race.actor)
    race.first.commit()
    with frozen(local(2026, 10, 14, 17, 0)):
        won, lost = race.run(lambda s, a: attendance.clock_out(s, a))
    assert isinstance(lost, Conflict), lost
    assert lost.code == "not_clocked_in"
    shifts, outcomes = _committed(race)
    assert shifts == [(opened.id, local(2026, 10, 14, 17, 0))]
    assert outcomes == ["ok", "ok", "not_clocked_in"]
    assert won.id == opened.id


# --- history -------------------------------------------------------------------------------


def _shift(
    session: Session,
    user: User,
    start: datetime,
    end: datetime | None = None,
    *,
    late: int = 0,
) -> AttendanceRecord:
    record = AttendanceRecord(
        organization_id=user.organization_id,
        employee_id=user.id,
        clock_in_at=start,
        clock_out_at=end,
        method_in=Channel.WEB,
        geofence_status=GeofenceStatus.NOT_CHECKED,
        late_minutes=late,
    )
    session.add(record)
    session.flush()
    return record


def test_history_is_own_by_default_newest_first(session: Session, team: Team) -> None:
    older = _shift(session, team.employee, local(2026, 10, 13, 8, 0), local(2026, 10, 13, 17, 0))
    newer = _shift(session, team.employee, local(2026, 10, 14, 8, 0))
    _shift(session, team.teammate, local(2026, 10, 14, 8, 0))
    rows = attendance.attendance_history(session, team.actor("employee"))
    assert [r.id for r in rows] == [newer.id, older.id]
    paged = attendance.attendance_history(session, team.actor("employee"), limit=1, offset=1)
    assert [r.id for r in paged] == [older.id]


def test_history_dates_are_inclusive_local_dates(session: Session, team: Team) -> None:
    # 00:30 in Nairobi on the 15th is still the 14th in UTC.
    early = _shift(session, team.employee, local(2026, 10, 15, 0, 30))
    assert early.clock_in_at.date() == date(2026, 10, 14)
    before = _shift(session, team.employee, local(2026, 10, 14, 23, 59), local(2026, 10, 15, 0, 10))
    actor = team.actor("employee")
    on_15th = attendance.attendance_history(
        session, actor, start=date(2026, 10, 15), end=date(2026, 10, 15)
    )
    assert [r.id for r in on_15th] == [early.id]
    up_to_14th = attendance.attendance_history(session, actor, end=date(2026, 10, 14))
    assert [r.id for r in up_to_14th] == [before.id]


def test_history_bad_range_and_paging(session: Session, team: Team) -> None:
    with refused(Invalid) as err:
        attendance.attendance_history(
            session, team.actor("employee"), start=date(2026, 10, 15), end=date(2026, 10, 14)
        )
    assert err.value.code == "invalid_range"
    with refused(Invalid) as err:
        attendance.attendance_history(session, team.actor("employee"), limit=0)
    assert err.value.code == "invalid_limit"


def test_history_scoping(session: Session, team: Team) -> None:
    mine = _shift(session, team.employee, local(2026, 10, 14, 8, 0))
    _shift(session, team.outsider, local(2026, 10, 14, 8, 0))
    supervisor_view = attendance.attendance_history(
        session, team.actor("supervisor"), employee_id=team.employee.id
    )
    assert [r.id for r in supervisor_view] == [mine.id]
    hr_view = attendance.attendance_history(session, team.actor("hr"), employee_id=team.employee.id)
    assert [r.id for r in hr_view] == [mine.id]
    for name, target in [("supervisor", team.outsider), ("employee", team.teammate)]:
        with refused(Forbidden) as err:
            attendance.attendance_history(session, team.actor(name), employee_id=target.id)
        assert err.value.code == "outside_scope"
    audit = last_audit(session, "attendance.history")
    assert (audit.outcome, audit.target_id) == ("outside_scope", str(team.teammate.id))
    other = Team(session, country="TZ")
    with refused(NotFound):
        attendance.attendance_history(session, other.actor("admin"), employee_id=team.employee.id)


# --- monthly report ------------------------------------------------------------------------


@pytest.fixture
def october(session: Session, team: Team) -> Team:
    """A hand-computed October 2026 (Nairobi is UTC+3 all year)."""
    e = team.employee
    _shift(session, e, local(2026, 9, 30, 23, 0), local(2026, 10, 1, 1, 0))  # September's
    _shift(session, e, local(2026, 10, 1, 0, 30), local(2026, 10, 1, 2, 30))  # 2 h, UTC: Sep 30
    _shift(session, e, local(2026, 10, 13, 8, 0), local(2026, 10, 13, 17, 0))  # 9 h
    _shift(session, e, local(2026, 10, 15, 8, 10), local(2026, 10, 15, 17, 0), late=10)  # 8 h 50
    # 2 h on the same local day as the next one, though the 14th in UTC.
    _shift(session, e, local(2026, 10, 15, 0, 30), local(2026, 10, 15, 2, 30))
    _shift(session, e, local(2026, 10, 16, 8, 30), late=30)  # open: present, no hours
    _shift(session, e, local(2026, 11, 1, 1, 0), local(2026, 11, 1, 3, 0))  # November's
    _shift(session, team.teammate, local(2026, 10, 14, 9, 0), local(2026, 10, 14, 12, 20), late=60)
    _shift(session, team.outsider, local(2026, 10, 14, 8, 0), local(2026, 10, 14, 16, 0))
    return team


def _by_id(rows: list[Any]) -> dict[int, tuple[Decimal, int, int, int]]:
    return {
        r.employee_id: (r.hours_worked, r.days_present, r.late_arrivals, r.late_minutes_total)
        for r in rows
    }


def test_monthly_report_figures(session: Session, october: Team) -> None:
    rows = attendance.monthly_work_report(session, october.actor("hr"), year=2026, month=10)
    figures = _by_id(rows)
    # 2 + 9 + 8 5/6 + 2 = 21.8333 h over local Oct 1, 13, 15 and 16.
    assert figures[october.employee.id] == (Decimal("21.83"), 4, 2, 40)
    assert figures[october.teammate.id] == (Decimal("3.33"), 1, 1, 60)
    assert figures[october.outsider.id] == (Decimal("8.00"), 1, 0, 0)
    assert figures[october.supervisor.id] == (Decimal("0.00"), 0, 0, 0)
    assert str(figures[october.supervisor.id][0]) == "0.00"
    names = {r.employee_id: r.full_name for r in rows}
    assert names[october.employee.id] == october.employee.full_name
    assert [r.full_name for r in rows] == sorted(r.full_name for r in rows)
    assert last_audit(session, "attendance.monthly_report").outcome == "ok"


def test_monthly_report_neighbouring_months(session: Session, october: Team) -> None:
    actor = october.actor("employee")
    (sept,) = attendance.monthly_work_report(session, actor, year=2026, month=9)
    (nov,) = attendance.monthly_work_report(session, actor, year=2026, month=11)
    assert (sept.hours_worked, sept.days_present) == (Decimal("2.00"), 1)
    assert (nov.hours_worked, nov.days_present) == (Decimal("2.00"), 1)


def test_monthly_report_scoping(session: Session, october: Team) -> None:
    t = october

    def ids(name: str, **kwargs: Any) -> set[int]:
        rows = attendance.monthly_work_report(session, t.actor(name), year=2026, month=10, **kwargs)
        return {r.employee_id for r in rows}

    everyone = {u.id for u in (t.admin, t.hr, t.supervisor, t.employee, t.teammate, t.outsider)}
    assert ids("employee") == {t.employee.id}
    assert ids("supervisor") == {t.supervisor.id, t.employee.id, t.teammate.id}
    assert ids("hr") == everyone
    assert ids("admin") == everyone
    assert ids("supervisor", employee_id=t.teammate.id) == {t.teammate.id}
    assert ids("hr", employee_id=t.outsider.id) == {t.outsider.id}
    with refused(Forbidden) as err:
        ids("supervisor", employee_id=t.outsider.id)
    assert err.value.code == "outside_scope"
    other = Team(session, country="TZ")
    assert t.employee.id not in ids_of(session, other, "admin")
    with refused(NotFound):
        attendance.monthly_work_report(
            session, other.actor("admin"), year=2026, month=10, employee_id=t.employee.id
        )


def ids_of(session: Session, team: Team, name: str) -> set[int]:
    rows = attendance.monthly_work_report(session, team.actor(name), year=2026, month=10)
    return {r.employee_id for r in rows}


def test_monthly_report_lists_leavers_only_when_they_worked(session: Session, team: Team) -> None:
    worked = make_user(session, team.org, is_active=False)
    idle = make_user(session, team.org, is_active=False)
    _shift(session, worked, local(2026, 10, 5, 8, 0), local(2026, 10, 5, 12, 0))
    listed = ids_of(session, team, "hr")
    assert worked.id in listed
    assert idle.id not in listed


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (1999, 5)])
def test_monthly_report_bad_month(session: Session, team: Team, year: int, month: int) -> None:
    with refused(Invalid) as err:
        attendance.monthly_work_report(session, team.actor("hr"), year=year, month=month)
    assert err.value.code == "invalid_month"
    assert last_audit(session, "attendance.monthly_report").outcome == "invalid_month"


# --- summaries -----------------------------------------------------------------------------


def test_summaries_for_chat(session: Session, team: Team) -> None:
    record = clock_in_at(session, team, local(2026, 10, 14, 9, 15))
    assert attendance.describe_clock_in(record, team.org) == "Clocked in at 09:15, 1 h 15 min late."
    with frozen(local(2026, 10, 14, 9, 16)):
        attendance.clock_out(session, team.actor("employee"))
    assert attendance.describe_clock_out(record, team.org) == "Clocked out at 09:16 after 1 minute."
    fresh = clock_in_at(session, team, local(2026, 10, 15, 8, 6))
    assert attendance.describe_clock_in(fresh, team.org) == "Clocked in at 08:06, 6 minutes late."
    with pytest.raises(ValueError):
        attendance.describe_clock_out(fresh, team.org)
