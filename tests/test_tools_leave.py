from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, HRError, Invalid, NotFound
from hrcore.leave import service as leave
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications.models import Notification
from hrcore.people.models import User
from tests.factories import Team, make_leave_type, statements
from tools.registry import get_tool, parse_args, run_tool, tools_for

# Monday 2 Nov 2026, midday in Nairobi and Dar es Salaam.
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROLES = ("employee", "supervisor", "hr", "admin")
LEAVE_TOOLS = (
    "request_leave",
    "cancel_leave",
    "approve_leave",
    "leave_balance",
    "list_leave_requests",
    "list_leave_types",
)


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with frozen(NOW):
        yield


pytestmark = pytest.mark.team(leave_types=True)


@pytest.fixture
def other(session: Session, team: Team) -> Team:
    return Team(session, country="TZ", leave_types=True)


def snapshot(session: Session) -> tuple[Any, ...]:
    """What a refused call must leave untouched: requests, their decisions, the outbox."""
    session.flush()
    return (
        session.execute(
            select(
                LeaveRequest.id,
                LeaveRequest.status,
                LeaveRequest.decided_by_id,
                LeaveRequest.decision_comment,
            ).order_by(LeaveRequest.id)
        ).all(),
        session.scalar(select(func.count()).select_from(Notification)),
    )


def notifications(session: Session, user: User, kind: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def audit_counts(session: Session) -> dict[str, int]:
    """Audit rows per action."""
    session.flush()
    return dict(
        session.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all()
    )


def call(session: Session, actor: Actor, name: str, args: dict[str, Any]) -> Any:
    """Run a tool through the registry, as the agent and the REST routes do."""
    return run_tool(session, actor, name, args)


def file_leave(
    session: Session, actor: Actor, start: str, end: str, leave_type: str = "annual"
) -> int:
    result = call(
        session,
        actor,
        "request_leave",
        {"leave_type": leave_type, "start_date": start, "end_date": end},
    )
    return result.request_id


def refused(
    session: Session, actor: Actor, name: str, args: dict[str, Any], error: type[HRError]
) -> HRError:
    """Run a tool that must fail with `error` and write nothing."""
    before = snapshot(session)
    with pytest.raises(error) as caught:
        run_tool(session, actor, name, args)
    assert snapshot(session) == before
    return caught.value


def invalid_fields(session: Session, actor: Actor, name: str, args: dict[str, Any]) -> set[str]:
    err = refused(session, actor, name, args, Invalid)
    assert err.code == "invalid_arguments"
    return {e["field"] for e in err.details["errors"]}


# ------------------------------------------------------------------ declarations


def test_leave_tools_declare_their_permission_and_confirmation() -> None:
    flags = {
        name: (str(get_tool(name).permission), get_tool(name).changes_state, get_tool(name).confirm)
        for name in LEAVE_TOOLS
    }
    assert flags == {
        "request_leave": ("leave.request", True, True),
        "cancel_leave": ("leave.request", True, True),
        "approve_leave": ("leave.approve", True, True),
        "leave_balance": ("leave.read", False, False),
        "list_leave_requests": ("leave.read", False, False),
        "list_leave_types": ("leave.read", False, False),
    }


@pytest.mark.parametrize("name", LEAVE_TOOLS)
def test_examples_are_valid_and_schemas_carry_no_identity(name: str) -> None:
    spec = get_tool(name)
    parse_args(spec, spec.example)
    schema = spec.args_model.model_json_schema()
    assert schema["additionalProperties"] is False
    assert not set(schema.get("properties", {})) & {
        "user_id",
        "actor",
        "organization_id",
        "role",
        "my_id",
    }
    assert spec.description


def test_only_approvers_are_offered_approve_leave(team: Team) -> None:
    offered = {role: {s.name for s in tools_for(team.actor(role))} for role in ROLES}
    assert all(set(LEAVE_TOOLS) - {"approve_leave"} <= names for names in offered.values())
    assert "approve_leave" not in offered["employee"]
    assert all("approve_leave" in offered[role] for role in ("supervisor", "hr", "admin"))


# ------------------------------------------------------------------ request_leave


def test_request_leave_files_a_pending_request_and_notifies_the_supervisor(
    session: Session, team: Team
) -> None:
    result = call(
        session,
        team.actor("employee"),
        "request_leave",
        {
            "leave_type": "annual",
            "start_date": "2026-12-07",
            "end_date": "2026-12-08",
            "reason": "Family visit upcountry",
        },
    )
    # 15 days a year accrue monthly: all 15 are earned by December, 2 go to this request.
    assert result.summary == (
        "Annual leave 7–8 Dec 2026, 2 working days (pending approval). 13 days left after this."
    )
    assert result.available_after == Decimal(13)
    row = session.get(LeaveRequest, result.request_id)
    assert row is not None
    assert (row.employee_id, row.start_date, row.end_date, row.days, row.status, row.reason) == (
        team.employee.id,
        date(2026, 12, 7),
        date(2026, 12, 8),
        Decimal(2),
        LeaveStatus.PENDING,
        "Family visit upcountry",
    )
    assert result.model_dump(exclude={"summary", "request_id", "available_after"}) == {
        "employee_id": team.employee.id,
        "employee_name": team.employee.full_name,
        "leave_type": "annual",
        "leave_type_name": "Annual leave",
        "start_date": date(2026, 12, 7),
        "end_date": date(2026, 12, 8),
        "half_day": False,
        "days": Decimal(2),
        "status": LeaveStatus.PENDING,
        "decided_by_id": None,
        "decided_by_name": None,
        "decided_at": None,
        "comment": None,
    }
    (note,) = notifications(session, team.supervisor, "leave.requested")
    assert f"Request #{row.id}" in note.text
    assert team.employee.full_name in note.text


def test_request_leave_counts_the_balance_once_and_audits_only_the_request(
    session: Session, team: Team
) -> None:
    actor = team.actor("employee")
    # The first request of the year creates the balance row; measure the ones after it.
    leave.request_leave(
        session,
        actor,
        leave_type="annual",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 1),
    )
    with statements(session) as service:
        leave.request_leave(
            session,
            actor,
            leave_type="annual",
            start_date=date(2026, 12, 2),
            end_date=date(2026, 12, 2),
        )
        session.flush()  # its audit row, which the tool's call writes inside its block
    audits_before = audit_counts(session)
    with statements(session) as tool:
        result = call(
            session,
            actor,
            "request_leave",
            {"leave_type": "annual", "start_date": "2026-12-03", "end_date": "2026-12-03"},
        )
    # 15 days accrued by December, less the three single days now asked for.
    assert result.available_after == 12
    assert tool[0] == service[0] + 1  # the names of the people on the request
    assert audit_counts(session) == audits_before | {
        "leave.request": audits_before["leave.request"] + 1
    }
    assert "leave.balance" not in audit_counts(session)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_request_leave_for_themselves_only(
    session: Session, team: Team, role: str
) -> None:
    request_id = file_leave(session, team.actor(role), "2026-12-01", "2026-12-01")
    row = session.get(LeaveRequest, request_id)
    assert row is not None
    assert row.employee_id == getattr(team, role).id
    assert row.organization_id == team.org.id


