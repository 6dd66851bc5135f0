from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

from hrcore import tenancy
from hrcore.actor import Actor, Role
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, HRError, Invalid, NotFound
from hrcore.leave import service as leave
from hrcore.leave import statutory, texts
from hrcore.leave.balances import roll_over_year
from hrcore.leave.models import Accrual, LeaveBalance, LeaveRequest, LeaveStatus, LeaveType
from hrcore.leave.tasks import roll_over_year_task
from hrcore.notifications.models import Notification
from hrcore.people.models import Organization, User
from hrcore.worker import celery_app
from tests.factories import Team, arranging, as_actor, make_user, refused, statements

# Monday 2 Nov 2026, midday in Nairobi and Dar es Salaam.
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with frozen(NOW):
        yield


pytestmark = pytest.mark.team(leave_types=True)


def snapshot(session: Session) -> tuple[Any, ...]:
    """Everything a failed leave call must leave untouched."""
    session.flush()
    return (
        session.execute(
            select(LeaveRequest.id, LeaveRequest.status, LeaveRequest.decided_by_id).order_by(
                LeaveRequest.id
            )
        ).all(),
        session.execute(
            select(
                LeaveBalance.id,
                LeaveBalance.entitled_days,
                LeaveBalance.carried_over_days,
                LeaveBalance.carry_over_expires_on,
            ).order_by(LeaveBalance.id)
        ).all(),
        session.scalar(select(func.count()).select_from(Notification)),
        session.scalar(select(func.count()).select_from(LeaveType)),
    )


def last_audit(session: Session, action: str) -> AuditEntry:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def notifications(session: Session, user: User, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query.order_by(Notification.id)))


def request(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    leave_type: str = "annual",
    **kwargs: Any,
) -> LeaveRequest:
    return leave.request_leave(
        session, actor, leave_type=leave_type, start_date=start, end_date=end, **kwargs
    )


def balance_of(session: Session, actor: Actor, code: str = "annual", **kwargs: Any) -> Any:
    (view,) = leave.leave_balance(session, actor, leave_type=code, **kwargs)
    return view


# ------------------------------------------------------------------ leave types


def test_default_leave_types_for_kenya(session: Session, team: Team) -> None:
    types = {lt.code: lt for lt in leave.list_leave_types(session, team.actor("employee"))}
    assert set(types) == {"annual", "sick", "maternity", "paternity", "compassionate", "unpaid"}
    annual = types["annual"]
    assert annual.days_per_year == team.org.default_annual_leave_days
    assert annual.accrual is Accrual.MONTHLY
    assert (annual.carry_over_cap, annual.carry_over_expiry_months) == (5, 3)
    assert {code: lt.days_per_year for code, lt in types.items()} | {"annual": None} == {
        "annual": None,
        "sick": 14,
        "maternity": 90,
        "paternity": 14,
        "compassionate": 5,
        "unpaid": 0,
    }
    assert all(lt.accrual is Accrual.UPFRONT for code, lt in types.items() if code != "annual")
    assert types["unpaid"].paid is False
    assert leave.is_unlimited(types["unpaid"])
    assert not leave.is_unlimited(types["sick"])


def test_default_leave_types_for_tanzania_use_its_statutory_numbers(session: Session) -> None:
    team = Team(session, country="TZ", leave_types=True)
    types = {lt.code: lt.days_per_year for lt in leave.list_leave_types(session, team.actor("hr"))}
    assert types["maternity"] == 84
    assert types["paternity"] == 3
    assert types["compassionate"] == 4
    assert types["sick"] == 14
    assert types["annual"] == team.org.default_annual_leave_days


def test_ensure_default_leave_types_keeps_the_employers_edits(session: Session, team: Team) -> None:
    annual = next(
        lt for lt in leave.list_leave_types(session, team.actor("hr")) if lt.code == "annual"
    )
    annual.days_per_year = Decimal(21)
    again = leave.ensure_default_leave_types(session, team.org)
    assert again[0] is annual
    assert annual.days_per_year == 21
    count = session.scalar(select(func.count()).where(LeaveType.organization_id == team.org.id))
    assert count == 6


def test_hr_creates_a_leave_type_and_a_duplicate_code_conflicts(
    session: Session, team: Team
) -> None:
    study = leave.create_leave_type(
        session,
        team.actor("hr"),
        code="Study",
        name="Study leave",
        days_per_year=10,
        accrual="upfront",
        paid=True,
        requires_document=True,
        carry_over_cap=0,
        carry_over_expiry_months=0,
    )
    assert study.code == "study"
    assert study in leave.list_leave_types(session, team.actor("employee"))
    before = snapshot(session)
    with refused(Conflict) as err:
        leave.create_leave_type(
            session, team.actor("admin"), code="study", name="Again", days_per_year=5
        )
    assert err.value.code == "leave_type_exists"
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "a b"}, "invalid_code"),
        ({"name": "  "}, "name_required"),
        ({"days_per_year": -1}, "invalid_days"),
        ({"days_per_year": Decimal("2.3")}, "invalid_days"),
        ({"carry_over_expiry_months": 30}, "invalid_carry_over"),
        ({"accrual": "weekly"}, "invalid_accrual"),
    ],
)
def test_bad_leave_type_input_is_refused(
    session: Session, team: Team, overrides: dict[str, Any], code: str
) -> None:
    values: dict[str, Any] = {"code": "study", "name": "Study leave", "days_per_year": 10}
    before = snapshot(session)
    with refused(Invalid) as err:
        leave.create_leave_type(session, team.actor("hr"), **(values | overrides))
    assert err.value.code == code
    assert snapshot(session) == before


def test_only_hr_and_admin_manage_leave_types(session: Session, team: Team) -> None:
    for who in ("employee", "supervisor"):
        with refused(Forbidden):
            leave.create_leave_type(
                session, team.actor(who), code="study", name="Study", days_per_year=5
            )


# -------------------------------------------------------------------- requests


