import hashlib
import hmac
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, func, inspect, select
from sqlalchemy.orm import Session

from hrcore.actor import Role
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.notifications.models import Notification
from hrcore.people.models import Department, Organization
from hrcore.wellness import service as wellness
from hrcore.wellness.models import IssueReport, MoodDayKey, MoodEntry
from tests.factories import Team, as_actor, make_department, make_user

# 09:00 in Nairobi on Wednesday 11 November 2026.
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 11)
ROLES = ["employee", "supervisor", "hr", "admin"]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


@pytest.fixture
def team(session: Session) -> Team:
    return Team(session)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _last_audit(session: Session, action: str) -> AuditEntry:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def _columns(session: Session, table: str) -> dict[str, str]:
    return {c["name"]: str(c["type"]) for c in inspect(session.connection()).get_columns(table)}


def _foreign_tables(session: Session, table: str) -> set[str]:
    return {fk["referred_table"] for fk in inspect(session.connection()).get_foreign_keys(table)}


def _add_moods(
    session: Session, org: Organization, dept: Department | None, scores: list[int], day: date
) -> None:
    for score in scores:
        session.add(
            MoodEntry(
                organization_id=org.id,
                department_id=dept.id if dept else None,
                day=day,
                score=score,
            )
        )
    session.flush()


# --- submit_mood ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_everyone_may_submit_a_mood(session: Session, team: Team, who: str) -> None:
    receipt = wellness.submit_mood(session, team.actor(who), score=4)
    assert receipt == wellness.MoodReceipt(day=TODAY, score=4)
    assert _count(session, MoodEntry) == 1


