"""The payroll computation engine: one month's pay for one employee, line by line.

CONTRACT (other payroll modules build on these names and signatures):
`Earning`, `Deduction`, `Line`, `Computation`, `compute(...)`, `preview(...)`; also
`currency(country)`, `to_jsonable(computation)` and `money(amount)`.

- Money is `Decimal` everywhere (int is accepted, float refused), at most two decimals in,
  and every line is rounded to the cent, half up, as KRA's and TRA's calculators show it.
- Every line names the dated rule entry that produced it (`rule`, e.g. "KE/PAYE/2023-07-01");
  lines taken from the salary structure say `INPUT_RULE` ("input").
- Line kinds: "earning"; "deduction" (statutory, voluntary and PAYE: they sum to
  `total_deductions`); "employer_contribution" (they and gross sum to `employer_cost`);
  "relief" (what reduced PAYE); "info" (taxable pay, tax per band, tax before reliefs...).
- `net_pay + total_deductions == gross`; PAYE is never negative.
- Errors are `hrcore.errors.Invalid` with codes `unknown_country`, `no_rules_for_date`,
  `invalid_date`, `invalid_amount` (negative, not exact, more than cents, above 100,000,000 a
  month, or a zero gross), `no_earnings` and `deductions_exceed_pay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from hrcore.errors import Invalid
from hrcore.payroll.rules import (
    COUNTRIES,
    Band,
    BandedHealthRule,
    CappedPensionRule,
    Country,
    FlatHealthRule,
    KenyaTaxTreatmentRule,
    LevyRule,
    PayeRule,
    Rule,
    TieredPensionRule,
)

LineKind = Literal["earning", "deduction", "employer_contribution", "relief", "info"]


@dataclass(frozen=True)
class Earning:
    """One earning for the month (basic pay, an allowance...)."""

    code: str
    label: str
    amount: Decimal
    taxable: bool = True
    pensionable: bool = True


@dataclass(frozen=True)
class Deduction:
    """A voluntary or other deduction from the salary structure (pension before tax, loan after)."""

    code: str
    label: str
    amount: Decimal
    before_tax: bool = False


@dataclass(frozen=True)
class Line:
    """One figure of the computation and the dated rule entry that produced it."""

    kind: LineKind
    code: str
    label: str
    amount: Decimal
    rule: str
    basis: Decimal | None = None
    rate: Decimal | None = None


@dataclass(frozen=True)
class Computation:
    """One employee's month: totals and every line behind them."""

    country: str
    pay_date: date
    currency: str
    gross: Decimal
    taxable_pay: Decimal
    paye: Decimal
    total_deductions: Decimal
    net_pay: Decimal
    employer_cost: Decimal
    lines: tuple[Line, ...]


CENT = Decimal("0.01")
#: Above this a monthly amount is taken for a typing slip, not a salary.
MAX_MONTHLY_AMOUNT = Decimal("100000000")
#: The `rule` of lines that come from the salary structure rather than a statute.
INPUT_RULE = "input"


def money(amount: Decimal) -> Decimal:
    """Round to the cent, half up, as KRA's and TRA's calculators show figures."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def currency(country: str) -> str:
    """The currency payroll in `country` is paid in (KES, TZS)."""
    return _country(country).currency


def compute(
    country: str,
    *,
    pay_date: date,
    earnings: Sequence[Earning],
    deductions: Sequence[Deduction] = (),
    employer_headcount: int | None = None,
) -> Computation:
    """Compute a month's pay under the statutory rules in force on `pay_date`.

    Amounts are monthly, in the country's currency, with at most two decimals.
    `employer_headcount` decides levies that depend on the employer's size (Tanzania's SDL);
    None assumes the employer is liable.
    """
    spec = _country(country)
    _check_date(pay_date, spec)
    earnings = tuple(earnings)
    deductions = tuple(deductions)
    if not earnings:
        raise Invalid("There is nothing to pay: add at least one earning.", code="no_earnings")
    items: tuple[Earning | Deduction, ...] = (*earnings, *deductions)
    for item in items:
        _check_amount(item.amount, item.label)
    gross = sum((e.amount for e in earnings), Decimal(0))
    _check_amount(gross, "Gross pay")
    if gross <= 0:
        raise Invalid("Gross pay must be more than zero.", code="invalid_amount")

    month = _Month(spec=spec, pay_date=pay_date, gross=gross, headcount=employer_headcount)
    for earning in earnings:
        month.add("earning", earning.code, earning.label, earning.amount, INPUT_RULE)
    pensionable = sum((e.amount for e in earnings if e.pensionable), Decimal(0))
    taxable_earnings = sum((e.amount for e in earnings if e.taxable), Decimal(0))
    if spec.code == "KE":
        _kenya(
            month, pensionable=pensionable, taxable_earnings=taxable_earnings, deductions=deductions
        )
    else:
        _tanzania(
            month, pensionable=pensionable, taxable_earnings=taxable_earnings, deductions=deductions
        )
    return month.finish()


def preview(country: str, *, gross: Decimal, pay_date: date) -> Computation:
    """Compute a month's pay for a single taxable, pensionable basic salary of `gross`."""
    return compute(
        country,
        pay_date=pay_date,
        earnings=(Earning(code="basic", label="Basic salary", amount=gross),),
    )


