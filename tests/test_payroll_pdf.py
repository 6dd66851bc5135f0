"""The payslip PDF, the run exports (CSV) and their REST routes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.clock import frozen
from hrcore.errors import Conflict
from hrcore.payroll.export import export_run
from hrcore.payroll.models import PayrollRun, Payslip
from hrcore.payroll.pdf import latin1, render_payslip
from hrcore.payroll.runs import run_payroll
from hrcore.payroll.structures import set_salary_structure
from hrcore.people.models import User
from tests.factories import Team, bearer, make_department

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@dataclass
class Payrolled:
    team: Team
    run: PayrollRun
    slip: Payslip  # team.employee's


def payrolled(session: Session, team: Team, *, finalize: bool = True) -> Payrolled:
    hr = team.actor("hr")
    for i, name in enumerate(("admin", "hr", "supervisor", "employee", "teammate", "outsider")):
        user: User = getattr(team, name)
        set_salary_structure(
            session,
            hr,
            employee_id=user.id,
            basic_pay=Decimal(60000 + 10000 * i) if team.org.country == "KE" else Decimal(1500000),
            effective_from=date(2024, 1, 1),
            bank_account=f"01100{i}{user.id}",
        )
    run = run_payroll(session, hr, month="2026-10", finalize=finalize)
    slip = session.scalar(
        select(Payslip).where(Payslip.run_id == run.id, Payslip.employee_id == team.employee.id)
    )
    assert slip is not None
    return Payrolled(team, run, slip)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with frozen(NOW):
        yield


@pytest.fixture
def world(session: Session) -> Payrolled:
    team = Team(session, name="Jua Kali Foods Ltd")
    team.employee.full_name = "John Kamau"
    team.employee.department_id = make_department(session, team.org, "Production").id
    session.flush()
    return payrolled(session, team)


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), reader.pages[0].extract_text()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------ the PDF


def test_the_payslip_pdf_is_one_page_with_the_figures(session: Session, world: Payrolled) -> None:
    content = render_payslip(world.team.org, world.run, world.slip)
    assert content.startswith(b"%PDF-")
    pages, text = pdf_text(content)
    assert pages == 1
    for expected in (
        "Jua Kali Foods Ltd",
        "John Kamau",
        "October 2026",
        f"EMP-{world.team.employee.id:05d}",
        "Production",
        f"{world.slip.net_pay:,.2f}",
        f"{world.slip.gross:,.2f}",
        "PAYE",
        "Employer contributions",
        "KE/PAYE/2023-07-01",  # the footer names the rules used
    ):
        assert expected in text, expected
    assert "DRAFT" not in text


def test_a_draft_says_so_and_odd_names_still_render(session: Session) -> None:
    team = Team(session, name="Duka la Mama – Nairobi")
    team.employee.full_name = "Zoë Wanjikũ Ōtieno"
    session.flush()
    draft = payrolled(session, team, finalize=False)
    pages, text = pdf_text(render_payslip(team.org, draft.run, draft.slip))
    assert pages == 1
    assert "DRAFT" in text
    assert "Duka la Mama - Nairobi" in text
    assert "Zoë Wanjiku Otieno" in text
    assert latin1("a – b “c”") == 'a - b "c"'


def test_a_tanzanian_payslip_lists_the_employer_levies(session: Session) -> None:
    world = payrolled(session, Team(session, country="TZ"))
    _, text = pdf_text(render_payslip(world.team.org, world.run, world.slip))
    assert "TZS" in text
    assert "Workers Compensation Fund" in text
    # Six employees: below the headcount from which SDL is due.
    assert "Skills Development Levy" not in text


# ------------------------------------------------------------------ the PDF route


def test_the_pdf_route_climbs_the_ladder(
    client: TestClient, session: Session, world: Payrolled
) -> None:
    url = f"/api/v1/payslips/{world.slip.id}/pdf"
    team = world.team
    assert client.get(url).status_code == 401
    for who in ("teammate", "supervisor"):  # a manager does not see a report's pay either
        response = client.get(url, headers=bearer(getattr(team, who)))
        assert response.status_code == 403, who
        assert response.json()["code"] == "own_payslips_only"
    other = Team(session)
    response = client.get(url, headers=bearer(other.hr))
    assert response.status_code == 404
    assert response.json()["code"] == "payslip_not_found"
    assert client.get("/api/v1/payslips/999999999/pdf", headers=bearer(team.hr)).status_code == 404
    for who in ("employee", "hr", "admin"):
        response = client.get(url, headers=bearer(getattr(team, who)))
        assert response.status_code == 200, who
        assert response.headers["content-type"] == "application/pdf"
        assert "no-store" in response.headers["cache-control"]
        assert "John Kamau" in pdf_text(response.content)[1]


def test_an_unissued_payslip_is_not_found_for_its_employee(
    client: TestClient, session: Session
) -> None:
    team = Team(session)
    draft = payrolled(session, team, finalize=False)
    url = f"/api/v1/payslips/{draft.slip.id}/pdf"
    assert client.get(url, headers=bearer(team.employee)).status_code == 404
    assert client.get(url, headers=bearer(team.hr)).status_code == 200


# ------------------------------------------------------------------ exports


def test_the_bank_export_pays_each_net_with_a_total(session: Session, world: Payrolled) -> None:
    name, text = export_run(
        session, world.team.actor("hr"), run_id=world.run.id, export_format="bank"
    )
    assert name == f"{world.team.org.slug}-payroll-2026-10-bank.csv"
    table = rows(text)
    assert list(table[0]) == [
        "staff_number",
        "employee_name",
        "bank_account",
        "currency",
        "net_pay",
        "reference",
    ]
    people, total = table[:-1], table[-1]
    assert len(people) == 6
    john = next(r for r in people if r["employee_name"] == "John Kamau")
    assert john["net_pay"] == f"{world.slip.net_pay:.2f}"
    assert john["bank_account"] == world.slip.bank_account
    assert john["reference"] == f"SAL 2026-10 EMP-{world.team.employee.id:05d}"
    assert total["staff_number"] == "TOTAL"
    assert Decimal(total["net_pay"]) == sum(Decimal(r["net_pay"]) for r in people)
    assert Decimal(total["net_pay"]) == world.run.total_net


def test_the_kenyan_statutory_export_has_each_contribution_and_totals(
    session: Session, world: Payrolled
) -> None:
    _, text = export_run(
        session, world.team.actor("admin"), run_id=world.run.id, export_format="statutory"
    )
    table = rows(text)
    assert list(table[0]) == [
        "staff_number",
        "employee_name",
        "gross_pay",
        "taxable_pay",
        "paye",
        "nssf_employee",
        "nssf_employer",
        "shif",
        "ahl_employee",
        "ahl_employer",
    ]
    john = next(r for r in table if r["employee_name"] == "John Kamau")
    lines = {line["code"]: Decimal(line["amount"]) for line in world.slip.lines}
    assert Decimal(john["paye"]) == world.slip.paye == lines["paye"]
    assert Decimal(john["nssf_employee"]) == lines["nssf_tier1"] + lines["nssf_tier2"]
    assert Decimal(john["shif"]) == lines["shif"]
    assert Decimal(john["ahl_employer"]) == lines["ahl_employer"]
    total = table[-1]
    for column in ("gross_pay", "paye", "nssf_employer", "shif", "ahl_employee"):
        assert Decimal(total[column]) == sum(Decimal(r[column]) for r in table[:-1]), column
    assert Decimal(total["gross_pay"]) == world.run.total_gross


def test_the_tanzanian_statutory_export_has_sdl_and_wcf(session: Session) -> None:
    world = payrolled(session, Team(session, country="TZ"))
    _, text = export_run(
        session, world.team.actor("hr"), run_id=world.run.id, export_format="statutory"
    )
    table = rows(text)
    assert list(table[0])[2:] == [
        "gross_pay",
        "taxable_pay",
        "paye",
        "nssf_employee",
        "nssf_employer",
        "sdl",
        "wcf",
    ]
    lines = {line["code"]: Decimal(line["amount"]) for line in world.slip.lines}
    row = next(r for r in table if r["staff_number"] == f"EMP-{world.team.employee.id:05d}")
    assert (Decimal(row["sdl"]), Decimal(row["wcf"])) == (lines["sdl"], lines["wcf"])
    assert Decimal(table[-1]["wcf"]) == 6 * lines["wcf"]


def test_a_draft_is_not_exported(session: Session) -> None:
    team = Team(session)
    draft = payrolled(session, team, finalize=False)
    with pytest.raises(Conflict) as err:
        export_run(session, team.actor("hr"), run_id=draft.run.id, export_format="bank")
    assert err.value.code == "run_not_final"


def test_a_spreadsheet_formula_in_a_name_is_neutralised(session: Session) -> None:
    team = Team(session)
    team.employee.full_name = "=HYPERLINK(1)"
    session.flush()
    world = payrolled(session, team)
    _, text = export_run(session, team.actor("hr"), run_id=world.run.id, export_format="bank")
    assert "'=HYPERLINK(1)" in text


@pytest.mark.parametrize(
    ("who", "fmt", "status", "code"),
    [
        (None, "bank", 401, "unauthenticated"),
        ("employee", "bank", 403, "forbidden"),
        ("supervisor", "statutory", 403, "forbidden"),
        ("other_hr", "bank", 404, "payroll_run_not_found"),
        ("hr", "excel", 422, None),
    ],
)
def test_the_export_route_refuses(
    client: TestClient,
    session: Session,
    world: Payrolled,
    who: str | None,
    fmt: str,
    status: int,
    code: str | None,
) -> None:
    headers: dict[str, Any] = {}
    if who == "other_hr":
        headers = bearer(Team(session).hr)
    elif who:
        headers = bearer(getattr(world.team, who))
    response = client.get(
        f"/api/v1/payroll-runs/{world.run.id}/export", params={"format": fmt}, headers=headers
    )
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code


@pytest.mark.parametrize("fmt", ["bank", "statutory"])
def test_the_export_route_answers_csv(client: TestClient, world: Payrolled, fmt: str) -> None:
    response = client.get(
        f"/api/v1/payroll-runs/{world.run.id}/export",
        params={"format": fmt},
        headers=bearer(world.team.hr),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"2026-10-{fmt}.csv" in response.headers["content-disposition"]
    assert rows(response.text)[-1]["staff_number"] == "TOTAL"


def test_the_run_route_shows_progress_and_totals(client: TestClient, world: Payrolled) -> None:
    url = f"/api/v1/payroll-runs/{world.run.id}"
    assert client.get(url, headers=bearer(world.team.employee)).status_code == 403
    body = client.get(url, headers=bearer(world.team.admin)).json()
    assert (body["status"], body["employee_count"], body["employees_done"]) == (
        "finalized",
        6,
        6,
    )
    assert Decimal(body["totals"]["net"]) == world.run.total_net