def test_a_half_day_and_the_balance_left(session: Session, team: Team) -> None:
    result = call(
        session,
        team.actor("employee"),
        "request_leave",
        {
            "leave_type": "annual",
            "start_date": "2026-12-01",
            "end_date": "2026-12-01",
            "half_day": True,
        },
    )
    assert result.summary == (
        "Annual leave 1 Dec 2026 (half day), 0.5 working days (pending approval). "
        "14.5 days left after this."
    )
    assert session.get(LeaveRequest, result.request_id).days == Decimal("0.5")


def test_unpaid_leave_has_no_balance_to_report(session: Session, team: Team) -> None:
    result = call(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "unpaid", "start_date": "2026-12-01", "end_date": "2026-12-04"},
    )
    assert result.available_after is None
    assert result.summary == "Unpaid leave 1–4 Dec 2026, 4 working days (pending approval)."


def test_sick_leave_summary_asks_for_the_document(session: Session, team: Team) -> None:
    result = call(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "sick", "start_date": "2026-10-30", "end_date": "2026-10-30"},
    )
    assert result.summary == (
        "Sick leave 30 Oct 2026, 1 working day (pending approval); a supporting document "
        "(such as a medical certificate) is needed. 13 days left after this."
    )


def test_an_employers_own_leave_type_can_be_requested(session: Session, team: Team) -> None:
    make_leave_type(session, team.org, code="study", name="Study leave", days_per_year=5)
    result = call(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "study", "start_date": "2026-12-01", "end_date": "2026-12-02"},
    )
    assert result.leave_type == "study"
    assert result.summary.endswith("3 days left after this.")