def to_jsonable(computation: Computation) -> dict[str, Any]:
    """The computation as plain JSON types, money and rates as exact decimal strings."""

    def plain(value: object) -> object:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    data = {k: plain(v) for k, v in asdict(computation).items() if k != "lines"}
    data["lines"] = [{k: plain(v) for k, v in asdict(line).items()} for line in computation.lines]
    return data


# --------------------------------------------------------------------------- internals


class _Month:
    """Collects the lines of one computation and sums them up."""

    def __init__(
        self, *, spec: Country, pay_date: date, gross: Decimal, headcount: int | None
    ) -> None:
        self.spec = spec
        self.pay_date = pay_date
        self.gross = gross
        self.headcount = headcount
        self.lines: list[Line] = []
        self.taxable_pay = Decimal(0)
        self.paye = Decimal(0)

    def rule(self, family: str) -> Rule | None:
        return self.spec.in_force(family, self.pay_date)

    def add(
        self,
        kind: LineKind,
        code: str,
        label: str,
        amount: Decimal,
        rule: str,
        *,
        basis: Decimal | None = None,
        rate: Decimal | None = None,
    ) -> Decimal:
        amount = money(amount)
        self.lines.append(Line(kind, code, label, amount, rule, basis=basis, rate=rate))
        return amount

    def finish(self) -> Computation:
        total_deductions = sum(
            (line.amount for line in self.lines if line.kind == "deduction"), Decimal(0)
        )
        employer = sum(
            (line.amount for line in self.lines if line.kind == "employer_contribution"), Decimal(0)
        )
        net = self.gross - total_deductions
        if net < 0:
            raise Invalid(
                f"The deductions ({total_deductions:,.2f}) are more than "
                f"the gross pay ({self.gross:,.2f}).",
                code="deductions_exceed_pay",
            )
        return Computation(
            country=self.spec.code,
            pay_date=self.pay_date,
            currency=self.spec.currency,
            gross=money(self.gross),
            taxable_pay=money(self.taxable_pay),
            paye=money(self.paye),
            total_deductions=money(total_deductions),
            net_pay=money(net),
            employer_cost=money(self.gross + employer),
            lines=tuple(self.lines),
        )


