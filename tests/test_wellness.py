import hashlib
import hmac
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, delete, func, inspect, select
from sqlalchemy.orm import Session

from hrcore import db
from hrcore.actor import Role
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.keys import mood_key
from hrcore.notifications.models import Notification
from hrcore.people.models import Department, Organization, User
from hrcore.wellness import service as wellness
from hrcore.wellness import summary as summaries
from hrcore.wellness.models import IssueReport, MoodDayKey, MoodEntry, MoodParticipation
from tests.factories import Team, as_actor, make_department, make_user

# 09:00 in Nairobi on Wednesday 11 November 2026.
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 11)
WEEK = date(2026, 11, 9)  # the current week, Monday 9 to Sunday 15 November: never shown
LAST = date(2026, 11, 2)  # the last week that has ended, Monday 2 to Sunday 8 November
SUNDAY = LAST + timedelta(days=6)
ROLES = ["employee", "supervisor", "hr", "admin"]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _last_audit(session: Session, action: str) -> AuditEntry | None:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def _columns(session: Session, table: str) -> dict[str, str]:
    return {c["name"]: str(c["type"]) for c in inspect(session.connection()).get_columns(table)}


def _foreign_tables(session: Session, table: str) -> set[str]:
    return {fk["referred_table"] for fk in inspect(session.connection()).get_foreign_keys(table)}


def _members(session: Session, team: Team, dept: Department | None, n: int) -> list[User]:
    """`n` more active people in `dept`."""
    return [make_user(session, team.org, department_id=dept.id if dept else None) for _ in range(n)]


def _add_week(
    session: Session,
    org: Organization,
    dept: Department | int | None,
    scores: list[int],
    week: date = LAST,
    *,
    people: int | None = None,
    notes: list[str] | None = None,
) -> None:
    """Store a week's moods as `submit_mood` would: entries, and one pseudonym per person."""
    dept_id = dept.id if isinstance(dept, Department) else dept
    texts = notes or []
    for n, score in enumerate(scores):
        session.add(
            MoodEntry(
                organization_id=org.id,
                department_id=dept_id,
                week=week,
                score=score,
                note=texts[n] if n < len(texts) else None,
            )
        )
    for _ in range(len(scores) if people is None else people):
        session.add(
            MoodParticipation(
                organization_id=org.id, week=week, department_id=dept_id, pseudonym=os.urandom(32)
            )
        )
    session.flush()


def _submit(session: Session, people: list[User], scores: list[int], at: datetime) -> None:
    with frozen(at):
        for person, score in zip(people, scores, strict=True):
            wellness.submit_mood(session, as_actor(person), score=score)


def _summary(session: Session, team: Team, **kwargs: object) -> summaries.WellnessSummary:
    kwargs.setdefault("start", LAST)
    kwargs.setdefault("end", SUNDAY)
    return summaries.wellness_summary(session, team.actor("hr"), **kwargs)


def _figures(summary: summaries.WellnessSummary) -> tuple[object, ...]:
    """Everything a summary says about moods, without the range that was asked for."""
    return (summary.total, summary.groups, summary.notes, summary.issues)


# --- submit_mood ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_everyone_may_submit_a_mood(session: Session, team: Team, who: str) -> None:
    receipt = wellness.submit_mood(session, team.actor(who), score=4)
    assert receipt == wellness.MoodReceipt(day=TODAY, score=4)
    assert _count(session, MoodEntry) == 1