def test_request_beyond_the_balance_is_refused_and_nothing_written(
    session: Session, team: Team
) -> None:
    err = refused(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-31"},
        Conflict,
    )
    assert err.code == "insufficient_balance"


def test_unknown_leave_type_is_not_found(session: Session, team: Team) -> None:
    err = refused(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "sabbatical", "start_date": "2026-12-01", "end_date": "2026-12-01"},
        NotFound,
    )
    assert err.code == "leave_type_not_found"
    assert "annual" in err.message


def test_another_organizations_leave_type_is_not_offered(
    session: Session, team: Team, other: Team
) -> None:
    make_leave_type(session, other.org, code="study", name="Study leave", days_per_year=5)
    err = refused(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "study", "start_date": "2026-12-01", "end_date": "2026-12-01"},
        NotFound,
    )
    assert err.code == "leave_type_not_found"


def test_end_before_start_is_refused_by_the_service(session: Session, team: Team) -> None:
    err = refused(
        session,
        team.actor("employee"),
        "request_leave",
        {"leave_type": "annual", "start_date": "2026-12-08", "end_date": "2026-12-07"},
        Invalid,
    )
    assert err.code == "invalid_dates"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"start_date": "8 Dec 2026", "end_date": "2026-12-08"}, "start_date"),
        ({"start_date": "2026-12-32", "end_date": "2026-12-08"}, "start_date"),
        ({"start_date": "2026-12-08"}, "end_date"),
        ({"start_date": "2026-12-08", "end_date": "2026-12-08", "employee_id": 1}, "employee_id"),
        (
            {"start_date": "2026-12-08", "end_date": "2026-12-08", "leave_type": "Annual"},
            "leave_type",
        ),
        ({"start_date": "2026-12-08", "end_date": "2026-12-08", "reason": "x" * 1001}, "reason"),
        ({"start_date": "2026-12-08", "end_date": "2026-12-08", "half_day": "perhaps"}, "half_day"),
    ],
)
def test_request_leave_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    assert field in invalid_fields(
        session, team.actor("employee"), "request_leave", {"leave_type": "annual"} | args
    )


# ------------------------------------------------------------------ cancel_leave


def test_employee_cancels_their_pending_request(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    result = call(
        session,
        team.actor("employee"),
        "cancel_leave",
        {"request_id": request_id, "reason": "Plans changed"},
    )
    assert result.summary == (
        f"#{request_id} {team.employee.full_name}: "
        "Annual leave 7–8 Dec 2026, 2 working days (cancelled)"
    )
    row = session.get(LeaveRequest, request_id)
    assert row is not None
    assert (row.status, row.decided_by_id, row.decided_at, row.decision_comment) == (
        LeaveStatus.CANCELLED,
        team.employee.id,
        NOW,
        "Plans changed",
    )
    assert result.comment == "Plans changed"
    assert result.decided_by_name == team.employee.full_name
    (note,) = notifications(session, team.supervisor, "leave.cancelled")
    assert f"#{request_id}" in note.text


@pytest.mark.parametrize("role", ["teammate", "supervisor", "hr", "admin"])
def test_nobody_cancels_someone_elses_request(session: Session, team: Team, role: str) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    err = refused(session, team.actor(role), "cancel_leave", {"request_id": request_id}, Forbidden)
    assert err.code == "not_your_request"


def test_approved_leave_cannot_be_cancelled(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    call(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": request_id, "decision": "approve"},
    )
    err = refused(
        session, team.actor("employee"), "cancel_leave", {"request_id": request_id}, Conflict
    )
    assert err.code == "not_pending"


def test_cancel_another_organizations_request_is_not_found(
    session: Session, team: Team, other: Team
) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    err = refused(
        session, other.actor("employee"), "cancel_leave", {"request_id": request_id}, NotFound
    )
    assert err.code == "leave_request_not_found"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({}, "request_id"),
        ({"request_id": "first"}, "request_id"),
        ({"request_id": 0}, "request_id"),
        ({"request_id": 1, "reason": "x" * 1001}, "reason"),
    ],
)
def test_cancel_leave_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    assert invalid_fields(session, team.actor("employee"), "cancel_leave", args) == {field}


# ------------------------------------------------------------------ approve_leave