def _kenya(
    month: _Month,
    *,
    pensionable: Decimal,
    taxable_earnings: Decimal,
    deductions: tuple[Deduction, ...],
) -> None:
    pension = _pension(month, pensionable)

    health_rule = month.rule("health")
    if isinstance(health_rule, FlatHealthRule):
        health = month.add(
            "deduction",
            "shif",
            "SHIF",
            max(month.gross * health_rule.rate, health_rule.minimum),
            health_rule.id,
            basis=money(month.gross),
            rate=health_rule.rate,
        )
    elif isinstance(health_rule, BandedHealthRule):
        contribution = next(
            amount for low, amount in reversed(health_rule.brackets) if month.gross >= low
        )
        health = month.add(
            "deduction", "nhif", "NHIF", contribution, health_rule.id, basis=money(month.gross)
        )
    else:  # pragma: no cover - "health" is a required family
        raise AssertionError("no health rule")

    housing = Decimal(0)
    housing_rule = month.rule("housing")
    if isinstance(housing_rule, LevyRule):
        housing = month.add(
            "deduction",
            "ahl",
            "Affordable Housing Levy",
            month.gross * housing_rule.employee_rate,
            housing_rule.id,
            basis=money(month.gross),
            rate=housing_rule.employee_rate,
        )

    before_tax = _voluntary(month, deductions, before_tax=True)

    treatment = month.rule("tax_treatment")
    assert isinstance(treatment, KenyaTaxTreatmentRule)
    allowable = min(pension + before_tax, treatment.pension_cap)
    if treatment.health_deductible:
        allowable += health
    if treatment.housing_deductible:
        allowable += housing
    month.add("info", "allowable_deductions", "Deductible before PAYE", allowable, treatment.id)

    paye_rule = month.rule("paye")
    assert isinstance(paye_rule, PayeRule)
    month.taxable_pay = max(taxable_earnings - allowable, Decimal(0))
    tax = _tax(month, paye_rule)

    remaining = tax
    for code, label, relief, rule_id, basis, rate in (
        ("personal_relief", "Personal relief", paye_rule.personal_relief, paye_rule.id, None, None),
        (
            "insurance_relief",
            f"Insurance relief ({health_rule.scheme})",
            min(health * treatment.insurance_relief_rate, treatment.insurance_relief_cap),
            treatment.id,
            health,
            treatment.insurance_relief_rate,
        ),
        (
            "housing_relief",
            "Affordable housing relief",
            housing * treatment.housing_relief_rate,
            treatment.id,
            housing,
            treatment.housing_relief_rate,
        ),
    ):
        # A relief only reduces tax; what is left over is lost, never paid out.
        granted = min(money(relief), remaining)
        if granted > 0:
            remaining -= month.add("relief", code, label, granted, rule_id, basis=basis, rate=rate)
    month.paye = month.add(
        "deduction", "paye", "PAYE", remaining, paye_rule.id, basis=money(month.taxable_pay)
    )

    _voluntary(month, deductions, before_tax=False)
    _employer_pension(month, pensionable)
    if isinstance(housing_rule, LevyRule):
        month.add(
            "employer_contribution",
            "ahl_employer",
            "Affordable Housing Levy (employer)",
            month.gross * housing_rule.employer_rate,
            housing_rule.id,
            basis=money(month.gross),
            rate=housing_rule.employer_rate,
        )


def _tanzania(
    month: _Month,
    *,
    pensionable: Decimal,
    taxable_earnings: Decimal,
    deductions: tuple[Deduction, ...],
) -> None:
    pension = _pension(month, pensionable)
    before_tax = _voluntary(month, deductions, before_tax=True)
    paye_rule = month.rule("paye")
    assert isinstance(paye_rule, PayeRule)
    # Contributions to approved retirement funds (NSSF and voluntary ones) are deducted in full.
    allowable = pension + before_tax
    month.add("info", "allowable_deductions", "Deductible before PAYE", allowable, paye_rule.id)
    month.taxable_pay = max(taxable_earnings - allowable, Decimal(0))
    tax = _tax(month, paye_rule)
    month.paye = month.add(
        "deduction", "paye", "PAYE", tax, paye_rule.id, basis=money(month.taxable_pay)
    )
    _voluntary(month, deductions, before_tax=False)
    _employer_pension(month, pensionable)
    for family, code, label in (
        ("sdl", "sdl", "Skills Development Levy"),
        ("wcf", "wcf", "Workers Compensation Fund"),
    ):
        levy = month.rule(family)
        assert isinstance(levy, LevyRule)
        if (
            levy.min_employees is not None
            and month.headcount is not None
            and month.headcount < levy.min_employees
        ):
            month.add(
                "info",
                code,
                f"{label}: not due below {levy.min_employees} employees",
                Decimal(0),
                levy.id,
            )
            continue
        month.add(
            "employer_contribution",
            code,
            label,
            month.gross * levy.employer_rate,
            levy.id,
            basis=money(month.gross),
            rate=levy.employer_rate,
        )


def _pension(month: _Month, pensionable: Decimal) -> Decimal:
    """Add the employee's statutory pension lines; return their total."""
    rule = month.rule("pension")
    total = Decimal(0)
    if isinstance(rule, TieredPensionRule):
        for code, label, basis in _tiers(rule, pensionable):
            total += month.add(
                "deduction",
                code,
                label,
                basis * rule.employee_rate,
                rule.id,
                basis=basis,
                rate=rule.employee_rate,
            )
    elif isinstance(rule, CappedPensionRule):
        amount = pensionable * rule.employee_rate
        if rule.employee_cap is not None:
            amount = min(amount, rule.employee_cap)
        total += month.add(
            "deduction",
            "nssf",
            "NSSF",
            amount,
            rule.id,
            basis=money(pensionable),
            rate=rule.employee_rate,
        )
    return total