def test_mood_row_carries_nothing_that_links_to_the_person(session: Session, team: Team) -> None:
    dept = make_department(session, team.org)
    person = make_user(session, team.org, department_id=dept.id)
    _members(session, team, dept, 4)
    receipt = wellness.submit_mood(session, as_actor(person), score=2, note="  Long week  ")
    assert not hasattr(receipt, "id")

    # Only the week: no day, no time, nothing that orders rows back to their authors.
    assert set(_columns(session, "mood_entries")) == {
        "id",
        "organization_id",
        "department_id",
        "week",
        "score",
        "note",
    }
    assert _columns(session, "mood_entries")["week"] == "DATE"
    assert _foreign_tables(session, "mood_entries") == {"organizations"}
    assert not [c for c in MoodEntry.__table__.columns if isinstance(c.type, DateTime)]
    assert not [c for c in IssueReport.__table__.columns if isinstance(c.type, DateTime)]

    entry = session.scalars(select(MoodEntry)).one()
    assert isinstance(entry.id, uuid.UUID)
    assert entry.id.version == 4
    assert (entry.organization_id, entry.department_id, entry.week, entry.score, entry.note) == (
        team.org.id,
        dept.id,
        WEEK,
        2,
        "Long week",
    )

    # The day key is the keyed hash, not the user id.
    assert set(_columns(session, "mood_day_keys")) == {"key", "organization_id", "day"}
    expected = hmac.new(
        mood_key(),
        f"mood:{team.org.id}:{person.id}:{TODAY.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()
    key = session.scalars(select(MoodDayKey)).one()
    assert (key.key, key.day, key.organization_id) == (expected, TODAY, team.org.id)


def test_participation_counts_a_person_once_a_week_without_a_score(
    session: Session, team: Team
) -> None:
    wellness.submit_mood(session, team.actor("employee"), score=2)
    _submit(session, [team.employee], [4], NOW + timedelta(days=2))
    _submit(session, [team.teammate], [5], NOW + timedelta(days=2))
    _submit(session, [team.employee], [1], NOW + timedelta(days=7))

    assert set(_columns(session, "mood_participation")) == {
        "pseudonym",
        "organization_id",
        "week",
        "department_id",
    }
    assert _foreign_tables(session, "mood_participation") == {"organizations"}
    rows = session.scalars(select(MoodParticipation).order_by(MoodParticipation.week)).all()
    assert [r.week for r in rows] == [WEEK, WEEK, WEEK + timedelta(days=7)]
    expected = hmac.new(
        mood_key(),
        f"mood-week:{team.org.id}:{team.employee.id}:{WEEK.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()
    assert expected in {r.pseudonym for r in rows}
    assert len({r.pseudonym for r in rows}) == 3
    assert _count(session, MoodEntry) == 4


@pytest.mark.parametrize(("active", "stored"), [(4, False), (5, True)])
def test_a_department_is_stored_only_when_5_active_people_share_it(
    session: Session, team: Team, active: int, stored: bool
) -> None:
    dept = make_department(session, team.org)
    people = _members(session, team, dept, active)
    make_user(session, team.org, department_id=dept.id, is_active=False)
    wellness.submit_mood(session, as_actor(people[0]), score=3)
    wellness.report_issue(session, as_actor(people[0]), category="pay", text="Late salary.")
    want = dept.id if stored else None
    assert session.scalars(select(MoodEntry.department_id)).one() == want
    assert session.scalars(select(MoodParticipation.department_id)).one() == want
    assert session.scalars(select(IssueReport.department_id)).one() == want


def test_anonymous_submissions_leave_no_audit_trail_to_the_author(
    session: Session, team: Team
) -> None:
    wellness.submit_mood(session, team.actor("employee"), score=5)
    wellness.report_issue(session, team.actor("employee"), category="pay", text="Late salary.")
    assert not session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == team.employee.id)
    ).all()


def test_second_mood_the_same_day_conflicts(session: Session, team: Team) -> None:
    wellness.submit_mood(session, team.actor("employee"), score=3)
    with frozen(NOW + timedelta(hours=10)), pytest.raises(Conflict) as err:
        wellness.submit_mood(session, team.actor("employee"), score=1)
    assert err.value.code == "mood_already_submitted"
    assert _count(session, MoodEntry) == 1
    assert _count(session, MoodDayKey) == 1
    assert session.scalars(select(MoodEntry.score)).one() == 3


def test_two_people_the_same_day_both_submit(session: Session, team: Team) -> None:
    wellness.submit_mood(session, team.actor("employee"), score=3)
    wellness.submit_mood(session, team.actor("teammate"), score=5)
    assert sorted(session.scalars(select(MoodEntry.score))) == [3, 5]
    assert _count(session, MoodDayKey) == 2


def test_same_person_next_day_submits_again(session: Session, team: Team) -> None:
    wellness.submit_mood(session, team.actor("employee"), score=3)
    with frozen(NOW + timedelta(days=1)):
        receipt = wellness.submit_mood(session, team.actor("employee"), score=4)
    assert receipt.day == TODAY + timedelta(days=1)
    # Both days fall in the same week, which is all an entry keeps.
    assert sorted(session.scalars(select(MoodEntry.week))) == [WEEK, WEEK]
    assert _count(session, MoodParticipation) == 1


def test_the_day_is_the_organization_local_day(session: Session, team: Team) -> None:
    # Nairobi is UTC+3: 20:30 UTC is still the 11th there, 21:30 UTC is already the 12th.
    with frozen(datetime(2026, 11, 11, 20, 30, tzinfo=UTC)):
        assert wellness.submit_mood(session, team.actor("employee"), score=3).day == TODAY
    with frozen(datetime(2026, 11, 11, 21, 30, tzinfo=UTC)):
        later = wellness.submit_mood(session, team.actor("employee"), score=3)
    assert later.day == date(2026, 11, 12)


