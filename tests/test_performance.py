from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Role
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications.models import Notification
from hrcore.performance import service as performance
from hrcore.performance.models import Review
from tests.factories import Team, as_actor, make_user, refused

# Mid-November 2026, late morning in Nairobi.
NOW = datetime(2026, 11, 15, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


def _review(session: Session, team: Team, who: str = "supervisor", **overrides: Any) -> Review:
    values: dict[str, Any] = {
        "employee_id": team.employee.id,
        "period": "2026-Q3",
        "overall_score": 4,
    }
    values.update(overrides)
    return performance.submit_review(session, team.actor(who), **values)


def _counts(session: Session) -> tuple[int, int]:
    reviews = session.scalar(select(func.count()).select_from(Review))
    notes = session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "review.ready")
    )
    return reviews or 0, notes or 0


def _last_audit(session: Session, action: str) -> AuditEntry:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def test_supervisor_reviews_direct_report_and_employee_is_notified(
    session: Session, team: Team
) -> None:
    review = _review(
        session,
        team,
        period="2026-q3",
        overall_score="4.5",
        kpi_scores={" Sales ": 4, "Punctuality": 4.5},
        feedback="  Strong quarter.  ",
        goals=[" Open the Kisumu route ", "Mentor a new hire"],
    )
    session.expire_all()
    stored = session.get(Review, review.id)
    assert stored.organization_id == team.org.id
    assert stored.employee_id == team.employee.id
    assert stored.reviewer_id == team.supervisor.id
    assert stored.period == "2026-Q3"
    assert stored.overall_score == Decimal("4.5")
    assert stored.kpi_scores == {"Sales": 4, "Punctuality": 4.5}
    assert stored.feedback == "Strong quarter."
    assert stored.goals == ["Open the Kisumu route", "Mentor a new hire"]

    notes = session.scalars(
        select(Notification).where(Notification.recipient_id == team.employee.id)
    ).all()
    assert [n.kind for n in notes] == ["review.ready"]
    assert "2026-Q3" in notes[0].text
    audit = _last_audit(session, "review.submit")
    assert (audit.outcome, audit.target_type, audit.target_id) == (
        "ok",
        "user",
        str(team.employee.id),
    )


def test_hr_reviews_anyone_in_the_organization(session: Session, team: Team) -> None:
    review = _review(session, team, "hr", employee_id=team.outsider.id)
    assert review.reviewer_id == team.hr.id
    assert _review(session, team, "hr", employee_id=team.supervisor.id).employee_id == (
        team.supervisor.id
    )


def test_admin_reviews_only_as_direct_supervisor(session: Session, team: Team) -> None:
    with refused(Forbidden) as err:
        _review(session, team, "admin")
    assert err.value.code == "forbidden"
    assert _counts(session) == (0, 0)
    report = make_user(session, team.org, reports_to=team.admin)
    review = _review(session, team, "admin", employee_id=report.id)
    assert review.reviewer_id == team.admin.id


def test_supervisor_outside_team_is_forbidden(session: Session, team: Team) -> None:
    with refused(Forbidden) as err:
        _review(session, team, employee_id=team.outsider.id)
    assert err.value.code == "not_your_team"
    assert _counts(session) == (0, 0)
    assert _last_audit(session, "review.submit").outcome == "not_your_team"


def test_employee_may_not_review_anyone(session: Session, team: Team) -> None:
    with refused(Forbidden) as err:
        _review(session, team, "employee", employee_id=team.teammate.id)
    assert err.value.code == "forbidden"
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize("who", ["supervisor", "hr"])
def test_nobody_reviews_themselves(session: Session, team: Team, who: str) -> None:
    with refused(Forbidden) as err:
        _review(session, team, who, employee_id=getattr(team, who).id)
    assert err.value.code == "own_review"
    assert _counts(session) == (0, 0)


def test_employee_of_another_organization_is_not_found(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    with refused(NotFound) as err:
        _review(session, other, "hr", employee_id=team.employee.id)
    assert err.value.code == "employee_not_found"
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2026", "2026"),
        ("2025", "2025"),
        ("2026-H1", "2026-H1"),
        ("2026-h2", "2026-H2"),
        ("2026q3", "2026-Q3"),
        (" 2026-Q4 ", "2026-Q4"),
        ("2026-11", "2026-11"),
        ("2026-1", "2026-01"),
    ],
)
def test_period_is_normalised(session: Session, team: Team, raw: str, canonical: str) -> None:
    assert _review(session, team, period=raw).period == canonical