def test_supervisor_approves_a_direct_reports_request(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    result = call(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": request_id, "decision": "approve", "comment": "Enjoy your break"},
    )
    assert result.summary == (
        f"#{request_id} {team.employee.full_name}: "
        "Annual leave 7–8 Dec 2026, 2 working days (approved)"
    )
    assert result.status is LeaveStatus.APPROVED
    assert result.decided_by_name == team.supervisor.full_name
    row = session.get(LeaveRequest, request_id)
    assert row is not None
    assert (row.status, row.decided_by_id, row.decided_at, row.decision_comment) == (
        LeaveStatus.APPROVED,
        team.supervisor.id,
        NOW,
        "Enjoy your break",
    )
    (note,) = notifications(session, team.employee, "leave.approved")
    assert team.supervisor.full_name in note.text
    assert "Enjoy your break" in note.text
    balance = call(session, team.actor("employee"), "leave_balance", {"leave_type": "annual"})
    assert balance.balances[0].taken == 2


@pytest.mark.parametrize("role", ["hr", "admin"])
def test_hr_and_admin_reject_anyones_request_with_a_comment(
    session: Session, team: Team, role: str
) -> None:
    request_id = file_leave(session, team.actor("outsider"), "2026-12-07", "2026-12-08")
    result = call(
        session,
        team.actor(role),
        "approve_leave",
        {"request_id": request_id, "decision": "reject", "comment": "Stock take that week"},
    )
    assert result.summary.endswith("(rejected)")
    row = session.get(LeaveRequest, request_id)
    assert row is not None
    assert (row.status, row.decided_by_id, row.decision_comment) == (
        LeaveStatus.REJECTED,
        getattr(team, role).id,
        "Stock take that week",
    )
    (note,) = notifications(session, team.outsider, "leave.rejected")
    assert "Stock take that week" in note.text


def test_rejecting_without_a_comment_is_refused(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    err = refused(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": request_id, "decision": "reject"},
        Invalid,
    )
    assert err.code == "comment_required"


def test_an_employee_may_not_decide_leave(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("teammate"), "2026-12-07", "2026-12-08")
    err = refused(
        session,
        team.actor("employee"),
        "approve_leave",
        {"request_id": request_id, "decision": "approve"},
        Forbidden,
    )
    assert err.details == {"permission": "leave.approve"}


def test_a_supervisor_may_not_decide_outside_their_team(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("outsider"), "2026-12-07", "2026-12-08")
    err = refused(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": request_id, "decision": "approve"},
        Forbidden,
    )
    assert err.code == "not_your_team"


def test_nobody_decides_their_own_request(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("hr"), "2026-12-07", "2026-12-08")
    err = refused(
        session,
        team.actor("hr"),
        "approve_leave",
        {"request_id": request_id, "decision": "approve"},
        Forbidden,
    )
    assert err.code == "own_request"


@pytest.mark.parametrize("role", ["supervisor", "hr", "admin"])
def test_deciding_another_organizations_request_is_not_found(
    session: Session, team: Team, other: Team, role: str
) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    err = refused(
        session,
        other.actor(role),
        "approve_leave",
        {"request_id": request_id, "decision": "approve"},
        NotFound,
    )
    assert err.code == "leave_request_not_found"


def test_a_decided_request_cannot_be_decided_again(session: Session, team: Team) -> None:
    request_id = file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    args = {"request_id": request_id, "decision": "approve"}
    call(session, team.actor("supervisor"), "approve_leave", args)
    err = refused(session, team.actor("hr"), "approve_leave", args, Conflict)
    assert err.code == "not_pending"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"request_id": 1, "decision": "maybe"}, "decision"),
        ({"request_id": 1}, "decision"),
        ({"decision": "approve"}, "request_id"),
        ({"request_id": 1, "decision": "approve", "comment": "x" * 1001}, "comment"),
        ({"request_id": 1, "decision": "approve", "approver_id": 3}, "approver_id"),
    ],
)
def test_approve_leave_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    assert invalid_fields(session, team.actor("supervisor"), "approve_leave", args) == {field}


# ------------------------------------------------------------------ leave_balance


def test_employee_sees_all_their_balances(session: Session, team: Team) -> None:
    file_leave(session, team.actor("employee"), "2026-12-07", "2026-12-08")
    result = call(session, team.actor("employee"), "leave_balance", {})
    by_code = {b.leave_type: b for b in result.balances}
    assert set(by_code) == {"annual", "sick", "maternity", "paternity", "compassionate", "unpaid"}
    annual = by_code["annual"]
    # Hired before this year: 15 days, of which 11 months' worth (13.75, kept to 13.5) accrued.
    assert (annual.entitled, annual.accrued, annual.taken, annual.pending, annual.available) == (
        Decimal(15),
        Decimal("13.5"),
        Decimal(0),
        Decimal(2),
        Decimal("11.5"),
    )
    assert annual.summary == "Annual leave: 11.5 days available after 2 days pending approval"
    assert by_code["unpaid"].available is None
    assert by_code["unpaid"].summary == "Unpaid leave: no limit"
    assert result.employee_id == team.employee.id
    assert result.summary.splitlines() == [b.summary for b in result.balances]


