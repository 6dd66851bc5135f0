"""`ajira payroll preview`: the payroll calculator, on no real employee."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from hrcore.errors import Invalid
from hrcore.payroll.engine import Computation, preview, to_jsonable
from hrcore.payroll.rules import COUNTRIES

payroll = typer.Typer(
    help="Payroll: compute a month's pay under the statutory rules of a given date.",
    no_args_is_help=True,
)

KIND_LABELS = {
    "earning": "earning",
    "deduction": "deduction",
    "employer_contribution": "employer",
    "relief": "relief",
    "info": "info",
}


def register(app: typer.Typer) -> None:
    """Add the `payroll` command group to the `ajira` command line."""
    app.add_typer(payroll, name="payroll")


@payroll.command("preview")
def preview_command(
    country: Annotated[str, typer.Option(help=f"Country code: {', '.join(COUNTRIES)}.")],
    gross: Annotated[str, typer.Option(help="Monthly gross pay, e.g. 100000 or 85000.50.")],
    pay_date: Annotated[str, typer.Option("--date", help="Pay date, YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the computation as JSON.")] = False,
) -> None:
    """Print every line of one month's pay for a gross salary (nothing is stored)."""
    # Imported here: api.cli registers this module while it is itself being imported.
    from api.cli import failing, out

    with failing():
        computation = preview(country, gross=_amount(gross), pay_date=_date(pay_date))
        if as_json:
            typer.echo(json.dumps(to_jsonable(computation), indent=2))
            return
        console = out()
        console.print(_lines_table(computation))
        console.print(_totals_table(computation))


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise Invalid(f"{text!r} is not an amount.", code="invalid_amount") from None
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"{text!r} is not a date in the form YYYY-MM-DD.", code="invalid_date"
        ) from None


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _rate(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value * 100:f}".rstrip("0").rstrip(".") + "%"


def _lines_table(computation: Computation) -> Table:
    name = COUNTRIES[computation.country].name
    when = computation.pay_date.isoformat()
    table = Table(title=f"{name} payroll preview for {when} ({computation.currency})")
    table.add_column("kind")
    table.add_column("label")
    table.add_column("basis", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("amount", justify="right")
    table.add_column("rule", no_wrap=True)
    for line in computation.lines:
        table.add_row(
            KIND_LABELS[line.kind],
            line.label,
            _money(line.basis),
            _rate(line.rate),
            _money(line.amount),
            line.rule,
        )
    return table


def _totals_table(computation: Computation) -> Table:
    table = Table(title="Totals", show_header=False)
    table.add_column("total")
    table.add_column("amount", justify="right")
    for label, value in (
        ("Gross pay", computation.gross),
        ("Taxable pay", computation.taxable_pay),
        ("PAYE", computation.paye),
        ("Total deductions", computation.total_deductions),
        ("Net pay", computation.net_pay),
        ("Employer cost", computation.employer_cost),
    ):
        table.add_row(label, f"{computation.currency} {value:,.2f}")
    return table