@pytest.mark.parametrize(
    "raw",
    ["", "26", "2026-H3", "2026-Q0", "2026-Q5", "2026-13", "2026-00", "Q1 2026", "2026-11-01", "x"],
)
def test_bad_period_is_refused_and_nothing_written(session: Session, team: Team, raw: str) -> None:
    with refused(Invalid) as err:
        _review(session, team, period=raw)
    assert err.value.code == "invalid_period"
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize("raw", ["2026-12", "2027", "2027-H1", "2027-Q1"])
def test_future_period_is_refused(session: Session, team: Team, raw: str) -> None:
    with refused(Invalid) as err:
        _review(session, team, period=raw)
    assert err.value.code == "period_in_future"
    assert _counts(session) == (0, 0)


def test_future_is_judged_in_the_organization_timezone(session: Session, team: Team) -> None:
    # 20:30 UTC on 30 November is 23:30 in Nairobi: December has not started there.
    with frozen(datetime(2026, 11, 30, 20, 30, tzinfo=UTC)), refused(Invalid) as err:
        _review(session, team, period="2026-12")
    assert err.value.code == "period_in_future"
    # 21:30 UTC is 00:30 on 1 December in Nairobi.
    with frozen(datetime(2026, 11, 30, 21, 30, tzinfo=UTC)):
        assert _review(session, team, period="2026-12").period == "2026-12"


@pytest.mark.parametrize("score", [1, 5, "3.5", 3.3, Decimal("2.0")])
def test_valid_overall_scores(session: Session, team: Team, score: object) -> None:
    review = _review(session, team, overall_score=score)
    assert review.overall_score == Decimal(str(score))


@pytest.mark.parametrize(
    "score", [0, 0.9, 5.1, 6, 3.25, -1, "abc", "", True, float("nan"), float("inf"), None]
)
def test_bad_overall_score_is_refused(session: Session, team: Team, score: object) -> None:
    with refused(Invalid) as err:
        _review(session, team, overall_score=score)
    assert err.value.code == "invalid_score"
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize(
    "kpis",
    [
        {"": 3},
        {"   ": 3},
        {"Sales": 0},
        {"Sales": 5.5},
        {"Sales": "high"},
        {"Sales": 3.25},
        {"Sales": 3, "sales ": 4},
        {"x" * 101: 3},
        {f"KPI {i}": 3 for i in range(21)},
        ["Sales", 3],
    ],
)
def test_bad_kpis_are_refused(session: Session, team: Team, kpis: object) -> None:
    with refused(Invalid) as err:
        _review(session, team, kpi_scores=kpis)
    assert err.value.code == "invalid_kpi"
    assert _counts(session) == (0, 0)


def test_twenty_kpis_and_twenty_goals_are_accepted(session: Session, team: Team) -> None:
    review = _review(
        session,
        team,
        kpi_scores={f"KPI {i}": 1 + i % 5 for i in range(20)},
        goals=[f"Goal {i}" for i in range(20)],
    )
    assert len(review.kpi_scores) == 20
    assert len(review.goals) == 20


@pytest.mark.parametrize(
    "goals", [[f"Goal {i}" for i in range(21)], ["Fine", "  "], ["x" * 201], [3], "Sell more"]
)
def test_bad_goals_are_refused(session: Session, team: Team, goals: object) -> None:
    with refused(Invalid) as err:
        _review(session, team, goals=goals)
    assert err.value.code == "invalid_goals"
    assert _counts(session) == (0, 0)


def test_overlong_feedback_is_refused(session: Session, team: Team) -> None:
    with refused(Invalid) as err:
        _review(session, team, feedback="x" * 5001)
    assert err.value.code == "invalid_feedback"
    assert _counts(session) == (0, 0)


def test_second_review_same_reviewer_and_period_conflicts(session: Session, team: Team) -> None:
    first = _review(session, team, period="2026-Q3")
    with refused(Conflict) as err:
        _review(session, team, period="2026q3", overall_score=2)
    assert err.value.code == "review_exists"
    assert _counts(session) == (1, 1)
    assert _last_audit(session, "review.submit").outcome == "review_exists"
    session.expire_all()
    assert session.get(Review, first.id).overall_score == Decimal(4)
    # Another period, or another reviewer for the same period, is a separate review.
    _review(session, team, period="2026-Q2")
    _review(session, team, "hr", period="2026-Q3")
    assert _counts(session) == (3, 3)


@pytest.fixture
def reviewed(session: Session, team: Team) -> dict[str, Review]:
    return {
        "employee": _review(session, team, period="2026-Q1"),
        "teammate": _review(session, team, employee_id=team.teammate.id, period="2026-Q1"),
        "supervisor": _review(session, team, "hr", employee_id=team.supervisor.id),
        "outsider": _review(session, team, "hr", employee_id=team.outsider.id),
    }