def test_employee_requests_leave_and_the_supervisor_is_told(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    assert req.employee_id == team.employee.id
    assert req.status is LeaveStatus.PENDING
    assert req.days == 5
    assert (
        texts.describe_request(req)
        == "Annual leave 7–11 Dec 2026, 5 working days (pending approval)"
    )
    (note,) = notifications(session, team.supervisor, "leave.requested")
    assert team.employee.full_name in note.text
    assert "7–11 Dec 2026" in note.text
    assert f"#{req.id}" in note.text
    assert notifications(session, team.hr) == []
    assert last_audit(session, "leave.request").target_id == str(req.id)


def test_without_a_supervisor_every_active_hr_user_is_told(session: Session, team: Team) -> None:
    second_hr = make_user(session, team.org, role=Role.HR)
    former_hr = make_user(session, team.org, role=Role.HR, is_active=False)
    loner = make_user(session, team.org)
    request(session, as_actor(loner), date(2026, 11, 16), date(2026, 11, 16))
    assert len(notifications(session, team.hr, "leave.requested")) == 1
    assert len(notifications(session, second_hr, "leave.requested")) == 1
    assert notifications(session, former_hr) == []
    assert notifications(session, team.admin) == []


def test_holidays_and_weekends_are_not_counted(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 21), date(2026, 12, 31))
    assert req.days == 8


def test_half_day_takes_half_a_day(session: Session, team: Team) -> None:
    req = request(
        session, team.actor("employee"), date(2026, 11, 20), date(2026, 11, 20), half_day=True
    )
    assert req.days == Decimal("0.5")
    assert balance_of(session, team.actor("employee"), as_of=date(2026, 11, 2)).pending == (
        Decimal("0.5")
    )
    assert "(half day), 0.5 working days" in texts.describe_request(req)


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"leave_type": "holiday"}, NotFound, "leave_type_not_found"),
        ({"leave_type": "retired"}, NotFound, "leave_type_not_found"),
        (
            {"start_date": date(2026, 12, 11), "end_date": date(2026, 12, 7)},
            Invalid,
            "invalid_dates",
        ),
        ({"half_day": True}, Invalid, "invalid_half_day"),
        ({"start_date": date(2026, 12, 28), "end_date": date(2027, 1, 4)}, Invalid, "spans_years"),
        (
            {"start_date": date(2026, 12, 12), "end_date": date(2026, 12, 13)},
            Invalid,
            "no_working_days",
        ),
        (
            {"start_date": date(2026, 12, 25), "end_date": date(2026, 12, 26)},
            Invalid,
            "no_working_days",
        ),
        (
            {"start_date": date(2026, 10, 30), "end_date": date(2026, 11, 3)},
            Invalid,
            "date_in_past",
        ),
        (
            {"leave_type": "sick", "start_date": date(2026, 9, 30), "end_date": date(2026, 10, 1)},
            Invalid,
            "date_in_past",
        ),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(
    session: Session, team: Team, kwargs: dict[str, Any], error: type[HRError], code: str
) -> None:
    retired = leave.create_leave_type(
        session, team.actor("hr"), code="retired", name="Old leave", days_per_year=5
    )
    retired.is_active = False
    values: dict[str, Any] = {
        "leave_type": "annual",
        "start_date": date(2026, 12, 7),
        "end_date": date(2026, 12, 11),
    }
    before = snapshot(session)
    with refused(error) as err:
        leave.request_leave(session, team.actor("employee"), **(values | kwargs))
    assert err.value.code == code
    assert snapshot(session) == before
    assert last_audit(session, "leave.request").outcome == code


def test_spanning_two_years_says_how_to_split(session: Session, team: Team) -> None:
    with refused(Invalid) as err:
        request(session, team.actor("employee"), date(2026, 12, 28), date(2027, 1, 4))
    assert "two calendar years" in err.value.message
    assert "31 Dec 2026" in err.value.message
    assert "1 Jan 2027" in err.value.message


def test_sick_leave_may_be_backdated_up_to_thirty_days(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 10, 12), date(2026, 10, 14), "sick")
    assert req.days == 3
    assert "supporting document" in texts.describe_request(req)


def test_today_is_the_organizations_today(session: Session, team: Team) -> None:
    # 22:30 UTC on Monday 2 Nov is already Tuesday 3 Nov in Nairobi.
    with frozen(datetime(2026, 11, 2, 22, 30, tzinfo=UTC)):
        with refused(Invalid) as err:
            request(session, team.actor("employee"), date(2026, 11, 2), date(2026, 11, 2))
        assert err.value.code == "date_in_past"
        assert request(session, team.actor("employee"), date(2026, 11, 3), date(2026, 11, 3))


def test_overlapping_requests_conflict_across_types(session: Session, team: Team) -> None:
    actor = team.actor("employee")
    first = request(session, actor, date(2026, 12, 7), date(2026, 12, 11))
    before = snapshot(session)
    for start, end, code in [
        (date(2026, 12, 10), date(2026, 12, 15), "annual"),
        (date(2026, 12, 9), date(2026, 12, 9), "sick"),
        (date(2026, 12, 1), date(2026, 12, 7), "unpaid"),
    ]:
        with refused(Conflict) as err:
            request(session, actor, start, end, code)
        assert err.value.code == "overlapping_request"
        assert err.value.details["request_id"] == first.id
        assert snapshot(session) == before
    # A colleague's leave on the same days is no clash.
    assert request(session, team.actor("teammate"), date(2026, 12, 7), date(2026, 12, 11))
    # Once the first is withdrawn, the dates are free again.
    leave.cancel_leave(session, actor, request_id=first.id)
    assert request(session, actor, date(2026, 12, 10), date(2026, 12, 15))


def test_insufficient_balance_counts_pending_requests(session: Session, team: Team) -> None:
    actor = team.actor("employee")
    request(session, actor, date(2026, 12, 7), date(2026, 12, 18))  # 10 of 15 days
    before = snapshot(session)
    with refused(Conflict) as err:
        request(session, actor, date(2026, 12, 21), date(2026, 12, 31))  # 8 more
    assert err.value.code == "insufficient_balance"
    assert err.value.details == {"available": 5.0, "requested": 8.0}
    assert "5 days available" in err.value.message
    assert snapshot(session) == before
    assert balance_of(session, actor, as_of=date(2026, 12, 1)).available == 5


