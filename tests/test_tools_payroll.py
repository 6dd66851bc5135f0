"""The payroll tools on real salaries: fetch_payslip, list_payslips, run_payroll, salary_preview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from hrcore.actor import Channel
from hrcore.clock import frozen
from hrcore.errors import Forbidden, NotFound
from hrcore.payroll.engine import preview
from hrcore.payroll.models import PayrollRun, Payslip, RunStatus
from hrcore.payroll.structures import set_salary_structure
from hrcore.people.models import Organization, User
from hrcore.people.service import actor_for
from hrcore.seed import seed_demo
from tests.factories import Team, bearer
from tools.payroll import PayrollRun as PayrollRunResult
from tools.payroll import Payslip as PayslipResult
from tools.registry import get_tool, run_tool

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with frozen(NOW):
        yield


pytestmark = [pytest.mark.team(name="Jua Kali Foods Ltd"), pytest.mark.usefixtures("salaries")]


@pytest.fixture
def salaries(session: Session, team: Team) -> None:
    """A basic pay of 85,000 for everyone but the outsider, from January 2024."""
    for name in ("admin", "hr", "supervisor", "employee", "teammate"):  # outsider has none
        set_salary_structure(
            session,
            team.actor("hr"),
            employee_id=getattr(team, name).id,
            basic_pay=Decimal(85000),
            effective_from=date(2024, 1, 1),
        )


def test_run_payroll_drafts_then_finalises_and_names_who_was_left_out(
    session: Session, team: Team
) -> None:
    draft = run_tool(session, team.actor("hr"), "run_payroll", {"month": "2026-10"})
    assert isinstance(draft, PayrollRunResult)
    assert (draft.status, draft.employee_count, draft.currency) == ("draft", 5, "KES")
    assert draft.totals.gross == Decimal("425000.00")
    assert draft.totals.net == 5 * Decimal("61017.90")
    assert [(w.employee_id, w.code) for w in draft.warnings] == [
        (team.outsider.id, "missing_salary")
    ]
    assert draft.summary.startswith("Draft payroll for October 2026: 5 employees")
    assert f"Left out: {team.outsider.full_name} (missing salary)." in draft.summary

    final = run_tool(
        session, team.actor("admin"), "run_payroll", {"month": "2026-10", "finalize": True}
    )
    assert (final.run_id, final.status) == (draft.run_id, "finalized")
    assert session.scalar(select(func.count()).select_from(Payslip)) == 5


def test_fetch_payslip_gives_the_figures_a_link_and_an_sms_summary(
    session: Session, team: Team
) -> None:
    run_tool(session, team.actor("hr"), "run_payroll", {"month": "2026-10", "finalize": True})
    result = run_tool(session, team.actor("employee", Channel.SMS), "fetch_payslip", {})
    assert isinstance(result, PayslipResult)
    assert result.summary == (
        "October 2026 payslip: gross KES 85,000, deductions KES 23,982.10, net KES 61,017.90."
    )
    assert len(result.summary) <= 160
    assert result.pdf_url == f"/api/v1/payslips/{result.payslip_id}/pdf"
    assert (result.period, result.employee_id) == ("2026-10", team.employee.id)
    codes = {line.code: line for line in result.lines}
    assert codes["paye"].amount == Decimal("15269.60")
    assert codes["paye"].rule == "KE/PAYE/2023-07-01"
    assert "tax_charged" not in codes  # working figures stay out of the payslip lines
    assert result.employer_contributions == Decimal("6375.00")
    # Hr names the employee; the summary says whose payslip it is.
    theirs = run_tool(session, team.actor("hr"), "fetch_payslip", {"employee_id": team.employee.id})
    assert theirs.summary.startswith(f"{team.employee.full_name}'s October 2026 payslip")


def test_a_month_without_a_payslip_is_not_found(session: Session, team: Team) -> None:
    with pytest.raises(NotFound) as err:
        run_tool(session, team.actor("employee"), "fetch_payslip", {"month": "2026-09"})
    assert err.value.code == "payslip_not_found"
    assert err.value.message == "There is no payslip for September 2026 yet."
    assert run_tool(session, team.actor("employee"), "list_payslips", {}).payslips == []


def test_list_payslips_newest_first_and_only_ones_own(session: Session, team: Team) -> None:
    for month in ("2026-09", "2026-10"):
        run_tool(session, team.actor("hr"), "run_payroll", {"month": month, "finalize": True})
    run_tool(session, team.actor("hr"), "run_payroll", {"month": "2026-11"})  # a draft
    listed = run_tool(session, team.actor("supervisor"), "list_payslips", {})
    assert [p.period for p in listed.payslips] == ["2026-10", "2026-09"]
    assert listed.summary == "2 payslips; the latest, October 2026: net KES 61,017.90."
    assert run_tool(session, team.actor("hr"), "list_payslips", {"year": 2025}).payslips == []
    with pytest.raises(Forbidden) as err:
        run_tool(
            session, team.actor("supervisor"), "list_payslips", {"employee_id": team.employee.id}
        )
    assert err.value.code == "own_payslips_only"


def test_salary_preview_uses_the_organizations_country(session: Session, team: Team) -> None:
    result = run_tool(session, team.actor("employee"), "salary_preview", {"gross": "120000"})
    expected = preview("KE", gross=Decimal(120000), pay_date=date(2026, 11, 23))
    assert (result.net_pay, result.paye, result.currency) == (
        expected.net_pay,
        expected.paye,
        "KES",
    )
    assert "net pay KES" in result.summary
    assert not get_tool("salary_preview").changes_state
    tz = Team(session, country="TZ")
    tz_result = run_tool(session, tz.actor("employee"), "salary_preview", {"gross": "1500000"})
    assert tz_result.currency == "TZS"
    assert session.scalar(select(func.count()).select_from(PayrollRun)) == 0


def test_the_tools_over_rest(session: Session, team: Team) -> None:
    client = TestClient(create_app(), raise_server_exceptions=False)
    response = client.post(
        "/api/v1/tools/run_payroll",
        json={"month": "2026-10", "finalize": True},
        headers=bearer(team.hr),
    )
    assert response.status_code == 200, response.text
    response = client.post("/api/v1/tools/fetch_payslip", json={}, headers=bearer(team.employee))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["net_pay"] == "61017.90"
    pdf = client.get(body["pdf_url"], headers=bearer(team.employee))
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    listed = client.get("/api/v1/payslips", headers=bearer(team.employee)).json()
    assert [p["payslip_id"] for p in listed["payslips"]] == [body["payslip_id"]]


def test_the_demo_seed_gives_john_last_months_payslip(session: Session) -> None:
    seed_demo(session, password="demo-pass-2026")
    seed_demo(session, password="demo-pass-2026")  # idempotent: no second run, no new salary
    demo = session.scalar(select(Organization).where(Organization.slug == "demo"))
    assert demo is not None
    runs = session.scalars(select(PayrollRun).where(PayrollRun.organization_id == demo.id)).all()
    assert [(r.month, r.status) for r in runs] == [("2026-10", RunStatus.FINALIZED)]
    assert runs[0].warnings == []
    john = session.scalar(select(User).where(User.email == "john@demo.ajira.test"))
    assert john is not None
    result = run_tool(session, actor_for(john, Channel.TELEGRAM), "fetch_payslip", {})
    assert result.summary == (
        "October 2026 payslip: gross KES 85,000, deductions KES 25,982.10, net KES 59,017.90."
    )
    assert result.employee_name == "John Kamau"
    assert result.pdf_url.endswith("/pdf")
    neema = session.scalar(select(User).where(User.email == "neema@acme-tz.ajira.test"))
    assert neema is not None
    assert run_tool(session, actor_for(neema), "fetch_payslip", {}).currency == "TZS"
