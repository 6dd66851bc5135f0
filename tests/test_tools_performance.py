from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications.models import Notification
from hrcore.performance.models import Review
from tests.factories import Team
from tools.registry import get_tool, run_tool

# Mid-November 2026, late morning in Nairobi: 2026-Q3 is over, 2027 has not started.
NOW = datetime(2026, 11, 15, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


def _reviews(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Review)) or 0


def _submit(session: Session, team: Team, who: str = "supervisor", **args: Any) -> Any:
    values: dict[str, Any] = {"employee_id": team.employee.id, "period": "2026-Q3"}
    values.update({"overall_score": 4, **args})
    return run_tool(session, team.actor(who), "submit_review", values)


def test_supervisor_submits_the_example_review_and_the_employee_is_told(
    session: Session, team: Team
) -> None:
    spec = get_tool("submit_review")
    assert spec.changes_state
    assert spec.confirm
    result = run_tool(
        session,
        team.actor("supervisor"),
        "submit_review",
        {**spec.example, "employee_id": team.employee.id},
    )

    session.expire_all()
    stored = session.get(Review, result.review_id)
    assert stored.organization_id == team.org.id
    assert stored.employee_id == team.employee.id
    assert stored.reviewer_id == team.supervisor.id
    assert stored.period == "2026-Q3"
    assert stored.overall_score == Decimal("4.5")
    assert stored.kpi_scores == {"Sales": 4, "Punctuality": 4.5}
    assert stored.goals == ["Open the Kisumu route", "Mentor a new hire"]

    assert result.employee_id == team.employee.id
    assert result.employee_name == team.employee.full_name
    assert result.reviewer_name == team.supervisor.full_name
    assert result.overall_score == Decimal("4.5")
    assert result.kpi_scores == {"Sales": Decimal(4), "Punctuality": Decimal("4.5")}
    assert result.summary == (
        f"{team.employee.full_name}: 2026-Q3 review: overall 4.5/5. "
        "KPIs: Sales 4/5, Punctuality 4.5/5. "
        "Goals: Open the Kisumu route; Mentor a new hire. "
        "Feedback: Strong quarter; opened two new routes."
    )
    told = session.scalar(
        select(func.count()).where(
            Notification.recipient_id == team.employee.id, Notification.kind == "review.ready"
        )
    )
    assert told == 1


def test_period_is_normalised_and_hr_may_review_anyone(session: Session, team: Team) -> None:
    result = _submit(session, team, "hr", employee_id=team.outsider.id, period="2026q3")
    assert result.period == "2026-Q3"
    assert session.get(Review, result.review_id).reviewer_id == team.hr.id


@pytest.mark.parametrize(
    ("who", "target", "error", "code"),
    [
        ("employee", "teammate", Forbidden, "forbidden"),
        ("admin", "employee", Forbidden, "forbidden"),
        ("supervisor", "outsider", Forbidden, "not_your_team"),
        ("hr", "hr", Forbidden, "own_review"),
    ],
)
def test_who_may_not_review_whom(
    session: Session, team: Team, who: str, target: str, error: type, code: str
) -> None:
    with pytest.raises(error) as err:
        _submit(session, team, who, employee_id=getattr(team, target).id)
    assert err.value.code == code
    assert _reviews(session) == 0