def test_balance_of_one_type_and_year(session: Session, team: Team) -> None:
    result = call(
        session, team.actor("employee"), "leave_balance", {"leave_type": "sick", "year": 2027}
    )
    (sick,) = result.balances
    assert (sick.leave_type, sick.year, sick.available) == ("sick", 2027, Decimal(14))
    assert result.summary == "Sick leave: 14 days available"


@pytest.mark.parametrize("role", ["supervisor", "hr", "admin"])
def test_managers_see_a_direct_reports_balance(session: Session, team: Team, role: str) -> None:
    result = call(
        session,
        team.actor(role),
        "leave_balance",
        {"leave_type": "annual", "employee_id": team.employee.id},
    )
    assert result.employee_id == team.employee.id
    assert result.summary.splitlines() == [
        f"Leave balances of {team.employee.full_name} for 2026:",
        "Annual leave: 13.5 days available",
    ]


@pytest.mark.parametrize(("role", "target"), [("employee", "teammate"), ("supervisor", "outsider")])
def test_balances_outside_ones_reach_are_forbidden(
    session: Session, team: Team, role: str, target: str
) -> None:
    err = refused(
        session,
        team.actor(role),
        "leave_balance",
        {"employee_id": getattr(team, target).id},
        Forbidden,
    )
    assert err.code == "outside_scope"


def test_another_organizations_employee_balance_is_not_found(
    session: Session, team: Team, other: Team
) -> None:
    err = refused(
        session, other.actor("hr"), "leave_balance", {"employee_id": team.employee.id}, NotFound
    )
    assert err.code == "employee_not_found"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"year": 1969}, "year"),
        ({"year": "this year"}, "year"),
        ({"employee_id": -4}, "employee_id"),
        ({"leave_type": "annual leave"}, "leave_type"),
        ({"as_of": "2026-12-01"}, "as_of"),
    ],
)
def test_leave_balance_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    assert invalid_fields(session, team.actor("employee"), "leave_balance", args) == {field}


def test_next_years_leave_asked_in_december_counts_the_carry_over(
    session: Session, team: Team
) -> None:
    actor = team.actor("employee")
    with frozen(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)):
        # January 2027 earns 1 day (1.25 kept to 1); 5 unused 2026 days carry over.
        result = call(
            session,
            actor,
            "request_leave",
            {"leave_type": "annual", "start_date": "2027-01-11", "end_date": "2027-01-15"},
        )
        assert result.available_after == 1
        assert result.summary.endswith("5 working days (pending approval). 1 day left after this.")
        (annual,) = call(
            session, actor, "leave_balance", {"leave_type": "annual", "year": 2027}
        ).balances
        assert annual.carried_over_usable == 5
        assert annual.summary == (
            "Annual leave: 1 day available after 5 days pending approval; "
            "5 days carried over from 2026 must be used by 31 Mar 2027"
        )
        # 4 of those 5 days are what January stands on: 2026 keeps them back.
        (this_year,) = call(session, actor, "leave_balance", {"leave_type": "annual"}).balances
        assert this_year.available == 11
        assert this_year.summary == (
            "Annual leave: 11 days available; "
            "4 days kept back to carry over for leave booked in 2027"
        )
        err = refused(
            session,
            actor,
            "request_leave",
            {"leave_type": "annual", "start_date": "2026-12-07", "end_date": "2026-12-22"},
            Conflict,
        )
        assert err.code == "insufficient_balance"
        assert "keeping 4 days to carry over for leave booked in 2027" in err.message


# ------------------------------------------------------------------ list_leave_requests