def test_monthly_accrual_counts_what_is_earned_by_the_month_of_the_leave(
    session: Session, team: Team
) -> None:
    actor = team.actor("employee")
    with frozen(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        # By March a quarter of 15 days is earned: 3.75, counted as 3.5 whole half days.
        view = balance_of(session, actor)
        assert (view.entitled, view.accrued, view.available) == (15, Decimal("3.5"), Decimal("3.5"))
        with refused(Conflict) as err:
            request(session, actor, date(2026, 3, 9), date(2026, 3, 12))
        assert err.value.code == "insufficient_balance"
        assert err.value.details["available"] == 3.5
        # The same four days in June fit: 7.5 days will have been earned by then.
        june = request(session, actor, date(2026, 6, 15), date(2026, 6, 18))
        assert june.days == 4


def test_unpaid_leave_has_no_limit(session: Session, team: Team) -> None:
    actor = team.actor("employee")
    req = request(session, actor, date(2026, 11, 9), date(2026, 12, 31), "unpaid")
    assert req.days > 15
    view = balance_of(session, actor, "unpaid")
    assert (view.limited, view.available, view.pending) == (False, None, req.days)
    assert texts.describe_balance(view) == "Unpaid leave: no limit"


# -------------------------------------------------------------------- balances


def test_balances_per_type_with_taken_and_pending(session: Session, team: Team) -> None:
    employee = team.actor("employee")
    taken = request(session, employee, date(2026, 11, 9), date(2026, 11, 11))
    leave.approve_leave(session, team.actor("supervisor"), request_id=taken.id, decision="approve")
    request(session, employee, date(2026, 12, 7), date(2026, 12, 8))
    views = {v.leave_type: v for v in leave.leave_balance(session, employee)}
    assert set(views) == {"annual", "sick", "maternity", "paternity", "compassionate", "unpaid"}
    annual = views["annual"]
    assert annual.as_of == date(2026, 11, 2)
    assert (annual.entitled, annual.accrued, annual.taken, annual.pending) == (
        15,
        Decimal("13.5"),
        3,
        2,
    )
    assert annual.available == Decimal("8.5")
    assert texts.describe_balance(annual) == (
        "Annual leave: 8.5 days available after 2 days pending approval"
    )
    assert views["sick"].available == 14
    assert texts.describe_balance(views["sick"]) == "Sick leave: 14 days available"


def test_balance_visibility_follows_the_reporting_line(session: Session, team: Team) -> None:
    assert leave.leave_balance(session, team.actor("supervisor"), employee_id=team.teammate.id)
    assert leave.leave_balance(session, team.actor("hr"), employee_id=team.teammate.id)
    with refused(Forbidden):
        leave.leave_balance(session, team.actor("employee"), employee_id=team.teammate.id)
    with refused(Forbidden):
        leave.leave_balance(session, team.actor("supervisor"), employee_id=team.outsider.id)


def test_joiners_get_a_prorated_entitlement(session: Session, team: Team) -> None:
    july = make_user(session, team.org, hire_date=date(2026, 7, 20))
    february = make_user(session, team.org, hire_date=date(2026, 2, 10))
    next_year = make_user(session, team.org, hire_date=date(2027, 3, 1))
    types = {lt.code: lt for lt in leave.list_leave_types(session, team.actor("hr"))}
    assert leave.get_or_create_balance(session, july, types["annual"], 2026).entitled_days == (
        Decimal("7.5")
    )
    assert leave.get_or_create_balance(session, july, types["sick"], 2026).entitled_days == 7
    # 15 × 11/12 = 13.75, rounded to the nearest half day.
    assert leave.get_or_create_balance(session, february, types["annual"], 2026).entitled_days == 14
    assert leave.get_or_create_balance(session, next_year, types["annual"], 2026).entitled_days == 0
    assert leave.get_or_create_balance(session, july, types["annual"], 2027).entitled_days == 15
    # The same row comes back on the next use.
    again = leave.get_or_create_balance(session, july, types["annual"], 2026)
    assert again is leave.get_or_create_balance(session, july, types["annual"], 2026)
    hr = team.actor("hr")
    assert balance_of(session, hr, employee_id=july.id, as_of=date(2026, 6, 30)).accrued == 0
    assert balance_of(session, hr, employee_id=july.id, as_of=date(2026, 8, 15)).accrued == (
        Decimal("2.5")
    )
    assert balance_of(session, hr, employee_id=july.id, as_of=date(2026, 12, 31)).accrued == (
        Decimal("7.5")
    )


def test_balance_date_must_fall_in_the_year(session: Session, team: Team) -> None:
    with refused(Invalid) as err:
        leave.leave_balance(session, team.actor("employee"), year=2026, as_of=date(2027, 1, 5))
    assert err.value.code == "invalid_dates"


# ------------------------------------------------------------------- decisions


def test_supervisor_approves_a_direct_report_and_the_employee_is_told(
    session: Session, team: Team
) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    decided = leave.approve_leave(
        session, team.actor("supervisor"), request_id=req.id, decision="approve", comment="Enjoy"
    )
    assert decided.status is LeaveStatus.APPROVED
    assert decided.decided_by_id == team.supervisor.id
    assert decided.decided_at == NOW
    assert decided.decision_comment == "Enjoy"
    (note,) = notifications(session, team.employee, "leave.approved")
    assert "7–11 Dec 2026" in note.text
    assert "approved" in note.text
    assert team.supervisor.full_name in note.text
    view = balance_of(session, team.actor("employee"), as_of=date(2026, 12, 1))
    assert (view.taken, view.pending, view.available) == (5, 0, 10)


def test_hr_decides_for_anyone_and_a_rejection_needs_a_comment(
    session: Session, team: Team
) -> None:
    req = request(session, team.actor("outsider"), date(2026, 12, 7), date(2026, 12, 11))
    before = snapshot(session)
    with refused(Invalid) as err:
        leave.approve_leave(session, team.actor("admin"), request_id=req.id, decision="reject")
    assert err.value.code == "comment_required"
    assert snapshot(session) == before
    rejected = leave.approve_leave(
        session,
        team.actor("admin"),
        request_id=req.id,
        decision="reject",
        comment="Stock-taking week",
    )
    assert rejected.status is LeaveStatus.REJECTED
    (note,) = notifications(session, team.outsider, "leave.rejected")
    assert "Stock-taking week" in note.text
    # A rejected request no longer holds days.
    assert balance_of(session, team.actor("outsider"), as_of=date(2026, 12, 1)).available == 15


def test_supervisor_cannot_decide_outside_their_team(session: Session, team: Team) -> None:
    req = request(session, team.actor("outsider"), date(2026, 12, 7), date(2026, 12, 11))
    before = snapshot(session)
    with refused(Forbidden) as err:
        leave.approve_leave(
            session, team.actor("supervisor"), request_id=req.id, decision="approve"
        )
    assert err.value.code == "not_your_team"
    with refused(Forbidden) as err:
        leave.approve_leave(session, team.actor("teammate"), request_id=req.id, decision="approve")
    assert err.value.code == "forbidden"
    assert snapshot(session) == before
    assert last_audit(session, "leave.decide").outcome == "forbidden"


@pytest.mark.parametrize("who", ["supervisor", "hr", "admin"])
def test_nobody_decides_their_own_request(session: Session, team: Team, who: str) -> None:
    req = request(session, team.actor(who), date(2026, 12, 7), date(2026, 12, 11))
    before = snapshot(session)
    with refused(Forbidden) as err:
        leave.approve_leave(session, team.actor(who), request_id=req.id, decision="approve")
    assert err.value.code == "own_request"
    assert snapshot(session) == before


def test_only_pending_requests_are_decided(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    leave.approve_leave(session, team.actor("supervisor"), request_id=req.id, decision="approve")
    before = snapshot(session)
    with refused(Conflict) as err:
        leave.approve_leave(
            session, team.actor("hr"), request_id=req.id, decision="reject", comment="No"
        )
    assert err.value.code == "not_pending"
    assert snapshot(session) == before


def test_an_unknown_decision_is_refused(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    with refused(Invalid) as err:
        leave.approve_leave(session, team.actor("supervisor"), request_id=req.id, decision="maybe")
    assert err.value.code == "invalid_decision"
    assert session.get(LeaveRequest, req.id).status is LeaveStatus.PENDING


def test_approval_rechecks_the_balance(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    balance = session.scalars(
        select(LeaveBalance).where(
            LeaveBalance.employee_id == team.employee.id,
            LeaveBalance.leave_type_id == req.leave_type_id,
        )
    ).one()
    # The entitlement was corrected downwards after the request was filed.
    balance.entitled_days = Decimal(3)
    before = snapshot(session)
    with refused(Conflict) as err:
        leave.approve_leave(session, team.actor("hr"), request_id=req.id, decision="approve")
    assert err.value.code == "insufficient_balance"
    assert err.value.details == {"available": 3.0, "requested": 5.0}
    assert snapshot(session) == before
    assert notifications(session, team.employee) == []


# ---------------------------------------------------------------- cancellation


def test_employee_cancels_a_pending_request(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    cancelled = leave.cancel_leave(
        session, team.actor("employee"), request_id=req.id, reason="Plans changed"
    )
    assert cancelled.status is LeaveStatus.CANCELLED
    assert cancelled.decision_comment == "Plans changed"
    assert cancelled.decided_by_id == team.employee.id
    (note,) = notifications(session, team.supervisor, "leave.cancelled")
    assert "withdrew" in note.text
    assert balance_of(session, team.actor("employee"), as_of=date(2026, 12, 1)).available == 15


def test_only_the_employee_cancels_and_only_while_pending(session: Session, team: Team) -> None:
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    other = Team(session, country="TZ", leave_types=True)
    before = snapshot(session)
    for who in ("teammate", "supervisor", "hr"):
        with refused(Forbidden) as err:
            leave.cancel_leave(session, team.actor(who), request_id=req.id)
        assert err.value.code == "not_your_request"
    with refused(NotFound) as err:
        leave.cancel_leave(session, other.actor("employee"), request_id=req.id)
    assert err.value.code == "leave_request_not_found"
    assert snapshot(session) == before

    # Approved leave stays approved: changing it is for the supervisor or hr.
    leave.approve_leave(session, team.actor("supervisor"), request_id=req.id, decision="approve")
    before = snapshot(session)
    with refused(Conflict) as err:
        leave.cancel_leave(session, team.actor("employee"), request_id=req.id)
    assert err.value.code == "not_pending"
    assert snapshot(session) == before


# --------------------------------------------------------------------- listing


def test_listing_follows_the_actors_reach(session: Session, team: Team) -> None:
    mine = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    mate = request(session, team.actor("teammate"), date(2026, 12, 7), date(2026, 12, 11))
    boss = request(session, team.actor("supervisor"), date(2026, 12, 14), date(2026, 12, 14))
    out = request(session, team.actor("outsider"), date(2026, 12, 7), date(2026, 12, 11))

    def ids(actor: Actor, **kwargs: Any) -> set[int]:
        return {r.id for r in leave.list_leave_requests(session, actor, **kwargs)}

    assert ids(team.actor("employee")) == {mine.id}
    assert ids(team.actor("supervisor")) == {mine.id, mate.id, boss.id}
    assert ids(team.actor("hr")) == {mine.id, mate.id, boss.id, out.id}
    assert ids(team.actor("supervisor"), employee_id=team.teammate.id) == {mate.id}
    leave.approve_leave(session, team.actor("supervisor"), request_id=mate.id, decision="approve")
    assert ids(team.actor("hr"), status="approved") == {mate.id}
    # Latest start first: the supervisor's 14 Dec, then the 7 Dec requests newest first.
    assert ids(team.actor("hr"), limit=2) == {boss.id, out.id}
    assert ids(team.actor("hr"), limit=2, offset=2) == {mate.id, mine.id}
    with refused(Forbidden):
        leave.list_leave_requests(session, team.actor("employee"), employee_id=team.teammate.id)
    with refused(Invalid) as err:
        leave.list_leave_requests(session, team.actor("hr"), status="done")
    assert err.value.code == "invalid_status"


# ------------------------------------------------------------------- isolation


def test_organizations_are_isolated(session: Session, team: Team) -> None:
    other = Team(session, country="TZ", leave_types=True)
    leave.create_leave_type(
        session, team.actor("hr"), code="study", name="Study leave", days_per_year=5
    )
    req = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    before = snapshot(session)
    with refused(NotFound) as err:
        leave.approve_leave(session, other.actor("admin"), request_id=req.id, decision="approve")
    assert err.value.code == "leave_request_not_found"
    with refused(NotFound) as err:
        leave.leave_balance(session, other.actor("admin"), employee_id=team.employee.id)
    assert err.value.code == "employee_not_found"
    with refused(NotFound) as err:
        request(session, other.actor("employee"), date(2026, 12, 7), date(2026, 12, 7), "study")
    assert err.value.code == "leave_type_not_found"
    assert snapshot(session) == before
    assert leave.list_leave_requests(session, other.actor("admin")) == []
    assert "study" not in {lt.code for lt in leave.list_leave_types(session, other.actor("hr"))}
    # Each organization's request goes against its own types and balances.
    theirs = request(session, other.actor("employee"), date(2026, 12, 7), date(2026, 12, 11))
    assert theirs.leave_type.organization_id == other.org.id
    assert theirs.days == 4  # 9 Dec is Tanzania's Independence Day


# ------------------------------------------------------------------- year end


def _annual(session: Session, org: Organization) -> LeaveType:
    return session.scalars(
        select(LeaveType).where(LeaveType.organization_id == org.id, LeaveType.code == "annual")
    ).one()


def _balance(session: Session, user: User, leave_type: LeaveType, year: int) -> LeaveBalance:
    return session.scalars(
        select(LeaveBalance).where(
            LeaveBalance.employee_id == user.id,
            LeaveBalance.leave_type_id == leave_type.id,
            LeaveBalance.year == year,
        )
    ).one()


def _year_with_leave(session: Session, team: Team) -> None:
    """2026: the employee takes 12 of 15 days, the outsider has 11 pending, the teammate none."""
    taken = request(session, team.actor("employee"), date(2026, 12, 7), date(2026, 12, 22))
    assert taken.days == 12
    leave.approve_leave(session, team.actor("supervisor"), request_id=taken.id, decision="approve")
    assert (
        request(session, team.actor("outsider"), date(2026, 12, 7), date(2026, 12, 21)).days == 11
    )


def test_roll_over_carries_unused_days_up_to_the_cap(session: Session, team: Team) -> None:
    _year_with_leave(session, team)
    changed = roll_over_year(session, team.org, from_year=2026)
    assert changed == 6 * 5  # six people, five limited types
    annual = _annual(session, team.org)
    expected = {"employee": 3, "outsider": 4, "teammate": 5}  # 15 - 12; 15 - 11 pending; capped
    for who, days in expected.items():
        row = _balance(session, getattr(team, who), annual, 2027)
        assert (row.carried_over_days, row.carry_over_expires_on) == (days, date(2027, 4, 1))
        assert row.entitled_days == 15
    sick = session.scalars(
        select(LeaveType).where(LeaveType.organization_id == team.org.id, LeaveType.code == "sick")
    ).one()
    sick_row = _balance(session, team.teammate, sick, 2027)
    assert (sick_row.carried_over_days, sick_row.carry_over_expires_on) == (0, None)
    audit = last_audit(session, "leave.roll_over")
    assert (audit.organization_id, audit.outcome) == (team.org.id, "ok")


def test_roll_over_twice_changes_nothing(session: Session, team: Team) -> None:
    _year_with_leave(session, team)
    roll_over_year(session, team.org, from_year=2026)
    before = snapshot(session)
    assert roll_over_year(session, team.org, from_year=2026) == 0
    assert snapshot(session) == before


def test_carried_days_are_usable_until_they_expire(session: Session, team: Team) -> None:
    _year_with_leave(session, team)
    roll_over_year(session, team.org, from_year=2026)
    actor = team.actor("employee")
    with frozen(datetime(2027, 3, 15, 9, 0, tzinfo=UTC)):
        view = balance_of(session, actor)
        # 3.75 earned by March, counted as 3.5, plus the 3 carried days.
        assert (view.accrued, view.carried_over_usable, view.available) == (
            Decimal("3.5"),
            3,
            Decimal("6.5"),
        )
        assert texts.describe_balance(view) == (
            "Annual leave: 6.5 days available; 3 days carried over must be used by 31 Mar 2027"
        )
        expired = balance_of(session, actor, as_of=date(2027, 4, 1))
        assert (expired.carried_over, expired.carried_over_usable) == (3, 0)
        assert expired.available == 5


def test_carried_days_spent_before_expiry_do_not_eat_the_new_year(
    session: Session, team: Team
) -> None:
    _year_with_leave(session, team)
    roll_over_year(session, team.org, from_year=2026)
    actor = team.actor("teammate")  # 5 carried days
    with frozen(datetime(2027, 1, 4, 9, 0, tzinfo=UTC)):
        # January: 1 day earned (1.25 rounded down) + 5 carried = 6 available.
        january = request(session, actor, date(2027, 1, 11), date(2027, 1, 15))
        leave.approve_leave(
            session, team.actor("supervisor"), request_id=january.id, decision="approve"
        )
        # After expiry the five carried days were all spent: 5 earned by April remain.
        view = balance_of(session, actor, as_of=date(2027, 4, 5))
        assert (view.carried_over_usable, view.taken, view.available) == (5, 5, 5)
        before = snapshot(session)
        with refused(Conflict) as err:
            request(session, actor, date(2027, 4, 5), date(2027, 4, 12))  # six days
        assert err.value.details == {"available": 5.0, "requested": 6.0}
        assert snapshot(session) == before
        assert request(session, actor, date(2027, 4, 5), date(2027, 4, 9)).days == 5


def test_the_year_end_task_rolls_over_each_organizations_last_year(
    session: Session, team: Team
) -> None:
    other = Team(session, country="TZ", leave_types=True)
    _year_with_leave(session, team)
    assert "leave.roll_over_year" in celery_app.tasks
    # 21:05 UTC on 31 Dec is already New Year's Day in Nairobi and Dar es Salaam.
    with frozen(datetime(2026, 12, 31, 21, 5, tzinfo=UTC)):
        changed = roll_over_year_task.delay().get()
    assert changed >= 2 * 6 * 5
    session.expire_all()
    assert _balance(session, team.teammate, _annual(session, team.org), 2027).carried_over_days == 5
    assert (
        _balance(session, other.employee, _annual(session, other.org), 2027).carried_over_days == 5
    )
    # Running it again (a retry) changes nothing.
    with frozen(datetime(2026, 12, 31, 21, 5, tzinfo=UTC)):
        assert roll_over_year_task.delay(organization_id=team.org.id).get() == 0


# --------------------------------------------------------------------- summary


def test_describe_request_formats_periods(session: Session, team: Team) -> None:
    annual = _annual(session, team.org)

    def describe(start: date, end: date, days: str, status: LeaveStatus) -> str:
        req = LeaveRequest(
            leave_type=annual,
            start_date=start,
            end_date=end,
            days=Decimal(days),
            half_day=False,
            status=status,
        )
        return texts.describe_request(req)

    assert describe(date(2026, 12, 1), date(2026, 12, 4), "4", LeaveStatus.PENDING) == (
        "Annual leave 1–4 Dec 2026, 4 working days (pending approval)"
    )
    assert describe(date(2026, 11, 30), date(2026, 12, 1), "2", LeaveStatus.APPROVED) == (
        "Annual leave 30 Nov – 1 Dec 2026, 2 working days (approved)"
    )
    assert describe(date(2026, 11, 30), date(2026, 11, 30), "1", LeaveStatus.REJECTED) == (
        "Annual leave 30 Nov 2026, 1 working day (rejected)"
    )


# ----------------------------------------------------------------- concurrency


@contextmanager
def committed_team(engine: Engine) -> Iterator[Team]:
    """A team whose rows are committed (other connections see them), removed afterwards."""
    with arranging(Session(engine, expire_on_commit=False)) as setup:
        team = Team(setup, leave_types=True)
        # The year's balance rows already exist, as they do once anyone has looked at them.
        for lt in leave.ensure_default_leave_types(setup, team.org):
            if not leave.is_unlimited(lt):
                leave.get_or_create_balance(setup, team.employee, lt, 2026)
        setup.commit()
    org_id = team.org.id
    try:
        yield team
    finally:
        with arranging(Session(engine)) as cleanup:
            # Requests first: they restrict the deletion of their leave types.
            cleanup.execute(delete(LeaveRequest).where(LeaveRequest.organization_id == org_id))
            cleanup.execute(delete(AuditEntry).where(AuditEntry.organization_id == org_id))
            cleanup.execute(delete(Organization).where(Organization.id == org_id))
            cleanup.commit()


def test_concurrent_requests_cannot_both_pass_the_balance_check(engine: Engine) -> None:
    with committed_team(engine) as team:
        actor = team.actor("employee")
        # Each request fits the 15 days alone; together (8 + 8) they do not.
        first_session = Session(engine)
        second_session = Session(engine)
        # Two requests of the employee's: the database shows each only their employer.
        tenancy.act_as(first_session, actor)
        tenancy.act_as(second_session, actor)
        try:
            second_session.execute(text("SET lock_timeout = '10s'"))
            first = request(first_session, actor, date(2026, 12, 7), date(2026, 12, 16))
            assert first.days == 8
            started = threading.Event()

            def second_request() -> LeaveRequest:
                started.set()
                return request(second_session, actor, date(2026, 12, 17), date(2026, 12, 29))

            with ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(second_request)
                started.wait(5)
                # The second request waits on the first one's lock instead of reading a
                # balance that does not yet include it.
                with pytest.raises(TimeoutError):
                    future.result(timeout=0.5)
                first_session.commit()
                with refused(Conflict) as err:
                    future.result(timeout=15)
            assert err.value.code == "insufficient_balance"
            assert err.value.details == {"available": 7.0, "requested": 8.0}
            second_session.rollback()
        finally:
            first_session.close()
            second_session.close()
        with arranging(Session(engine)) as check:
            days = check.scalars(
                select(LeaveRequest.days).where(LeaveRequest.employee_id == team.employee.id)
            ).all()
            assert days == [8]


def test_maternity_counts_calendar_days_and_may_run_into_the_new_year(
    session: Session, team: Team
) -> None:
    # 1 Dec 2026 to 28 Feb 2027: 90 days on the calendar, weekends and holidays included.
    request = leave.request_leave(
        session,
        team.actor("employee"),
        leave_type="maternity",
        start_date=date(2026, 12, 1),
        end_date=date(2027, 2, 28),
    )
    assert request.days == Decimal(90)
    assert "90 days" in texts.describe_request(request)
    [view] = leave.leave_balance(session, team.actor("employee"), leave_type="maternity")
    assert view.available == Decimal(0)


def test_maternity_beyond_the_statutory_days_is_refused(session: Session, team: Team) -> None:
    before = snapshot(session)
    with refused(Conflict) as err:
        leave.request_leave(
            session,
            team.actor("employee"),
            leave_type="maternity",
            start_date=date(2026, 12, 1),
            end_date=date(2027, 3, 1),
        )
    assert err.value.code == "insufficient_balance"
    assert snapshot(session) == before


def test_a_refusal_counts_calendar_day_leave_in_calendar_days(session: Session, team: Team) -> None:
    with refused(Conflict) as err:
        leave.request_leave(
            session,
            team.actor("employee"),
            leave_type="maternity",
            start_date=date(2026, 12, 1),
            end_date=date(2027, 3, 1),
        )
    assert err.value.message == (
        "Not enough maternity leave: 90 days available, but this needs 91 days."
    )


def test_tanzanian_maternity_is_84_calendar_days(session: Session) -> None:
    team = Team(session, country="TZ", leave_types=True)
    maternity = next(
        t for t in leave.list_leave_types(session, team.actor("hr")) if t.code == "maternity"
    )
    assert (maternity.days_per_year, maternity.counts_calendar_days) == (Decimal(84), True)


def test_a_change_in_the_law_is_a_new_dated_entry(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    amended = statutory.Entitlement(
        "KE", "paternity", date(2030, 1, 1), Decimal(21), source="a later amendment"
    )
    monkeypatch.setattr(statutory, "ENTITLEMENTS", (*statutory.ENTITLEMENTS, amended))
    assert statutory.in_force("KE", "paternity", date(2029, 12, 31)).days == 14
    assert statutory.in_force("KE", "paternity", date(2030, 1, 1)) == amended
    with pytest.raises(LookupError):
        statutory.in_force("TZ", "sick", date(2006, 12, 19))
    assert all(entry.source for entry in statutory.ENTITLEMENTS)
    with frozen(datetime(2030, 1, 6, 9, 0, tzinfo=UTC)):
        team = Team(session, leave_types=True)
    paternity = next(
        t for t in leave.list_leave_types(session, team.actor("hr")) if t.code == "paternity"
    )
    assert paternity.days_per_year == 21


# ------------------------------------------------------- next year's carry-over

# Tuesday 1 Dec 2026: next year's roll-over has not run, and cannot have.
DECEMBER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
JANUARY = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def brian(session: Session) -> Team:
    """Brian's employer: 21 days a year, at most 5 carried into the next year until 31 March."""
    team = Team(session, default_annual_leave_days=21)
    leave.ensure_default_leave_types(session, team.org)
    return team


def test_in_december_next_januarys_leave_counts_the_carry_over(
    session: Session, brian: Team
) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        # 21 days unused in 2026, 5 of which carry over; January 2027 earns 1.75, kept to 1.5.
        view = balance_of(session, actor, year=2027)
        assert (view.accrued, view.carried_over, view.carried_over_usable, view.available) == (
            Decimal("1.5"),
            5,
            5,
            Decimal("6.5"),
        )
        assert (view.carry_over_projected, view.carry_over_expires_on) == (True, date(2027, 4, 1))
        assert texts.describe_balance(view) == (
            "Annual leave: 6.5 days available; "
            "5 days carried over from 2026 must be used by 31 Mar 2027"
        )
        january = request(session, actor, date(2027, 1, 11), date(2027, 1, 15))
        assert (january.days, january.status) == (5, LeaveStatus.PENDING)
        after = balance_of(session, actor, year=2027, as_of=date(2027, 1, 11))
        assert (after.pending, after.available) == (5, Decimal("1.5"))
        # Only counted: the carry is written by the roll-over, not by reading or requesting.
        row = _balance(session, brian.employee, _annual(session, brian.org), 2027)
        assert (row.carried_over_days, row.carry_over_expires_on) == (0, None)


def test_refused_next_year_leave_states_the_carry_and_when_it_lapses(
    session: Session, brian: Team
) -> None:
    with frozen(DECEMBER):
        before = snapshot(session)
        with refused(Conflict) as err:
            request(session, brian.actor("employee"), date(2027, 1, 11), date(2027, 1, 20))
        assert str(err.value) == (
            "Not enough annual leave: 6.5 days available by January 2027, including 5 days "
            "carried over from 2026, usable until 31 Mar 2027, but this needs 8 working days."
        )
        assert err.value.details == {"available": 6.5, "requested": 8.0, "carried_over": 5.0}
        assert snapshot(session) == before


def test_the_roll_over_makes_the_projection_real_without_changing_it(
    session: Session, team: Team
) -> None:
    _year_with_leave(session, team)
    people = ("employee", "outsider", "teammate")  # 3, 4 and 5 days to carry

    def views() -> dict[str, Any]:
        return {
            who: balance_of(
                session,
                team.actor("hr"),
                employee_id=getattr(team, who).id,
                year=2027,
                as_of=date(2027, 1, 11),
            )
            for who in people
        }

    with frozen(DECEMBER):
        booked = request(session, team.actor("teammate"), date(2027, 1, 11), date(2027, 1, 14))
        projected = views()
    assert {who: v.carried_over for who, v in projected.items()} == {
        "employee": 3,
        "outsider": 4,
        "teammate": 5,
    }
    assert all(v.carry_over_projected for v in projected.values())
    # 21:05 UTC on 31 Dec is New Year's Day in Nairobi: the job rolls 2026 over.
    with frozen(datetime(2026, 12, 31, 21, 5, tzinfo=UTC)):
        roll_over_year_task.delay(organization_id=team.org.id).get()
    session.expire_all()
    with frozen(JANUARY):
        written = views()
        for who in people:
            row = _balance(session, getattr(team, who), _annual(session, team.org), 2027)
            assert row.carried_over_days == projected[who].carried_over
            assert written[who] == projected[who].model_copy(update={"carry_over_projected": False})
        # The January leave granted on the projection is still whole when it is decided.
        leave.approve_leave(
            session, team.actor("supervisor"), request_id=booked.id, decision="approve"
        )
        assert balance_of(session, team.actor("teammate")).available >= 0


def test_a_pending_december_request_reduces_the_projected_carry(
    session: Session, brian: Team
) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        december = request(session, actor, date(2026, 12, 7), date(2026, 12, 30))
        assert december.days == 17
        view = balance_of(session, actor, year=2027)
        assert (view.carried_over, view.available) == (4, Decimal("5.5"))  # 21 - 17 unused
        leave.cancel_leave(session, actor, request_id=december.id)
        assert balance_of(session, actor, year=2027).carried_over == 5


def test_this_years_leave_cannot_eat_the_carry_next_years_leave_counts_on(
    session: Session, brian: Team
) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        # January's 5 days stand on 1.5 earned in January and 3.5 of the 5 carried.
        january = request(session, actor, date(2027, 1, 11), date(2027, 1, 15))
        this_year = balance_of(session, actor)
        assert (this_year.accrued, this_year.reserved_for_next_year, this_year.available) == (
            21,
            Decimal("3.5"),
            Decimal("17.5"),
        )
        assert texts.describe_balance(this_year) == (
            "Annual leave: 17.5 days available; "
            "3.5 days kept back to carry over for leave booked in 2027"
        )
        before = snapshot(session)
        with refused(Conflict) as err:
            request(session, actor, date(2026, 12, 7), date(2026, 12, 31))  # 18 days
        assert str(err.value) == (
            "Not enough annual leave: 17.5 days available by December 2026, keeping 3.5 days "
            "to carry over for leave booked in 2027, but this needs 18 working days."
        )
        assert err.value.details == {
            "available": 17.5,
            "requested": 18.0,
            "reserved_for_next_year": 3.5,
        }
        assert snapshot(session) == before

        december = request(session, actor, date(2026, 12, 7), date(2026, 12, 30))  # 17 days
        last = request(session, actor, date(2026, 12, 31), date(2026, 12, 31), half_day=True)
        for req in (december, last, january):
            leave.approve_leave(
                session, brian.actor("supervisor"), request_id=req.id, decision="approve"
            )
        assert balance_of(session, actor).available == 0
        # 17.5 days of 2026 leave leave 3.5 to carry: exactly what January needs, no more.
        next_year = balance_of(session, actor, year=2027, as_of=date(2027, 1, 11))
        assert (next_year.carried_over, next_year.taken, next_year.available) == (
            Decimal("3.5"),
            5,
            0,
        )
        with refused(Conflict):
            request(session, actor, date(2026, 12, 28), date(2026, 12, 28), half_day=True)
        with refused(Conflict):
            request(session, actor, date(2027, 1, 18), date(2027, 1, 18), half_day=True)


def test_carry_counted_in_advance_still_lapses_after_march(session: Session, brian: Team) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        april = balance_of(session, actor, year=2027, as_of=date(2027, 4, 5))
        # 7 days earned by April; the 5 carried days lapsed unused on 1 April.
        assert (april.carried_over, april.carried_over_usable, april.available) == (5, 0, 7)
        assert texts.describe_balance(april) == "Annual leave: 7 days available"
        with refused(Conflict) as err:
            request(session, actor, date(2027, 4, 5), date(2027, 4, 14))
        assert str(err.value) == (
            "Not enough annual leave: 7 days available by April 2027, "
            "but this needs 8 working days."
        )
        # Carried days spent in January do not eat April's own.
        request(session, actor, date(2027, 1, 11), date(2027, 1, 15))
        assert balance_of(session, actor, year=2027, as_of=date(2027, 4, 5)).available == 7


def test_the_year_after_next_counts_its_carry_once_the_year_before_it_has_begun(
    session: Session, brian: Team
) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        # 2028's carry would come from 2027's unused days, and 2027 has not begun.
        view = balance_of(session, actor, year=2028)
        assert (view.carried_over, view.carry_over_projected, view.available) == (
            0,
            False,
            Decimal("1.5"),
        )
        with refused(Conflict) as err:
            request(session, actor, date(2028, 1, 10), date(2028, 1, 14))
        assert err.value.details == {"available": 1.5, "requested": 5.0}
        request(session, actor, date(2028, 1, 10), date(2028, 1, 10))
        # Nothing of 2026 or 2027 is held back for it: it stands on 2028's own days.
        assert balance_of(session, actor).reserved_for_next_year == 0
        assert balance_of(session, actor, year=2027).reserved_for_next_year == 0
    with frozen(datetime(2027, 12, 1, 9, 0, tzinfo=UTC)):
        later = balance_of(session, actor, year=2028)
        assert (later.carried_over, later.carry_over_projected, later.available) == (
            5,
            True,
            Decimal("5.5"),
        )


def test_in_january_the_carry_counts_before_the_roll_over_has_run(
    session: Session, brian: Team
) -> None:
    with frozen(DECEMBER):
        january = request(session, brian.actor("employee"), date(2027, 1, 11), date(2027, 1, 15))
        # The teammate uses every 2026 day: nothing to carry.
        request(session, brian.actor("teammate"), date(2026, 12, 1), date(2026, 12, 30))
    with frozen(JANUARY):
        view = balance_of(session, brian.actor("employee"), as_of=date(2027, 1, 11))
        assert (view.carried_over, view.carry_over_projected, view.available) == (
            5,
            True,
            Decimal("1.5"),
        )
        leave.approve_leave(
            session, brian.actor("supervisor"), request_id=january.id, decision="approve"
        )
        roll_over_year(session, brian.org, from_year=2026)
        settled = balance_of(session, brian.actor("employee"), as_of=date(2027, 1, 11))
        assert settled == view.model_copy(
            update={"carry_over_projected": False, "taken": 5, "pending": 0}
        )
        # A row the roll-over settled at nothing is read as it is, not computed again.
        annual = _annual(session, brian.org)
        row = _balance(session, brian.teammate, annual, 2027)
        assert (row.carried_over_days, row.carry_over_expires_on) == (0, date(2027, 4, 1))
        teammate = balance_of(session, brian.actor("teammate"))
        assert (teammate.carried_over, teammate.carry_over_projected) == (0, False)
        assert teammate.carry_over_expires_on is None


def test_an_employer_new_this_year_carries_nothing_from_before_it(session: Session) -> None:
    with frozen(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)):
        team = Team(session, leave_types=True)  # staff hired in 2024, but no 2026 on record here
        view = balance_of(session, team.actor("employee"))
        assert (view.carried_over, view.carry_over_projected) == (0, False)


def test_counting_next_years_carry_costs_one_statement_and_only_when_needed(
    session: Session, brian: Team
) -> None:
    actor = brian.actor("employee")
    with frozen(DECEMBER):
        leave.leave_balance(session, actor)
        leave.leave_balance(session, actor, year=2027)
        # Compassionate leave never carries over: the path without any of this.
        with statements(session) as plain:
            request(session, actor, date(2026, 12, 7), date(2026, 12, 7), "compassionate")
        with statements(session) as this_year:
            request(session, actor, date(2026, 12, 8), date(2026, 12, 8))
        with statements(session) as next_year:
            request(session, actor, date(2027, 1, 11), date(2027, 1, 11))
        with statements(session) as this_year_with_next_booked:
            request(session, actor, date(2026, 12, 9), date(2026, 12, 9))
    assert this_year == plain
    assert next_year[0] == plain[0] + 1  # this year's balance row
    assert this_year_with_next_booked[0] == plain[0] + 1  # next year's balance row