def test_mood_row_carries_nothing_that_links_to_the_person(session: Session, team: Team) -> None:
    dept = make_department(session, team.org)
    person = make_user(session, team.org, department_id=dept.id)
    receipt = wellness.submit_mood(session, as_actor(person), score=2, note="  Long week  ")
    assert not hasattr(receipt, "id")

    assert set(_columns(session, "mood_entries")) == {
        "id",
        "organization_id",
        "department_id",
        "day",
        "score",
        "note",
    }
    assert _columns(session, "mood_entries")["day"] == "DATE"
    assert _foreign_tables(session, "mood_entries") == {"organizations", "departments"}
    assert not [c for c in MoodEntry.__table__.columns if isinstance(c.type, DateTime)]

    entry = session.scalars(select(MoodEntry)).one()
    assert isinstance(entry.id, uuid.UUID)
    assert entry.id.version == 4
    assert (entry.organization_id, entry.department_id, entry.day, entry.score, entry.note) == (
        team.org.id,
        dept.id,
        TODAY,
        2,
        "Long week",
    )

    # The day key is the keyed hash, not the user id.
    assert set(_columns(session, "mood_day_keys")) == {"key", "organization_id", "day"}
    expected = hmac.new(
        get_settings().secret_key.encode(),
        f"mood:{team.org.id}:{person.id}:{TODAY.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()
    key = session.scalars(select(MoodDayKey)).one()
    assert (key.key, key.day, key.organization_id) == (expected, TODAY, team.org.id)


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
    assert sorted(session.scalars(select(MoodEntry.day))) == [TODAY, TODAY + timedelta(days=1)]


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


# --- wellness_summary ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_summary_is_for_hr_and_admin_only(session: Session, team: Team, who: str) -> None:
    with pytest.raises(Forbidden):
        wellness.wellness_summary(session, team.actor(who), start=TODAY, end=TODAY)
    assert _last_audit(session, "wellness.summary").outcome == "forbidden"


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_summary_by_organization(session: Session, team: Team, who: str) -> None:
    _add_moods(session, team.org, None, [5, 4, 4, 3, 1, 2], TODAY)
    summary = wellness.wellness_summary(
        session, team.actor(who), start=TODAY, end=TODAY, group_by="organization"
    )
    total = summary.total
    assert summary.groups == [total]
    assert (total.suppressed, total.responses, total.average) == (False, 6, Decimal("3.2"))
    assert total.distribution == {1: 1, 2: 1, 3: 1, 4: 2, 5: 1}
    assert summary.min_group_size == 5
    assert _last_audit(session, "wellness.summary").target_id is None


def test_small_organization_total_is_suppressed(session: Session, team: Team) -> None:
    _add_moods(session, team.org, None, [5, 4, 4, 3], TODAY)
    summary = wellness.wellness_summary(
        session, team.actor("hr"), start=TODAY, end=TODAY, group_by="organization"
    )
    assert summary.total == wellness.GroupSummary(
        key="organization", name=team.org.name, suppressed=True
    )


def test_only_entries_in_range_count(session: Session, team: Team) -> None:
    _add_moods(session, team.org, None, [5] * 5, TODAY)
    _add_moods(session, team.org, None, [1] * 5, TODAY - timedelta(days=1))
    _add_moods(session, team.org, None, [1] * 5, TODAY + timedelta(days=1))
    summary = wellness.wellness_summary(
        session, team.actor("hr"), start=TODAY, end=TODAY, group_by="organization"
    )
    assert (summary.total.responses, summary.total.average) == (5, Decimal("5.0"))


def test_departments_with_few_responses_are_suppressed(session: Session, team: Team) -> None:
    sales = make_department(session, team.org, "Sales")
    ops = make_department(session, team.org, "Ops")
    store = make_department(session, team.org, "Store")
    make_department(session, team.org, "Empty")
    _add_moods(session, team.org, sales, [5, 5, 4, 4, 3], TODAY)
    _add_moods(session, team.org, ops, [2, 2, 3, 3, 3, 4], TODAY)
    _add_moods(session, team.org, store, [1, 2, 3, 3, 4, 5, 5], TODAY)
    _add_moods(session, team.org, None, [2, 3, 4], TODAY)

    summary = wellness.wellness_summary(session, team.actor("hr"), start=TODAY, end=TODAY)
    by_key = {g.key: g for g in summary.groups}
    # The empty department has no responses and is not listed at all.
    assert set(by_key) == {str(sales.id), str(ops.id), str(store.id), "unassigned"}
    assert by_key["unassigned"] == wellness.GroupSummary(
        key="unassigned", name="No department", suppressed=True
    )
    # Exactly one group is suppressed and the total is shown, so the next smallest
    # group (Sales, 5 responses) is suppressed too.
    assert by_key[str(sales.id)].suppressed
    assert by_key[str(sales.id)].responses is None
    assert by_key[str(sales.id)].average is None
    assert by_key[str(sales.id)].distribution is None
    assert by_key[str(ops.id)].responses == 6
    assert by_key[str(ops.id)].average == Decimal("2.8")
    assert by_key[str(ops.id)].distribution == {1: 0, 2: 2, 3: 3, 4: 1, 5: 0}
    assert by_key[str(store.id)].responses == 7
    assert summary.total.responses == 21
    hidden = summary.total.responses - sum(g.responses or 0 for g in summary.groups)
    assert hidden >= summary.min_group_size


def test_suppression_survives_subtraction_with_one_small_group(
    session: Session, team: Team
) -> None:
    big = make_department(session, team.org, "Big")
    mid = make_department(session, team.org, "Mid")
    tiny = make_department(session, team.org, "Tiny")
    _add_moods(session, team.org, big, [4] * 9, TODAY)
    _add_moods(session, team.org, mid, [3] * 6, TODAY)
    _add_moods(session, team.org, tiny, [1], TODAY)
    summary = wellness.wellness_summary(session, team.actor("admin"), start=TODAY, end=TODAY)
    shown = {g.key: g.responses for g in summary.groups if not g.suppressed}
    assert shown == {str(big.id): 9}
    assert summary.total.responses == 16
    # Total minus what is shown is the pool of two groups of at least five responses.
    assert summary.total.responses - sum(shown.values()) == 7


def test_two_small_groups_pooling_under_five_pull_in_the_next(session: Session, team: Team) -> None:
    a = make_department(session, team.org, "A")
    b = make_department(session, team.org, "B")
    c = make_department(session, team.org, "C")
    d = make_department(session, team.org, "D")
    _add_moods(session, team.org, a, [1], TODAY)
    _add_moods(session, team.org, b, [2, 2], TODAY)
    _add_moods(session, team.org, c, [3] * 5, TODAY)
    _add_moods(session, team.org, d, [4] * 8, TODAY)
    summary = wellness.wellness_summary(session, team.actor("hr"), start=TODAY, end=TODAY)
    suppressed = {g.key for g in summary.groups if g.suppressed}
    assert suppressed == {str(a.id), str(b.id), str(c.id)}


def test_no_suppression_beyond_small_groups_when_all_are_large(
    session: Session, team: Team
) -> None:
    a = make_department(session, team.org, "A")
    b = make_department(session, team.org, "B")
    _add_moods(session, team.org, a, [5] * 5, TODAY)
    _add_moods(session, team.org, b, [1] * 5, TODAY)
    summary = wellness.wellness_summary(session, team.actor("hr"), start=TODAY, end=TODAY)
    assert [g.suppressed for g in summary.groups] == [False, False]
    assert summary.total.average == Decimal("3.0")


def test_issue_counts_per_category_with_small_counts_suppressed(
    session: Session, team: Team
) -> None:
    for _ in range(5):
        wellness.report_issue(session, team.actor("employee"), category="workload", text="Busy.")
    for _ in range(4):
        wellness.report_issue(session, team.actor("employee"), category="pay", text="Late pay.")
    summary = wellness.wellness_summary(session, team.actor("hr"), start=TODAY, end=TODAY)
    issues = {i.category: i for i in summary.issues}
    assert set(issues) == set(wellness.ISSUE_CATEGORIES)
    assert issues["workload"] == wellness.IssueCount(category="workload", suppressed=False, count=5)
    assert issues["pay"] == wellness.IssueCount(category="pay", suppressed=True)
    assert issues["safety"].suppressed
    text = wellness.describe_summary(summary)
    assert "workload 5" in text
    assert "pay" not in text


def test_summary_is_isolated_between_organizations(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    _add_moods(session, team.org, None, [5] * 6, TODAY)
    _add_moods(session, other.org, None, [1] * 5, TODAY)
    for _ in range(5):
        wellness.report_issue(session, team.actor("employee"), category="safety", text="Wire.")
    mine = wellness.wellness_summary(
        session, team.actor("hr"), start=TODAY, end=TODAY, group_by="organization"
    )
    theirs = wellness.wellness_summary(
        session, other.actor("admin"), start=TODAY, end=TODAY, group_by="organization"
    )
    assert (mine.total.responses, mine.total.average) == (6, Decimal("5.0"))
    assert (theirs.total.responses, theirs.total.average) == (5, Decimal("1.0"))
    assert all(i.suppressed for i in theirs.issues)


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2026, 11, 2), date(2026, 11, 1), "invalid_range"),
        (date(2025, 1, 1), date(2026, 1, 2), "range_too_long"),
    ],
)
def test_bad_ranges_are_refused(
    session: Session, team: Team, start: date, end: date, code: str
) -> None:
    with pytest.raises(Invalid) as err:
        wellness.wellness_summary(session, team.actor("hr"), start=start, end=end)
    assert err.value.code == code


def test_a_range_of_366_days_is_accepted(session: Session, team: Team) -> None:
    summary = wellness.wellness_summary(
        session, team.actor("hr"), start=date(2024, 1, 1), end=date(2024, 12, 31)
    )
    assert summary.total.suppressed
    assert summary.groups == []


def test_unknown_grouping_is_refused(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        wellness.wellness_summary(
            session, team.actor("hr"), start=TODAY, end=TODAY, group_by="person"
        )
    assert err.value.code == "invalid_group_by"


def test_submitted_moods_feed_the_summary(session: Session, team: Team) -> None:
    dept = make_department(session, team.org)
    people = [make_user(session, team.org, department_id=dept.id) for _ in range(5)]
    for person, score in zip(people, [1, 2, 3, 4, 5], strict=True):
        wellness.submit_mood(session, as_actor(person), score=score)
    summary = wellness.wellness_summary(session, team.actor("hr"), start=TODAY, end=TODAY)
    (group,) = summary.groups
    assert (group.key, group.name, group.responses, group.average) == (
        str(dept.id),
        dept.name,
        5,
        Decimal("3.0"),
    )
