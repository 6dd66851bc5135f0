from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from tests.factories import Team
from tools.payroll import PayrollRun, PayrollTotals, Payslip, PayslipLine
from tools.policy import NO_DOCUMENTS
from tools.registry import get_tool, run_tool

ROLES = ["employee", "supervisor", "hr", "admin"]
PAYSLIP_TOOLS = ["fetch_payslip", "list_payslips"]


pytestmark = pytest.mark.team(name="Jua Kali Foods Ltd")


def _fields(err: pytest.ExceptionInfo[Invalid]) -> list[str]:
    assert err.value.code == "invalid_arguments"
    return [e["field"] for e in err.value.details["errors"]]


# --- payslips ------------------------------------------------------------------------------
# An organization that has given nobody a salary says so; the real path (salaries, runs,
# payslips) is tested in test_tools_payroll.py.


@pytest.mark.parametrize("tool", PAYSLIP_TOOLS)
@pytest.mark.parametrize("who", ROLES)
def test_own_payslips_say_payroll_is_not_set_up(
    session: Session, team: Team, tool: str, who: str
) -> None:
    actor = team.actor(who)
    for args in ({}, {"employee_id": actor.employee_id}, get_tool(tool).example):
        with pytest.raises(Conflict) as err:
            run_tool(session, actor, tool, args)
        assert err.value.code == "payroll_not_configured"
        assert err.value.message == "Payroll is not set up for Jua Kali Foods Ltd yet."


@pytest.mark.parametrize("tool", PAYSLIP_TOOLS)
@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("employee", "teammate"),
        ("employee", "supervisor"),
        ("supervisor", "employee"),  # a direct report's pay is still not the supervisor's
        ("supervisor", "hr"),
    ],
)
def test_employees_and_supervisors_cannot_see_other_peoples_payslips(
    session: Session, team: Team, tool: str, who: str, target: str
) -> None:
    with pytest.raises(Forbidden) as err:
        run_tool(session, team.actor(who), tool, {"employee_id": getattr(team, target).id})
    assert err.value.code == "own_payslips_only"


@pytest.mark.parametrize("tool", PAYSLIP_TOOLS)
def test_another_employers_id_is_forbidden_for_an_employee_without_a_lookup(
    session: Session, team: Team, tool: str
) -> None:
    # Refused whatever the id is, so the answer says nothing about whether it exists.
    other = Team(session, country="TZ")
    for employee_id in (other.employee.id, 10**9):
        with pytest.raises(Forbidden) as err:
            run_tool(session, team.actor("employee"), tool, {"employee_id": employee_id})
        assert err.value.code == "own_payslips_only"


@pytest.mark.parametrize("tool", PAYSLIP_TOOLS)
@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_and_admin_may_ask_for_anyones_payslip(
    session: Session, team: Team, tool: str, who: str
) -> None:
    with pytest.raises(Conflict) as err:
        run_tool(session, team.actor(who), tool, {"employee_id": team.outsider.id})
    assert err.value.code == "payroll_not_configured"


@pytest.mark.parametrize("tool", PAYSLIP_TOOLS)
@pytest.mark.parametrize("who", ["hr", "admin"])
def test_another_employers_employee_is_not_found_for_hr(
    session: Session, team: Team, tool: str, who: str
) -> None:
    other = Team(session, country="TZ")
    with pytest.raises(NotFound) as err:
        run_tool(session, other.actor(who), tool, {"employee_id": team.employee.id})
    assert err.value.code == "employee_not_found"


@pytest.mark.parametrize(
    ("tool", "args", "field"),
    [
        ("fetch_payslip", {"month": "2026-13"}, "month"),
        ("fetch_payslip", {"month": "2026-1"}, "month"),
        ("fetch_payslip", {"month": "October 2026"}, "month"),
        ("fetch_payslip", {"employee_id": 0}, "employee_id"),
        ("fetch_payslip", {"user_id": 3}, "user_id"),
        ("list_payslips", {"year": 1969}, "year"),
        ("list_payslips", {"limit": 101}, "limit"),
        ("list_payslips", {"offset": -1}, "offset"),
        ("list_payslips", {"month": "2026-10"}, "month"),
    ],
)
def test_payslip_schema_violations_name_the_field(
    session: Session, team: Team, tool: str, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), tool, args)
    assert _fields(err) == [field]