def test_same_person_in_another_organization_key_space_is_separate(
    session: Session, team: Team
) -> None:
    other = Team(session, country="TZ")
    wellness.submit_mood(session, team.actor("employee"), score=3)
    wellness.submit_mood(session, other.actor("employee"), score=3)
    orgs = sorted(session.scalars(select(MoodEntry.organization_id)))
    assert orgs == sorted([team.org.id, other.org.id])


@pytest.mark.parametrize("score", [0, 6, -1, True, 3.5, "3", None])
def test_bad_mood_score_is_refused_and_nothing_written(
    session: Session, team: Team, score: object
) -> None:
    with pytest.raises(Invalid) as err:
        wellness.submit_mood(session, team.actor("employee"), score=score)
    assert err.value.code == "invalid_score"
    assert _count(session, MoodEntry) == 0
    assert _count(session, MoodDayKey) == 0


def test_overlong_note_is_refused_and_the_day_stays_free(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        wellness.submit_mood(session, team.actor("employee"), score=3, note="x" * 1001)
    assert err.value.code == "invalid_note"
    assert _count(session, MoodEntry) == 0
    assert _count(session, MoodDayKey) == 0
    assert wellness.submit_mood(session, team.actor("employee"), score=3).score == 3


def test_mood_receipt_text() -> None:
    receipt = wellness.MoodReceipt(day=TODAY, score=4)
    assert wellness.describe_mood_receipt(receipt) == (
        "Thanks — your mood for today is recorded anonymously."
    )


# --- report_issue --------------------------------------------------------------------------


def test_issue_report_is_stored_without_the_person_and_hr_is_told(
    session: Session, team: Team
) -> None:
    dept = make_department(session, team.org)
    reporter = make_user(session, team.org, department_id=dept.id, full_name="Zawadi Reporter")
    _members(session, team, dept, 4)
    second_hr = make_user(session, team.org, role=Role.HR)
    make_user(session, team.org, role=Role.HR, is_active=False)
    text = "The fire exit on floor 2 is locked every evening."

    receipt = wellness.report_issue(session, as_actor(reporter), category=" Safety ", text=text)
    assert receipt == wellness.IssueReceipt(day=TODAY, category="safety")
    assert not hasattr(receipt, "id")

    assert set(_columns(session, "issue_reports")) == {
        "id",
        "organization_id",
        "department_id",
        "day",
        "category",
        "text",
        "status",
    }
    assert _foreign_tables(session, "issue_reports") == {"organizations", "departments"}
    assert not [c for c in IssueReport.__table__.columns if isinstance(c.type, DateTime)]
    report = session.scalars(select(IssueReport)).one()
    assert report.id.version == 4
    assert (report.organization_id, report.department_id, report.day) == (
        team.org.id,
        dept.id,
        TODAY,
    )
    assert (report.category, report.text, report.status) == ("safety", text, "open")

    notes = session.scalars(select(Notification).order_by(Notification.recipient_id)).all()
    assert sorted(n.recipient_id for n in notes) == sorted([team.hr.id, second_hr.id])
    assert {n.kind for n in notes} == {"wellness.issue_reported"}
    for note in notes:
        assert "fire exit" not in note.text
        assert "Zawadi" not in note.text
        assert str(reporter.id) not in note.text
    assert wellness.describe_issue_receipt(receipt).startswith(
        "Thank you. Your safety report has been passed to hr anonymously"
    )


def test_hr_reporting_is_notified_like_everyone_else(session: Session, team: Team) -> None:
    wellness.report_issue(session, team.actor("hr"), category="workload", text="Too many shifts.")
    assert session.scalars(select(Notification.recipient_id)).all() == [team.hr.id]


def test_without_hr_the_admins_are_told(session: Session) -> None:
    team = Team(session)
    team.hr.is_active = False
    session.flush()
    wellness.report_issue(session, team.actor("employee"), category="pay", text="Late salary.")
    assert session.scalars(select(Notification.recipient_id)).all() == [team.admin.id]


@pytest.mark.parametrize("who", ROLES)
def test_everyone_may_report_an_issue(session: Session, team: Team, who: str) -> None:
    wellness.report_issue(session, team.actor(who), category="facilities", text="No water.")
    assert _count(session, IssueReport) == 1


@pytest.mark.parametrize("category", ["", "bullying", "SAFETY!", None, "harassment, pay"])
def test_bad_category_is_refused_and_nothing_written(
    session: Session, team: Team, category: object
) -> None:
    with pytest.raises(Invalid) as err:
        wellness.report_issue(session, team.actor("employee"), category=category, text="Help me.")
    assert err.value.code == "invalid_category"
    assert _count(session, IssueReport) == 0
    assert _count(session, Notification) == 0


@pytest.mark.parametrize("text", ["", "  ", "ok", "  ab  ", "x" * 4001, None])
def test_bad_text_is_refused_and_nothing_written(
    session: Session, team: Team, text: object
) -> None:
    with pytest.raises(Invalid) as err:
        wellness.report_issue(session, team.actor("employee"), category="other", text=text)
    assert err.value.code == "invalid_text"
    assert _count(session, IssueReport) == 0
    assert _count(session, Notification) == 0


@pytest.mark.parametrize("text", ["abc", "x" * 4000])
def test_text_length_bounds_are_inclusive(session: Session, team: Team, text: str) -> None:
    wellness.report_issue(session, team.actor("employee"), category="other", text=text)
    assert session.scalars(select(IssueReport.text)).one() == text


def test_hr_lists_issue_reports_of_their_organization_only(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    wellness.report_issue(session, team.actor("employee"), category="pay", text="Late salary.")
    wellness.report_issue(session, team.actor("teammate"), category="safety", text="Loose wire.")
    wellness.report_issue(session, other.actor("employee"), category="pay", text="Other org.")

    listed = wellness.list_issue_reports(session, team.actor("hr"))
    assert sorted(v.text for v in listed) == ["Late salary.", "Loose wire."]
    assert [
        v.text for v in wellness.list_issue_reports(session, team.actor("admin"), category="PAY")
    ] == ["Late salary."]
    assert [v.text for v in wellness.list_issue_reports(session, other.actor("admin"))] == [
        "Other org."
    ]
    for who in ("employee", "supervisor"):
        with pytest.raises(Forbidden):
            wellness.list_issue_reports(session, team.actor(who))


# --- wellness_summary: whole closed weeks, cells of 5 people ------------------------------


def test_a_differencing_attack_learns_nothing(session: Session, team: Team) -> None:
    """Read, let one more person submit, read again: the two summaries must not differ."""
    dept = make_department(session, team.org, "Depot")
    people = _members(session, team, dept, 6)
    _submit(session, people[:5], [4, 4, 3, 5, 4], datetime(2026, 11, 3, 6, tzinfo=UTC))

    before = _summary(session, team, start=LAST, end=TODAY)
    assert (before.covered_start, before.covered_end) == (LAST, SUNDAY)
    assert (before.total.responses, before.total.average) == (5, Decimal("4.0"))
    assert [g.responses for g in before.groups] == [5]

    # The sixth person answers now, with a score nobody else gave.
    wellness.submit_mood(session, as_actor(people[5]), score=1)
    after = _summary(session, team, start=LAST, end=TODAY)
    assert _figures(after) == _figures(before)

    # Shifting the range by a day either way only ever snaps to the same whole weeks.
    for start, end in [
        (LAST - timedelta(days=1), TODAY),
        (LAST, TODAY + timedelta(days=1)),
        (LAST - timedelta(days=1), SUNDAY),
        (LAST, SUNDAY + timedelta(days=1)),
    ]:
        assert _figures(_summary(session, team, start=start, end=end)) == _figures(before)

    # Once the sixth person's week has ended it is a week of one person: left out too.
    with frozen(NOW + timedelta(days=7)):
        later = _summary(session, team, start=LAST, end=TODAY + timedelta(days=7))
    assert later.covered_end == SUNDAY + timedelta(days=7)
    assert _figures(later) == _figures(before)


def test_a_range_one_day_short_of_a_week_shows_nothing_of_that_week(
    session: Session, team: Team
) -> None:
    # Four people answer early in the week, one alone on Sunday with a 1.
    people = _members(session, team, None, 5)
    _submit(session, people[:4], [5, 5, 5, 5], datetime(2026, 11, 3, 6, tzinfo=UTC))
    _submit(session, people[4:], [1], datetime(2026, 11, 8, 6, tzinfo=UTC))
    whole = _summary(session, team, group_by="organization")
    assert (whole.total.responses, whole.total.average) == (5, Decimal("4.2"))
    without_sunday = _summary(session, team, end=SUNDAY - timedelta(days=1))
    without_monday = _summary(session, team, start=LAST + timedelta(days=1))
    for part in (without_sunday, without_monday):
        assert (part.covered_start, part.covered_end) == (None, None)
        assert part.total.suppressed
        assert part.groups == []
        assert part.notes == 0


def test_the_current_week_never_appears(session: Session, team: Team) -> None:
    _submit(session, _members(session, team, None, 6), [5] * 6, NOW)
    for end in (TODAY, WEEK + timedelta(days=6), date(2027, 6, 1)):
        summary = _summary(session, team, start=LAST, end=end, group_by="organization")
        assert summary.covered_end == SUNDAY
        assert summary.total.suppressed
    current = _summary(session, team, start=WEEK, end=TODAY)
    assert (current.covered_start, current.covered_end) == (None, None)
    assert "nothing to show yet" in summaries.describe_summary(current)


def test_a_week_closes_once_it_has_ended_everywhere(session: Session, team: Team) -> None:
    _add_week(session, team.org, None, [3] * 5, WEEK)
    args = {"start": WEEK, "end": WEEK + timedelta(days=6), "group_by": "organization"}
    # Monday 16 November has begun in Nairobi, but the week still runs in UTC-12 until 12:00 UTC.
    with frozen(datetime(2026, 11, 16, 11, 59, tzinfo=UTC)):
        assert _summary(session, team, **args).total.suppressed
        assert summaries.last_closed_sunday() == SUNDAY
    with frozen(datetime(2026, 11, 16, 12, 0, tzinfo=UTC)):
        assert _summary(session, team, **args).total.responses == 5


def test_a_week_of_4_people_is_left_out_of_the_total(session: Session, team: Team) -> None:
    _add_week(session, team.org, None, [5] * 5, LAST)
    _add_week(session, team.org, None, [1] * 4, LAST - timedelta(days=7))
    # Ten answers, but from four people (some answered on several days): still too few.
    _add_week(session, team.org, None, [1] * 10, LAST - timedelta(days=14), people=4)
    summary = _summary(session, team, start=LAST - timedelta(days=14), group_by="organization")
    assert (summary.total.responses, summary.total.average) == (5, Decimal("5.0"))
    assert summary.total.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 5}


def test_moods_without_participation_are_never_counted(session: Session, team: Team) -> None:
    # Rows from before people were counted: how many people they hold is unknown.
    _add_week(session, team.org, None, [2] * 8, LAST, people=0)
    assert _summary(session, team, group_by="organization").total.suppressed


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_summary_is_for_hr_and_admin_only(session: Session, team: Team, who: str) -> None:
    with pytest.raises(Forbidden), db.unit_of_work() as uow:
        summaries.wellness_summary(uow, team.actor(who), start=LAST, end=SUNDAY)
    audit = _last_audit(session, "wellness.summary")
    assert audit is not None
    assert audit.outcome == "forbidden"


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_summary_by_organization(session: Session, team: Team, who: str) -> None:
    _add_week(session, team.org, None, [5, 4, 4, 3, 1, 2], LAST, notes=["Tired", "Good week"])
    summary = summaries.wellness_summary(
        session, team.actor(who), start=LAST, end=SUNDAY, group_by="organization"
    )
    total = summary.total
    assert summary.groups == [total]
    assert (total.suppressed, total.responses, total.average) == (False, 6, Decimal("3.2"))
    assert total.distribution == {1: 1, 2: 1, 3: 1, 4: 2, 5: 1}
    assert summary.min_group_size == 5
    assert summary.notes == 2
    audit = _last_audit(session, "wellness.summary")
    assert audit is not None
    assert (audit.outcome, audit.target_id) == ("ok", None)


def test_the_summary_shows_only_how_many_notes_there_are(session: Session, team: Team) -> None:
    _add_week(session, team.org, None, [3] * 5, LAST, notes=["My boss shouts", "Fine"])
    _add_week(session, team.org, None, [3] * 4, LAST - timedelta(days=7), notes=["Only me"])
    _add_week(session, team.org, None, [3] * 5, WEEK, notes=["Too soon"])
    summary = _summary(session, team, start=LAST - timedelta(days=7), end=TODAY)
    assert summary.notes == 2
    text = summaries.describe_summary(summary)
    assert "Notes written: 2." in text
    for note in ("My boss shouts", "Fine", "Only me", "Too soon"):
        assert note not in text
        assert note not in repr(summary)


def test_departments_with_few_people_are_suppressed(session: Session, team: Team) -> None:
    sales = make_department(session, team.org, "Sales")
    ops = make_department(session, team.org, "Ops")
    store = make_department(session, team.org, "Store")
    make_department(session, team.org, "Empty")
    _add_week(session, team.org, sales, [5, 5, 4, 4, 3])
    _add_week(session, team.org, ops, [2, 2, 3, 3, 3, 4])
    _add_week(session, team.org, store, [1, 2, 3, 3, 4, 5, 5])
    _add_week(session, team.org, None, [2, 3, 4])

    summary = _summary(session, team)
    by_key = {g.key: g for g in summary.groups}
    # The unassigned cell (3 people) is hidden, so the next smallest cell (Sales, 5 people)
    # is hidden too, or the total minus the rest would give those three away. A group with
    # nothing shown is not listed at all, like the empty department.
    assert set(by_key) == {str(ops.id), str(store.id)}
    assert not any(g.suppressed for g in summary.groups)
    assert by_key[str(ops.id)].responses == 6
    assert by_key[str(ops.id)].average == Decimal("2.8")
    assert by_key[str(ops.id)].distribution == {1: 0, 2: 2, 3: 3, 4: 1, 5: 0}
    assert by_key[str(store.id)].responses == 7
    assert summary.total.responses == 21
    hidden = summary.total.responses - sum(g.responses or 0 for g in summary.groups)
    assert hidden >= summary.min_group_size


def test_hidden_cells_are_pooled_week_by_week(session: Session, team: Team) -> None:
    big = make_department(session, team.org, "Big")
    mid = make_department(session, team.org, "Mid")
    tiny = make_department(session, team.org, "Tiny")
    earlier = LAST - timedelta(days=7)
    # Earlier week: all three big enough. Last week: Tiny has one person, Mid pays for it.
    _add_week(session, team.org, big, [4] * 9, earlier)
    _add_week(session, team.org, mid, [3] * 6, earlier)
    _add_week(session, team.org, tiny, [2] * 5, earlier)
    _add_week(session, team.org, big, [4] * 9, LAST)
    _add_week(session, team.org, mid, [3] * 6, LAST)
    _add_week(session, team.org, tiny, [1], LAST)

    both = {g.key: g for g in _summary(session, team, start=earlier).groups}
    assert (both[str(big.id)].responses, both[str(mid.id)].responses) == (18, 6)
    assert (both[str(tiny.id)].responses, both[str(tiny.id)].average) == (5, Decimal("2.0"))
    last = _summary(session, team)
    shown = {g.key: g.responses for g in last.groups if not g.suppressed}
    assert shown == {str(big.id): 9}
    # What subtraction gives is last week's Mid and Tiny together: seven people.
    assert last.total.responses - sum(shown.values()) == 7


def test_two_small_cells_pooling_under_five_pull_in_the_next(session: Session, team: Team) -> None:
    a = make_department(session, team.org, "A")
    b = make_department(session, team.org, "B")
    c = make_department(session, team.org, "C")
    d = make_department(session, team.org, "D")
    _add_week(session, team.org, a, [1])
    _add_week(session, team.org, b, [2, 2])
    _add_week(session, team.org, c, [3] * 5)
    _add_week(session, team.org, d, [4] * 8)
    assert [g.key for g in _summary(session, team).groups] == [str(d.id)]


def test_the_cell_hidden_in_a_tie_does_not_change_with_a_rename(
    session: Session, team: Team
) -> None:
    first = make_department(session, team.org, "Zulu")
    second = make_department(session, team.org, "Alpha")
    _add_week(session, team.org, first, [4] * 5)
    _add_week(session, team.org, second, [2] * 5)
    _add_week(session, team.org, None, [3])
    # The lower id goes, whatever the names say.
    assert [g.key for g in _summary(session, team).groups] == [str(second.id)]
    first.name, second.name = "Aardvark", "Zebra"
    session.flush()
    assert [g.key for g in _summary(session, team).groups] == [str(second.id)]


def test_a_deleted_department_keeps_its_own_cells(session: Session, team: Team) -> None:
    gone = make_department(session, team.org, "Gone")
    stays = make_department(session, team.org, "Stays")
    _add_week(session, team.org, gone, [1] * 5)
    _add_week(session, team.org, stays, [4] * 5)
    _add_week(session, team.org, None, [3] * 6)
    before = _summary(session, team)
    session.execute(delete(Department).where(Department.id == gone.id))
    session.expire_all()
    after = _summary(session, team)
    assert after.total == before.total
    assert {g.key: g.name for g in after.groups}[str(gone.id)] == "Former department"

    def cells(summary: summaries.WellnessSummary) -> set[tuple[str, bool, int | None]]:
        return {(g.key, g.suppressed, g.responses) for g in summary.groups}

    # The deleted department's people did not move into the unassigned group.
    assert cells(after) == cells(before)


def test_old_rows_without_people_counted_stay_hidden_in_a_counted_week(
    session: Session, team: Team
) -> None:
    a = make_department(session, team.org, "A")
    b = make_department(session, team.org, "B")
    _add_week(session, team.org, a, [4] * 5)
    _add_week(session, team.org, b, [3] * 6)
    _add_week(session, team.org, None, [1], people=0)
    # The unknown group counts as no people, so the smallest shown cell is hidden with it.
    assert [g.key for g in _summary(session, team).groups] == [str(b.id)]


def test_no_suppression_beyond_small_cells_when_all_are_large(session: Session, team: Team) -> None:
    a = make_department(session, team.org, "A")
    b = make_department(session, team.org, "B")
    _add_week(session, team.org, a, [5] * 5)
    _add_week(session, team.org, b, [1] * 5)
    summary = _summary(session, team)
    assert [g.suppressed for g in summary.groups] == [False, False]
    assert summary.total.average == Decimal("3.0")


def test_issue_counts_per_category_over_the_same_weeks(session: Session, team: Team) -> None:
    with frozen(datetime(2026, 11, 4, 6, tzinfo=UTC)):
        for _ in range(5):
            wellness.report_issue(session, team.actor("employee"), category="workload", text="Busy")
        for _ in range(4):
            wellness.report_issue(session, team.actor("employee"), category="pay", text="Late pay")
    for _ in range(5):
        wellness.report_issue(session, team.actor("employee"), category="safety", text="Wire")
    summary = _summary(session, team, end=TODAY)
    issues = {i.category: i for i in summary.issues}
    assert set(issues) == set(wellness.ISSUE_CATEGORIES)
    assert issues["workload"] == summaries.IssueCount(
        category="workload", suppressed=False, count=5
    )
    assert issues["pay"] == summaries.IssueCount(category="pay", suppressed=True)
    # This week's reports wait for the week to end, like the moods.
    assert issues["safety"].suppressed
    text = summaries.describe_summary(summary)
    assert "workload 5" in text
    assert "pay" not in text


def test_summary_is_isolated_between_organizations(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    _add_week(session, team.org, None, [5] * 6)
    _add_week(session, other.org, None, [1] * 5)
    mine = _summary(session, team, group_by="organization")
    theirs = summaries.wellness_summary(
        session, other.actor("admin"), start=LAST, end=SUNDAY, group_by="organization"
    )
    assert (mine.total.responses, mine.total.average) == (6, Decimal("5.0"))
    assert (theirs.total.responses, theirs.total.average) == (5, Decimal("1.0"))


def test_defaults_are_the_last_four_weeks_that_have_ended(session: Session, team: Team) -> None:
    summary = summaries.wellness_summary(session, team.actor("hr"))
    assert (summary.start, summary.end) == (SUNDAY - timedelta(days=27), SUNDAY)
    assert (summary.covered_start, summary.covered_end) == (LAST - timedelta(days=21), SUNDAY)
    only_start = summaries.wellness_summary(session, team.actor("hr"), start=TODAY)
    assert (only_start.end, only_start.covered_start) == (TODAY, None)


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2026, 11, 2), date(2026, 11, 1), "invalid_range"),
        (date(2025, 1, 1), date(2026, 1, 2), "range_too_long"),
        (date.min, SUNDAY, "date_out_of_range"),
        (LAST, date.max, "date_out_of_range"),
        (date(1969, 12, 31), date(1970, 1, 2), "date_out_of_range"),
        (date(2101, 1, 1), date(2101, 1, 2), "date_out_of_range"),
        (None, date.min, "date_out_of_range"),
        (date.max, None, "date_out_of_range"),
    ],
)
def test_bad_ranges_are_refused(
    session: Session, team: Team, start: date | None, end: date | None, code: str
) -> None:
    for service in (summaries.wellness_summary, summaries.review_wellness_notes):
        with pytest.raises(Invalid) as err:
            service(session, team.actor("hr"), start=start, end=end)
        assert err.value.code == code


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date.min, date.min),
        (date.min, date(1, 1, 6)),
        (date.max, date.max),
        (date(9999, 12, 27), date.max),
        (date.min, date.max),
    ],
)
def test_week_snapping_cannot_overflow(start: date, end: date) -> None:
    covered = summaries.whole_closed_weeks(start, end)
    if covered is not None:
        first, last = covered
        assert start <= first <= last <= end
        assert (first.weekday(), last.weekday()) == (0, 6)


