"""`ajira payroll preview`: the calculator on the command line, as a table and as JSON."""

import json
from decimal import Decimal

import pytest
import typer
from typer.testing import CliRunner

from api.commands.payroll import register


@pytest.fixture
def cli() -> typer.Typer:
    """An `ajira`-like app with the payroll commands registered the way api/cli.py does."""
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Ajira."""

    register(app)
    return app


@pytest.fixture
def runner() -> CliRunner:
    # Wide enough that rich never wraps a rule name or an amount.
    return CliRunner(env={"COLUMNS": "200"})


def run(runner: CliRunner, cli: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["payroll", "preview", *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_shows_every_line_and_the_totals(runner: CliRunner, cli: typer.Typer) -> None:
    """KES 100,000 on 2026-11-30, by hand: NSSF 540 + 5,460; SHIF 2,750; AHL 1,500.

    Taxable 100,000 - 10,250 = 89,750; tax 2,400 + 2,083.25 + 57,417 x 30% = 21,708.35;
    PAYE 19,308.35; deductions 29,558.35; net 70,441.65; employer cost 107,500.
    """
    code, out, _ = run(runner, cli, "--country", "KE", "--gross", "100000", "--date", "2026-11-30")
    assert code == 0
    assert "Kenya payroll preview for 2026-11-30 (KES)" in out
    for kind, label, amount, rule in (
        ("earning", "Basic salary", "100,000.00", "input"),
        ("deduction", "NSSF tier I", "540.00", "KE/NSSF/2026-02-01"),
        ("deduction", "NSSF tier II", "5,460.00", "KE/NSSF/2026-02-01"),
        ("deduction", "SHIF", "2,750.00", "KE/SHIF/2024-10-01"),
        ("deduction", "Affordable Housing Levy", "1,500.00", "KE/AHL/2024-03-19"),
        ("info", "Deductible before PAYE", "10,250.00", "KE/TAX/2024-12-27"),
        ("relief", "Personal relief", "2,400.00", "KE/PAYE/2023-07-01"),
        ("deduction", "PAYE", "19,308.35", "KE/PAYE/2023-07-01"),
        ("employer", "NSSF tier II (employer)", "5,460.00", "KE/NSSF/2026-02-01"),
    ):
        row = next((r for r in out.splitlines() if f" {label} " in r and kind in r), None)
        assert row is not None, f"no {kind} row for {label!r} in:\n{out}"
        assert amount in row
        assert rule in row
    assert "2.75%" in out  # the rate column
    assert "91,000.00" in out  # tier II basis
    for total, value in (
        ("Gross pay", "KES 100,000.00"),
        ("PAYE", "KES 19,308.35"),
        ("Total deductions", "KES 29,558.35"),
        ("Net pay", "KES 70,441.65"),
        ("Employer cost", "KES 107,500.00"),
    ):
        assert any(total in r and value in r for r in out.splitlines()), total


def test_json_output_is_the_computation_with_decimal_strings(
    runner: CliRunner, cli: typer.Typer
) -> None:
    """aren.biz (PAYE rates from July 2021): TZS 1,000,000 gross -> NSSF 100,000, PAYE 103,000."""
    code, out, _ = run(
        runner, cli, "--country", "tz", "--gross", "1,000,000", "--date", "2024-06-30", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["country"] == "TZ"
    assert data["currency"] == "TZS"
    assert data["pay_date"] == "2024-06-30"
    assert data["gross"] == "1000000.00"
    assert data["paye"] == "103000.00"
    assert data["net_pay"] == "797000.00"
    assert data["employer_cost"] == "1140000.00"
    by_code = {line["code"]: line for line in data["lines"]}
    assert by_code["nssf"]["amount"] == "100000.00"
    assert by_code["nssf"]["rate"] == "0.10"
    assert by_code["sdl"] == {
        "kind": "employer_contribution",
        "code": "sdl",
        "label": "Skills Development Levy",
        "amount": "35000.00",
        "rule": "TZ/SDL/2023-07-01",
        "basis": "1000000.00",
        "rate": "0.035",
    }
    # Every amount is an exact decimal string, and the lines add up.
    deductions = sum(Decimal(ln["amount"]) for ln in data["lines"] if ln["kind"] == "deduction")
    assert deductions == Decimal(data["total_deductions"])


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--country", "UG", "--gross", "100000", "--date", "2025-06-30"), "unknown_country"),
        (("--country", "KE", "--gross", "-5", "--date", "2025-06-30"), "invalid_amount"),
        (("--country", "KE", "--gross", "lots", "--date", "2025-06-30"), "invalid_amount"),
        (("--country", "KE", "--gross", "1e9", "--date", "2025-06-30"), "invalid_amount"),
        (("--country", "KE", "--gross", "100000", "--date", "30/06/2025"), "invalid_date"),
        (("--country", "KE", "--gross", "100000", "--date", "2025-02-30"), "invalid_date"),
        (("--country", "KE", "--gross", "100000", "--date", "2010-01-31"), "no_rules_for_date"),
    ],
)
def test_bad_input_is_one_line_with_its_code(
    runner: CliRunner, cli: typer.Typer, args: tuple[str, ...], code: str
) -> None:
    exit_code, out, err = run(runner, cli, *args)
    assert exit_code == 1
    assert out == ""
    assert f"({code})" in err
    assert len(err.strip().splitlines()) == 1


def test_the_ajira_command_line_has_the_calculator(runner: CliRunner) -> None:
    """Same engine through the real `ajira` app: 100,000 on 2026-11-30 nets 70,441.65."""
    from api.cli import app

    result = runner.invoke(
        app,
        [
            "payroll",
            "preview",
            "--country",
            "KE",
            "--gross",
            "100000",
            "--date",
            "2026-11-30",
            "--json",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["net_pay"] == "70441.65"