def test_payslip_amounts_stay_decimal_and_serialise_as_strings() -> None:
    payslip = Payslip(
        summary="October 2026 payslip.",
        payslip_id=1,
        employee_id=4,
        employee_name="John Kamau",
        period="2026-10",
        currency="KES",
        gross_pay=Decimal("50000.00"),
        total_deductions=Decimal("9876.45"),
        net_pay=Decimal("40123.55"),
        lines=[
            PayslipLine(kind="earning", code="basic", label="Basic pay", amount=Decimal("50000")),
            PayslipLine(
                kind="deduction",
                code="paye",
                label="PAYE",
                amount=Decimal("7100.30"),
                rule="KE/PAYE/2023-07-01",
            ),
        ],
        pdf_url="/api/v1/payslips/1/pdf",
    )
    dumped = payslip.model_dump(mode="json")
    assert dumped["net_pay"] == "40123.55"
    assert dumped["lines"][1] == {
        "kind": "deduction",
        "code": "paye",
        "label": "PAYE",
        "amount": "7100.30",
        "rule": "KE/PAYE/2023-07-01",
    }
    assert dumped["lines"][0]["rule"] is None
    with pytest.raises(ValueError, match="kind"):
        PayslipLine(kind="bonus", code="x", label="X", amount=Decimal(1))


def test_payslip_tools_only_read() -> None:
    for name in PAYSLIP_TOOLS:
        spec = get_tool(name)
        assert not spec.changes_state
        assert not spec.confirm
        assert "hr and admin" in spec.args_model.model_fields["employee_id"].description


# --- run_payroll ---------------------------------------------------------------------------


def test_run_payroll_needs_confirmation() -> None:
    spec = get_tool("run_payroll")
    assert spec.changes_state
    assert spec.confirm
    assert spec.result_model is PayrollRun
    assert set(PayrollTotals.model_fields) == {"gross", "deductions", "net", "employer_cost"}


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_run_payroll_says_payroll_is_not_set_up(session: Session, team: Team, who: str) -> None:
    for finalize in (False, True):
        with pytest.raises(Conflict) as err:
            run_tool(
                session, team.actor(who), "run_payroll", {"month": "2026-10", "finalize": finalize}
            )
        assert err.value.code == "payroll_not_configured"
        assert "Jua Kali Foods Ltd" in err.value.message


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_run_payroll_is_forbidden_below_hr(session: Session, team: Team, who: str) -> None:
    with pytest.raises(Forbidden) as err:
        run_tool(session, team.actor(who), "run_payroll", {"month": "2026-10"})
    assert err.value.code == "forbidden"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({}, "month"),
        ({"month": "2026-00"}, "month"),
        ({"month": "2026-10", "finalize": "maybe"}, "finalize"),
        ({"month": "2026-10", "organization_id": 1}, "organization_id"),
    ],
)
def test_run_payroll_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("hr"), "run_payroll", args)
    assert _fields(err) == [field]


# --- search_policy -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_search_policy_answers_honestly_without_documents(
    session: Session, team: Team, who: str
) -> None:
    result = run_tool(
        session, team.actor(who), "search_policy", {"query": "How long is paternity leave?"}
    )
    assert result.results == []
    assert result.citations == []
    assert result.summary == NO_DOCUMENTS
    assert result.summary == (
        "No policy documents have been added yet; ask hr (the ask_hr tool) or try again later."
    )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 501}, "query"),
        ({}, "query"),
        ({"query": "sick leave", "limit": 0}, "limit"),
        ({"query": "sick leave", "limit": 11}, "limit"),
    ],
)
def test_search_policy_schema_violations_name_the_field(
    session: Session, team: Team, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        run_tool(session, team.actor("employee"), "search_policy", args)
    assert _fields(err) == [field]