def _employer_pension(month: _Month, pensionable: Decimal) -> None:
    rule = month.rule("pension")
    if isinstance(rule, TieredPensionRule):
        for code, label, basis in _tiers(rule, pensionable):
            month.add(
                "employer_contribution",
                f"{code}_employer",
                f"{label} (employer)",
                basis * rule.employer_rate,
                rule.id,
                basis=basis,
                rate=rule.employer_rate,
            )
    elif isinstance(rule, CappedPensionRule):
        amount = pensionable * rule.employer_rate
        if rule.employer_cap is not None:
            amount = min(amount, rule.employer_cap)
        month.add(
            "employer_contribution",
            "nssf_employer",
            "NSSF (employer)",
            amount,
            rule.id,
            basis=money(pensionable),
            rate=rule.employer_rate,
        )


def _tiers(rule: TieredPensionRule, pensionable: Decimal) -> list[tuple[str, str, Decimal]]:
    """Tier I up to the lower earnings limit, tier II from it up to the upper one."""
    tier1 = min(pensionable, rule.lower_limit)
    tier2 = max(min(pensionable, rule.upper_limit) - rule.lower_limit, Decimal(0))
    return [
        ("nssf_tier1", "NSSF tier I", money(tier1)),
        ("nssf_tier2", "NSSF tier II", money(tier2)),
    ]


def _voluntary(month: _Month, deductions: tuple[Deduction, ...], *, before_tax: bool) -> Decimal:
    total = Decimal(0)
    for item in deductions:
        if item.before_tax == before_tax:
            total += month.add("deduction", item.code, item.label, item.amount, INPUT_RULE)
    return total


def _tax(month: _Month, rule: PayeRule) -> Decimal:
    """Add one info line per band used and the tax charged; return the tax charged."""
    taxable = month.taxable_pay
    month.add("info", "taxable_pay", "Taxable pay", taxable, rule.id)
    tax = Decimal(0)
    lower = Decimal(0)
    for number, band in enumerate(rule.bands, start=1):
        top = taxable if band.upper is None else min(taxable, band.upper)
        if top <= lower:
            break
        if band.rate:
            slice_ = top - lower
            tax += month.add(
                "info",
                f"paye_band_{number}",
                _band_label(band, lower),
                slice_ * band.rate,
                rule.id,
                basis=money(slice_),
                rate=band.rate,
            )
        if band.upper is None:
            break
        lower = band.upper
    month.add("info", "tax_charged", "Tax before reliefs", tax, rule.id, basis=money(taxable))
    return tax


def _band_label(band: Band, lower: Decimal) -> str:
    rate = f"{band.rate * 100:f}".rstrip("0").rstrip(".") + "%"
    if band.upper is None:
        return f"Tax at {rate} above {lower:,.0f}"
    return f"Tax at {rate} from {lower:,.0f} to {band.upper:,.0f}"


def _country(country: str) -> Country:
    code = country.strip().upper() if isinstance(country, str) else ""
    spec = COUNTRIES.get(code)
    if spec is None:
        supported = ", ".join(f"{c.code} ({c.name})" for c in COUNTRIES.values())
        raise Invalid(
            f"Payroll rules exist for {supported} only, not {country!r}.", code="unknown_country"
        )
    return spec


def _check_date(pay_date: object, spec: Country) -> None:
    if not isinstance(pay_date, date) or isinstance(pay_date, datetime):
        raise Invalid("The pay date must be a calendar date (YYYY-MM-DD).", code="invalid_date")
    if pay_date < spec.first_date:
        raise Invalid(
            f"{spec.name} payroll rules start on {spec.first_date.isoformat()}; "
            f"there are none for {pay_date.isoformat()}.",
            code="no_rules_for_date",
        )


def _check_amount(amount: object, what: str) -> None:
    # bool is an int; a float would silently carry binary rounding into money.
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise Invalid(f"{what}: money must be an exact decimal amount.", code="invalid_amount")
    value = Decimal(amount)
    if not value.is_finite():
        raise Invalid(f"{what}: the amount is not a number.", code="invalid_amount")
    if value < 0:
        raise Invalid(f"{what}: the amount cannot be negative.", code="invalid_amount")
    if value > MAX_MONTHLY_AMOUNT:
        raise Invalid(
            f"{what}: {value:,.2f} a month is not a plausible amount "
            f"(the limit is {MAX_MONTHLY_AMOUNT:,.0f}).",
            code="invalid_amount",
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(CENT):
        raise Invalid(
            f"{what}: amounts are in cents at most (two decimals).", code="invalid_amount"
        )