def test_another_employers_employee_is_not_found(session: Session, team: Team) -> None:
    other = Team(session, country="TZ")
    with pytest.raises(NotFound) as err:
        run_tool(
            session,
            other.actor("hr"),
            "submit_review",
            {"employee_id": team.employee.id, "period": "2026-Q3", "overall_score": 4},
        )
    assert err.value.code == "employee_not_found"
    assert _reviews(session) == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"overall_score": 6}, "overall_score"),
        ({"overall_score": 4.55}, "overall_score"),
        ({"overall_score": "great"}, "overall_score"),
        ({"period": "Q3 of 2026"}, "period"),
        ({"employee_id": 0}, "employee_id"),
        ({"kpi_scores": {"Sales": 0}}, "kpi_scores.Sales"),
        ({"goals": ["Grow", ""]}, "goals.1"),
        ({"goals": [f"Goal {n}" for n in range(21)]}, "goals"),
        ({"feedback": "x" * 5001}, "feedback"),
        ({"reviewer_id": 1}, "reviewer_id"),
    ],
)
def test_schema_violations_name_the_field_and_write_nothing(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        _submit(session, team, **args)
    assert err.value.code == "invalid_arguments"
    assert [e["field"] for e in err.value.details["errors"]] == [field]
    assert _reviews(session) == 0


def test_missing_employee_is_named(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "submit_review", {"period": "2026", "overall_score": 3})
    assert err.value.code == "invalid_arguments"
    assert [e["field"] for e in err.value.details["errors"]] == ["employee_id"]


def test_service_rules_still_apply_through_the_tool(session: Session, team: Team) -> None:
    with pytest.raises(Invalid) as err:
        _submit(session, team, period="2027-H1")
    assert err.value.code == "period_in_future"
    assert _reviews(session) == 0

    _submit(session, team)
    with pytest.raises(Conflict) as err:
        _submit(session, team, overall_score=5)
    assert err.value.code == "review_exists"
    assert _reviews(session) == 1


def test_list_reviews_is_scoped_per_role(session: Session, team: Team) -> None:
    _submit(session, team, employee_id=team.employee.id)
    _submit(session, team, employee_id=team.teammate.id, overall_score=3)
    _submit(session, team, "hr", employee_id=team.outsider.id, overall_score=5)

    def seen(who: str, **args: Any) -> set[int]:
        result = run_tool(session, team.actor(who), "list_reviews", args)
        return {item.employee_id for item in result.reviews}

    assert seen("employee") == {team.employee.id}
    assert seen("supervisor") == {team.employee.id, team.teammate.id}
    assert seen("hr") == {team.employee.id, team.teammate.id, team.outsider.id}
    assert seen("admin") == {team.employee.id, team.teammate.id, team.outsider.id}
    assert seen("supervisor", employee_id=team.teammate.id) == {team.teammate.id}


def test_list_reviews_items_and_summary(session: Session, team: Team) -> None:
    _submit(session, team, overall_score="3.5", feedback="Keep going.", kpi_scores={"Sales": 3})
    result = run_tool(session, team.actor("employee"), "list_reviews", {})
    [item] = result.reviews
    assert item.employee_name == team.employee.full_name
    assert item.reviewer_name == team.supervisor.full_name
    assert item.overall_score == Decimal("3.5")
    assert item.kpi_scores == {"Sales": Decimal(3)}
    assert item.feedback == "Keep going."
    assert item.goals == []
    assert item.created_at is not None
    assert item.summary == (
        f"{team.employee.full_name}: 2026-Q3 review: overall 3.5/5. KPIs: Sales 3/5. "
        "Feedback: Keep going."
    )
    assert result.summary == f"1 review:\n{item.summary}"


def test_list_reviews_filters_by_period_and_pages(session: Session, team: Team) -> None:
    for period in ("2026-Q1", "2026-Q2", "2026-Q3"):
        _submit(session, team, period=period)
    hr = team.actor("hr")
    only = run_tool(session, hr, "list_reviews", {"period": "2026q2"})
    assert [r.period for r in only.reviews] == ["2026-Q2"]
    first = run_tool(session, hr, "list_reviews", {"limit": 2})
    rest = run_tool(session, hr, "list_reviews", {"limit": 2, "offset": 2})
    assert len(first.reviews) == 2
    assert len(rest.reviews) == 1
    assert {r.review_id for r in first.reviews}.isdisjoint(r.review_id for r in rest.reviews)
    empty = run_tool(session, hr, "list_reviews", {"period": "2025"})
    assert empty.reviews == []
    assert empty.summary == "No reviews found."


def test_list_reviews_of_someone_out_of_reach(session: Session, team: Team) -> None:
    _submit(session, team)
    with pytest.raises(Forbidden) as err:
        run_tool(session, team.actor("teammate"), "list_reviews", {"employee_id": team.employee.id})
    assert err.value.code == "outside_scope"
    other = Team(session, country="TZ")
    with pytest.raises(NotFound):
        run_tool(session, other.actor("admin"), "list_reviews", {"employee_id": team.employee.id})
    assert run_tool(session, other.actor("admin"), "list_reviews", {}).reviews == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"period": "last quarter"}, "period"),
        ({"employee_id": "john"}, "employee_id"),
    ],
)
def test_list_reviews_schema_violations(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "list_reviews", args)
    assert err.value.code == "invalid_arguments"
    assert [e["field"] for e in err.value.details["errors"]] == [field]