@pytest.fixture
def filed(session: Session, team: Team) -> dict[str, int]:
    """One request per person, from 7 Dec on, a day apart so the order is known."""
    ids = {}
    for day, who in enumerate(("supervisor", "employee", "teammate", "outsider", "hr"), start=7):
        ids[who] = file_leave(session, team.actor(who), f"2026-12-{day:02d}", f"2026-12-{day:02d}")
    return ids


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("employee", ["employee"]),
        ("supervisor", ["teammate", "employee", "supervisor"]),
        ("hr", ["hr", "outsider", "teammate", "employee", "supervisor"]),
        ("admin", ["hr", "outsider", "teammate", "employee", "supervisor"]),
    ],
)
def test_list_leave_requests_is_scoped_by_role(
    session: Session, team: Team, other: Team, filed: dict[str, int], role: str, seen: list[str]
) -> None:
    file_leave(session, other.actor("employee"), "2026-12-07", "2026-12-07")
    result = call(session, team.actor(role), "list_leave_requests", {})
    assert [r.request_id for r in result.requests] == [filed[w] for w in seen]
    assert [r.employee_name for r in result.requests] == [getattr(team, w).full_name for w in seen]


def test_list_summary_and_decisions(session: Session, team: Team, filed: dict[str, int]) -> None:
    call(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": filed["employee"], "decision": "reject", "comment": "Audit week"},
    )
    result = call(session, team.actor("employee"), "list_leave_requests", {})
    (item,) = result.requests
    assert (item.status, item.decided_by_id, item.decided_by_name, item.comment) == (
        LeaveStatus.REJECTED,
        team.supervisor.id,
        team.supervisor.full_name,
        "Audit week",
    )
    assert result.summary == (
        f"1 leave request:\n#{filed['employee']} {team.employee.full_name}: "
        "Annual leave 8 Dec 2026, 1 working day (rejected)"
    )


def test_list_filters_by_status_and_employee(
    session: Session, team: Team, filed: dict[str, int]
) -> None:
    call(
        session,
        team.actor("supervisor"),
        "approve_leave",
        {"request_id": filed["teammate"], "decision": "approve"},
    )
    pending = call(session, team.actor("supervisor"), "list_leave_requests", {"status": "pending"})
    assert [r.request_id for r in pending.requests] == [filed["employee"], filed["supervisor"]]
    one = call(session, team.actor("hr"), "list_leave_requests", {"employee_id": team.teammate.id})
    assert [(r.request_id, r.status) for r in one.requests] == [
        (filed["teammate"], LeaveStatus.APPROVED)
    ]


def test_list_pages_with_limit_and_offset(
    session: Session, team: Team, filed: dict[str, int]
) -> None:
    page = call(session, team.actor("hr"), "list_leave_requests", {"limit": 2, "offset": 1})
    assert [r.request_id for r in page.requests] == [filed["outsider"], filed["teammate"]]
    empty = call(session, team.actor("hr"), "list_leave_requests", {"offset": 50})
    assert empty.summary == "0 leave requests."


def test_list_for_someone_outside_ones_team_is_forbidden(
    session: Session, team: Team, filed: dict[str, int]
) -> None:
    err = refused(
        session,
        team.actor("supervisor"),
        "list_leave_requests",
        {"employee_id": team.outsider.id},
        Forbidden,
    )
    assert err.code == "outside_scope"


def test_list_for_another_organizations_employee_is_not_found(
    session: Session, team: Team, other: Team, filed: dict[str, int]
) -> None:
    err = refused(
        session,
        other.actor("admin"),
        "list_leave_requests",
        {"employee_id": team.employee.id},
        NotFound,
    )
    assert err.code == "employee_not_found"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"employee_id": "me"}, "employee_id"),
    ],
)
def test_list_leave_requests_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    assert invalid_fields(session, team.actor("hr"), "list_leave_requests", args) == {field}


# ------------------------------------------------------------------ list_leave_types


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_the_employers_leave_types(
    session: Session, team: Team, other: Team, role: str
) -> None:
    make_leave_type(session, other.org, code="study", name="Study leave", days_per_year=5)
    result = call(session, team.actor(role), "list_leave_types", {})
    types = {t.code: t for t in result.leave_types}
    assert set(types) == {"annual", "sick", "maternity", "paternity", "compassionate", "unpaid"}
    assert (types["maternity"].days_per_year, types["maternity"].counts_calendar_days) == (90, True)
    assert (types["unpaid"].paid, types["sick"].requires_document) == (False, True)
    lines = result.summary.splitlines()
    assert lines[0] == "Leave types:"
    assert "Annual leave (annual): 15 working days a year" in lines
    assert "Maternity leave (maternity): 90 calendar days a year" in lines
    assert "Unpaid leave (unpaid): unpaid, no yearly limit" in lines


def test_list_leave_types_takes_no_arguments(session: Session, team: Team) -> None:
    fields = invalid_fields(session, team.actor("employee"), "list_leave_types", {"year": 2026})
    assert fields == {"year"}