def test_list_reviews_scope_by_role(
    session: Session, team: Team, reviewed: dict[str, Review]
) -> None:
    def ids(who: str, **kwargs: Any) -> set[int]:
        return {r.id for r in performance.list_reviews(session, team.actor(who), **kwargs)}

    assert ids("employee") == {reviewed["employee"].id}
    assert ids("supervisor") == {reviewed[k].id for k in ("employee", "teammate", "supervisor")}
    everyone = {r.id for r in reviewed.values()}
    assert ids("hr") == everyone
    assert ids("admin") == everyone
    assert ids("hr", employee_id=team.teammate.id) == {reviewed["teammate"].id}
    assert ids("supervisor", period="2026-q1") == {reviewed["employee"].id, reviewed["teammate"].id}
    assert ids("hr", limit=1) | ids("hr", limit=50, offset=1) == everyone
    assert len(ids("hr", limit=1)) == 1


def test_list_reviews_of_someone_out_of_reach_is_forbidden(
    session: Session, team: Team, reviewed: dict[str, Review]
) -> None:
    with refused(Forbidden) as err:
        performance.list_reviews(session, team.actor("employee"), employee_id=team.teammate.id)
    assert err.value.code == "outside_scope"
    with refused(Forbidden):
        performance.list_reviews(session, team.actor("supervisor"), employee_id=team.outsider.id)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"period": "2026-Q9"}, "invalid_period"),
        ({"limit": 0}, "invalid_limit"),
        ({"limit": 101}, "invalid_limit"),
        ({"offset": -1}, "invalid_offset"),
    ],
)
def test_list_reviews_bad_arguments(
    session: Session, team: Team, kwargs: dict[str, Any], code: str
) -> None:
    with refused(Invalid) as err:
        performance.list_reviews(session, team.actor("hr"), **kwargs)
    assert err.value.code == code


def test_reviews_are_isolated_between_organizations(
    session: Session, team: Team, reviewed: dict[str, Review]
) -> None:
    other = Team(session, country="TZ")
    assert performance.list_reviews(session, other.actor("hr")) == []
    with refused(NotFound):
        performance.list_reviews(session, other.actor("hr"), employee_id=team.employee.id)
    with refused(NotFound) as err:
        performance.get_review(session, other.actor("admin"), review_id=reviewed["employee"].id)
    assert err.value.code == "review_not_found"


def test_get_review_follows_the_same_scope(
    session: Session, team: Team, reviewed: dict[str, Review]
) -> None:
    mine = reviewed["employee"].id
    assert performance.get_review(session, team.actor("employee"), review_id=mine).id == mine
    assert performance.get_review(session, team.actor("supervisor"), review_id=mine).id == mine
    assert performance.get_review(session, team.actor("hr"), review_id=mine).id == mine
    with refused(Forbidden):
        performance.get_review(session, team.actor("teammate"), review_id=mine)
    with refused(Forbidden):
        performance.get_review(session, team.actor("supervisor"), review_id=reviewed["outsider"].id)
    with refused(NotFound):
        performance.get_review(session, team.actor("hr"), review_id=10**12)
    audit = _last_audit(session, "review.read")
    assert (audit.target_type, audit.target_id, audit.outcome) == (
        "review",
        str(10**12),
        "review_not_found",
    )


def test_describe_review(session: Session, team: Team) -> None:
    review = _review(
        session,
        team,
        overall_score="4.5",
        kpi_scores={"Sales": 4, "Punctuality": 3.5},
        goals=["Open the Kisumu route"],
        feedback="Strong quarter.",
    )
    assert performance.describe_review(review) == (
        "2026-Q3 review: overall 4.5/5. KPIs: Sales 4/5, Punctuality 3.5/5. "
        "Goal: Open the Kisumu route. Feedback: Strong quarter."
    )
    plain = _review(session, team, period="2026-Q2", overall_score=3)
    assert performance.describe_review(plain) == "2026-Q2 review: overall 3/5."


def test_another_supervisor_cannot_review_a_peers_report(session: Session, team: Team) -> None:
    other_supervisor = make_user(session, team.org, role=Role.SUPERVISOR)
    with refused(Forbidden) as err:
        performance.submit_review(
            session,
            as_actor(other_supervisor),
            employee_id=team.teammate.id,
            period="2026",
            overall_score=3,
        )
    assert err.value.code == "not_your_team"