def test_a_range_of_366_days_is_accepted(session: Session, team: Team) -> None:
    summary = _summary(session, team, start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert (summary.covered_start, summary.covered_end) == (date(2024, 1, 1), date(2024, 12, 29))
    assert summary.total.suppressed
    assert summary.groups == []


def test_unknown_grouping_is_refused(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        _summary(session, team, group_by="person")
    assert err.value.code == "invalid_group_by"


def test_submitted_moods_feed_the_summary(session: Session, team: Team) -> None:
    dept = make_department(session, team.org)
    people = _members(session, team, dept, 5)
    _submit(session, people, [1, 2, 3, 4, 5], datetime(2026, 11, 5, 6, tzinfo=UTC))
    # The same five again two days later: ten answers, still five people.
    _submit(session, people, [1, 2, 3, 4, 5], datetime(2026, 11, 7, 6, tzinfo=UTC))
    (group,) = _summary(session, team).groups
    assert (group.key, group.name, group.responses, group.average) == (
        str(dept.id),
        dept.name,
        10,
        Decimal("3.0"),
    )


def test_describe_summary_names_the_weeks(session: Session, team: Team) -> None:
    _add_week(session, team.org, None, [4] * 5)
    text = summaries.describe_summary(_summary(session, team, start=LAST - timedelta(days=3)))
    assert text.splitlines()[:2] == [
        "Wellness for the weeks 2026-11-02 to 2026-11-08 (Monday to Sunday).",
        f"{team.org.name}: 5 responses, average 4.0/5",
    ]


# --- review_wellness_notes -----------------------------------------------------------------


def test_notes_review_returns_only_texts_of_weeks_with_5_people(
    session: Session, team: Team
) -> None:
    dept = make_department(session, team.org, "Kitchen")
    _add_week(session, team.org, dept, [1, 2, 3, 4, 5], notes=["Stove broke", "Short staffed"])
    _add_week(session, team.org, None, [1] * 4, LAST - timedelta(days=7), notes=["Just me"])
    _add_week(session, team.org, None, [2] * 6, WEEK, notes=["Not yet"])
    review = summaries.review_wellness_notes(
        session, team.actor("hr"), start=LAST - timedelta(days=7), end=TODAY
    )
    assert sorted(review.notes) == ["Short staffed", "Stove broke"]
    assert review.total == 2
    assert (review.covered_start, review.covered_end) == (LAST - timedelta(days=7), SUNDAY)
    # No date, score or department travels with a note: the texts are plain strings.
    assert set(summaries.NotesReview.__dataclass_fields__) == {
        "start",
        "end",
        "covered_start",
        "covered_end",
        "total",
        "notes",
    }
    assert all(isinstance(note, str) for note in review.notes)
    text = summaries.describe_notes_review(review)
    assert "Kitchen" not in text
    assert "Notes 1–2 of 2 from the weeks 2026-10-26 to 2026-11-08" in text


def test_notes_come_in_an_order_that_says_nothing_and_page_cleanly(
    session: Session, team: Team
) -> None:
    texts = [f"note {n:02d}" for n in range(12)]
    _add_week(session, team.org, None, [3] * 12, notes=texts)
    first = summaries.review_wellness_notes(session, team.actor("hr"), limit=5)
    second = summaries.review_wellness_notes(session, team.actor("hr"), limit=5, offset=5)
    third = summaries.review_wellness_notes(session, team.actor("hr"), limit=5, offset=10)
    pages = first.notes + second.notes + third.notes
    assert sorted(pages) == texts
    assert first.total == 12
    # Ordered by the random row id, the same pages every time.
    ids = session.scalars(select(MoodEntry.note).order_by(MoodEntry.id)).all()
    assert pages == ids
    again = summaries.review_wellness_notes(session, team.actor("hr"), limit=5)
    assert again.notes == first.notes


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_every_notes_review_is_audited(session: Session, team: Team, who: str) -> None:
    _add_week(session, team.org, None, [3] * 5, notes=["Fine"])
    summaries.review_wellness_notes(session, team.actor(who))
    audit = _last_audit(session, "wellness.review_notes")
    assert audit is not None
    assert (audit.actor_user_id, audit.outcome, audit.target_type) == (
        team.actor(who).user_id,
        "ok",
        "wellness_notes",
    )


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_notes_review_is_for_hr_and_admin_only(session: Session, team: Team, who: str) -> None:
    _add_week(session, team.org, None, [3] * 5, notes=["Fine"])
    with pytest.raises(Forbidden), db.unit_of_work() as uow:
        summaries.review_wellness_notes(uow, team.actor(who))
    audit = _last_audit(session, "wellness.review_notes")
    assert audit is not None
    assert (audit.actor_user_id, audit.outcome) == (team.actor(who).user_id, "forbidden")


def test_notes_review_never_crosses_organizations(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    _add_week(session, other.org, None, [3] * 5, notes=["Theirs"])
    assert summaries.review_wellness_notes(session, team.actor("hr")).notes == []


@pytest.mark.parametrize(
    ("limit", "offset", "code"), [(0, 0, "invalid_limit"), (5, -1, "invalid_offset")]
)
def test_notes_review_refuses_a_bad_page(
    session: Session, team: Team, limit: int, offset: int, code: str
) -> None:
    with pytest.raises(Invalid) as err:
        summaries.review_wellness_notes(session, team.actor("hr"), limit=limit, offset=offset)
    assert err.value.code == code
