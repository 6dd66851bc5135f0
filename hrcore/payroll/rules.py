"""Statutory payroll rules for Kenya and Tanzania mainland, as dated data.

A rule change is a new dated entry, never an edit of an old one: for each rule family
the engine takes the entry with the latest `effective` date on or before the pay date.
Every entry names its source next to it. All bands are monthly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

D = Decimal
ZERO = Decimal(0)


@dataclass(frozen=True)
class Rule:
    """One dated entry of one rule family in one country."""

    country: str
    family: str
    effective: date
    scheme: str
    source: str

    @property
    def id(self) -> str:
        """The name a payslip line cites, e.g. "KE/PAYE/2023-07-01"."""
        return f"{self.country}/{self.scheme}/{self.effective.isoformat()}"


@dataclass(frozen=True)
class Band:
    """A slice of monthly taxable pay: up to `upper` (None for the rest) at `rate`."""

    upper: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class PayeRule(Rule):
    """Progressive monthly PAYE bands and the monthly personal relief."""

    bands: tuple[Band, ...] = ()
    personal_relief: Decimal = ZERO


@dataclass(frozen=True)
class FlatHealthRule(Rule):
    """A health contribution that is a percentage of gross pay with a monthly minimum (SHIF)."""

    rate: Decimal = ZERO
    minimum: Decimal = ZERO


@dataclass(frozen=True)
class BandedHealthRule(Rule):
    """A health contribution looked up in a table of gross pay brackets (NHIF).

    `brackets` are (lowest gross of the bracket, contribution), in ascending order.
    """

    brackets: tuple[tuple[Decimal, Decimal], ...] = ()


@dataclass(frozen=True)
class TieredPensionRule(Rule):
    """NSSF Act 2013 tiers: tier I up to the lower earnings limit, tier II up to the upper one."""

    lower_limit: Decimal = ZERO
    upper_limit: Decimal = ZERO
    employee_rate: Decimal = ZERO
    employer_rate: Decimal = ZERO


@dataclass(frozen=True)
class CappedPensionRule(Rule):
    """A pension contribution at a rate of pensionable pay, each side optionally capped."""

    employee_rate: Decimal = ZERO
    employer_rate: Decimal = ZERO
    employee_cap: Decimal | None = None
    employer_cap: Decimal | None = None


@dataclass(frozen=True)
class LevyRule(Rule):
    """A levy at a rate of gross pay, split between employee and employer."""

    employee_rate: Decimal = ZERO
    employer_rate: Decimal = ZERO
    #: The levy applies only to employers with at least this many employees (Tanzania's SDL).
    min_employees: int | None = None


@dataclass(frozen=True)
class KenyaTaxTreatmentRule(Rule):
    """Which Kenyan contributions reduce taxable pay, and which earn a relief instead."""

    pension_cap: Decimal = ZERO
    health_deductible: bool = False
    housing_deductible: bool = False
    insurance_relief_rate: Decimal = ZERO
    insurance_relief_cap: Decimal = ZERO
    housing_relief_rate: Decimal = ZERO


def _d(iso: str) -> date:
    return date.fromisoformat(iso)


# --------------------------------------------------------------------------- Kenya

KE_RULES: tuple[Rule, ...] = (
    # PAYE --------------------------------------------------------------------
    PayeRule(
        "KE",
        "paye",
        _d("2018-01-01"),
        "PAYE",
        # Finance Act 2017 (bands widened 10%): annual 147,580 / 139,043 x3, relief 16,896;
        # KRA's monthly table; calculator.co.ke/kra-income-tax-brackets-rates,
        # wingupay.com/PAYERates.
        source="Finance Act 2017, in force 1 January 2018",
        bands=(
            Band(D("12298"), D("0.10")),
            Band(D("23885"), D("0.15")),
            Band(D("35472"), D("0.20")),
            Band(D("47059"), D("0.25")),
            Band(None, D("0.30")),
        ),
        personal_relief=D("1408"),
    ),
    PayeRule(
        "KE",
        "paye",
        _d("2020-04-25"),
        "PAYE",
        # Tax Laws (Amendment) Act 2020 (COVID-19 relief), commenced 25 April 2020;
        # KRA notice via pna.co.ke/?p=1114 and krestonkm.com (2021-01-06).
        source="Tax Laws (Amendment) Act 2020, commenced 25 April 2020",
        bands=(
            Band(D("24000"), D("0.10")),
            Band(D("40667"), D("0.15")),
            Band(D("57334"), D("0.20")),
            Band(None, D("0.25")),
        ),
        personal_relief=D("2400"),
    ),
    PayeRule(
        "KE",
        "paye",
        _d("2021-01-01"),
        "PAYE",
        # Finance Act 2020 restored the top rate from January 2021;
        # wingupay.com/PAYERates (2021/22).
        source="Finance Act 2020, in force 1 January 2021",
        bands=(
            Band(D("24000"), D("0.10")),
            Band(D("32333"), D("0.25")),
            Band(None, D("0.30")),
        ),
        personal_relief=D("2400"),
    ),
    PayeRule(
        "KE",
        "paye",
        _d("2023-07-01"),
        "PAYE",
        # Finance Act 2023: 24,000 @10%, next 8,333 @25%, next 467,667 @30%, next 300,000 @32.5%,
        # above 800,000 @35%; hcm.co.ke/paye.html, wingupay.com/PAYERates.
        source="Finance Act 2023, in force 1 July 2023",
        bands=(
            Band(D("24000"), D("0.10")),
            Band(D("32333"), D("0.25")),
            Band(D("500000"), D("0.30")),
            Band(D("800000"), D("0.325")),
            Band(None, D("0.35")),
        ),
        personal_relief=D("2400"),
    ),
    # Health: NHIF's banded table, then SHIF ------------------------------------
    BandedHealthRule(
        "KE",
        "health",
        _d("2015-04-01"),
        "NHIF",
        # NHIF standard contribution rates (2015 revision); niftypayroll.com/nhif,
        # ronalds.co.ke (table unchanged until SHIF replaced NHIF).
        source="NHIF Act, standard contribution rates of April 2015",
        brackets=tuple(
            (D(low), D(amount))
            for low, amount in (
                (0, 150),
                (6000, 300),
                (8000, 400),
                (12000, 500),
                (15000, 600),
                (20000, 750),
                (25000, 850),
                (30000, 900),
                (35000, 950),
                (40000, 1000),
                (45000, 1100),
                (50000, 1200),
                (60000, 1300),
                (70000, 1400),
                (80000, 1500),
                (90000, 1600),
                (100000, 1700),
            )
        ),
    ),
    FlatHealthRule(
        "KE",
        "health",
        _d("2024-10-01"),
        "SHIF",
        # Social Health Insurance Act 2023: 2.75% of gross, at least KES 300 a month, from
        # 1 October 2024; support.payspace.com (Kenya: how SHIF deduction works).
        source="Social Health Insurance Act 2023, in force 1 October 2024",
        rate=D("0.0275"),
        minimum=D("300"),
    ),
    # NSSF ------------------------------------------------------------------------
    CappedPensionRule(
        "KE",
        "pension",
        _d("2018-01-01"),
        "NSSF",
        # NSSF Act (Cap 258): 5% of wages each side, capped at KES 200, until the NSSF Act 2013
        # took effect in February 2023 (venasnews/calculator.co.ke examples of 2022 show 200).
        source="NSSF Act Cap 258 (old rates), in force until January 2023",
        employee_rate=D("0.05"),
        employer_rate=D("0.05"),
        employee_cap=D("200"),
        employer_cap=D("200"),
    ),
    TieredPensionRule(
        "KE",
        "pension",
        _d("2023-02-01"),
        "NSSF",
        # NSSF Act 2013 Third Schedule, year 1: LEL 6,000, UEL 18,000;
        # htsyndication.com "New NSSF rates 2025-2026" (2025-03-05).
        source="NSSF Act 2013, Third Schedule year 1 (February 2023)",
        lower_limit=D("6000"),
        upper_limit=D("18000"),
        employee_rate=D("0.06"),
        employer_rate=D("0.06"),
    ),
    TieredPensionRule(
        "KE",
        "pension",
        _d("2024-02-01"),
        "NSSF",
        # Year 2: LEL 7,000, UEL 36,000; PwC Kenya tax alert "Revised NSSF contribution rates
        # effective February 2024".
        source="NSSF Act 2013, Third Schedule year 2 (February 2024)",
        lower_limit=D("7000"),
        upper_limit=D("36000"),
        employee_rate=D("0.06"),
        employer_rate=D("0.06"),
    ),
    TieredPensionRule(
        "KE",
        "pension",
        _d("2025-02-01"),
        "NSSF",
        # Year 3: LEL 8,000, UEL 72,000; vialtopartners.com Kenya NSSF alert (2026-01-28),
        # htsyndication.com (2025-03-05).
        source="NSSF Act 2013, Third Schedule year 3 (February 2025)",
        lower_limit=D("8000"),
        upper_limit=D("72000"),
        employee_rate=D("0.06"),
        employer_rate=D("0.06"),
    ),
    TieredPensionRule(
        "KE",
        "pension",
        _d("2026-02-01"),
        "NSSF",
        # Year 4: LEL 9,000, UEL 108,000; PwC Kenya tax alert (2026-01-30), Grant Thornton Kenya
        # tax alert 1 of 2026, cmadvocates.com (February 2026).
        source="NSSF Act 2013, Third Schedule year 4 (February 2026)",
        lower_limit=D("9000"),
        upper_limit=D("108000"),
        employee_rate=D("0.06"),
        employer_rate=D("0.06"),
    ),
    # Affordable Housing Levy -----------------------------------------------------
    LevyRule(
        "KE",
        "housing",
        _d("2023-07-01"),
        "AHL",
        # Finance Act 2023 (Employment Act s.84): 1.5% + 1.5% of gross from July 2023.
        source="Finance Act 2023, housing levy from 1 July 2023",
        employee_rate=D("0.015"),
        employer_rate=D("0.015"),
    ),
    LevyRule(
        "KE",
        "housing",
        _d("2024-03-19"),
        "AHL",
        # Affordable Housing Act 2024, commenced 19 March 2024 after the courts set aside the
        # Finance Act 2023 provision; same rates. pulselive.co.ke (2024-10-30).
        source="Affordable Housing Act 2024, commenced 19 March 2024",
        employee_rate=D("0.015"),
        employer_rate=D("0.015"),
    ),
    # Tax treatment: deductible before PAYE, or a relief ---------------------------
    KenyaTaxTreatmentRule(
        "KE",
        "tax_treatment",
        _d("2018-01-01"),
        "TAX",
        # Income Tax Act s.22A: registered pension contributions deductible up to 20,000 a month.
        source="Income Tax Act s.22A (pension deduction up to KES 20,000/month)",
        pension_cap=D("20000"),
    ),
    KenyaTaxTreatmentRule(
        "KE",
        "tax_treatment",
        _d("2022-01-01"),
        "TAX",
        # Finance Act No. 8 of 2021: NHIF contributions earn the 15% insurance relief (cap 5,000),
        # applied from January 2022 payrolls; nation.africa (2022-02-02), kutatua.com (2022).
        source="Finance Act 2021, insurance relief on NHIF from January 2022",
        pension_cap=D("20000"),
        insurance_relief_rate=D("0.15"),
        insurance_relief_cap=D("5000"),
    ),
    KenyaTaxTreatmentRule(
        "KE",
        "tax_treatment",
        _d("2023-07-01"),
        "TAX",
        # Finance Act 2023: affordable housing relief of 15% of the employee's levy.
        # calculator.co.ke payslip examples of 2024 show both reliefs.
        source="Finance Act 2023, affordable housing relief from 1 July 2023",
        pension_cap=D("20000"),
        insurance_relief_rate=D("0.15"),
        insurance_relief_cap=D("5000"),
        housing_relief_rate=D("0.15"),
    ),
    KenyaTaxTreatmentRule(
        "KE",
        "tax_treatment",
        _d("2024-12-27"),
        "TAX",
        # Tax Laws (Amendment) Act 2024, commenced 27 December 2024: SHIF and AHL become
        # deductible, their reliefs end, the pension deduction cap rises to 30,000 a month;
        # faidihr.com "How to calculate PAYE with AHL and SHIF", hcm.co.ke/paye.html.
        source="Tax Laws (Amendment) Act 2024, commenced 27 December 2024",
        pension_cap=D("30000"),
        health_deductible=True,
        housing_deductible=True,
    ),
)

# ------------------------------------------------------------------ Tanzania mainland

TZ_RULES: tuple[Rule, ...] = (
    PayeRule(
        "TZ",
        "paye",
        _d("2021-07-01"),
        "PAYE",
        # Resident individuals, monthly: 0-270,000 nil; 8% above 270,000; 20,000 + 20% above
        # 520,000; 68,000 + 25% above 760,000; 128,000 + 30% above 1,000,000. Finance Act 2021;
        # still in force for 2023/24 (TRA "Taxes and Duties at a Glance 2023/2024" via the TIE
        # Accountancy Form 5 book) and 2024 (aren.biz/tanzania/payroll/taxrates.htm).
        source="Income Tax Act 2004 First Schedule, as amended by Finance Act 2021",
        bands=(
            Band(D("270000"), D("0")),
            Band(D("520000"), D("0.08")),
            Band(D("760000"), D("0.20")),
            Band(D("1000000"), D("0.25")),
            Band(None, D("0.30")),
        ),
    ),
    CappedPensionRule(
        "TZ",
        "pension",
        # In force long before; dated at the first pay date this engine supports for Tanzania.
        _d("2021-07-01"),
        "NSSF",
        # NSSF Act: 10% employee + 10% employer of gross pay, no ceiling;
        # aren.biz/tanzania/payroll/taxrates.htm (2024).
        source="NSSF Act (Cap 50): 10% + 10% of gross, no ceiling",
        employee_rate=D("0.10"),
        employer_rate=D("0.10"),
    ),
    LevyRule(
        "TZ",
        "sdl",
        _d("2020-07-01"),
        "SDL",
        # Finance Act 2020: 4% of gross emoluments, employers with four or more employees;
        # aren.biz/tanzania/payroll/taxrates.htm (2021 edition).
        source="Vocational Education and Training Act, SDL 4% from 1 July 2020",
        employer_rate=D("0.04"),
        min_employees=4,
    ),
    LevyRule(
        "TZ",
        "sdl",
        _d("2023-07-01"),
        "SDL",
        # Finance Act 2023: 3.5%, employers with ten or more employees;
        # aren.biz/tanzania/payroll/taxrates.htm (2024), rivermate.com (2025-07-26).
        source="Finance Act 2023, SDL 3.5% from 1 July 2023 (10+ employees)",
        employer_rate=D("0.035"),
        min_employees=10,
    ),
    LevyRule(
        "TZ",
        "wcf",
        # 0.6% for private employers before July 2022 (Paymaster newsflash, 2022-07-15); dated at
        # the first pay date this engine supports for Tanzania.
        _d("2021-07-01"),
        "WCF",
        source="Workers Compensation (Payment of Tariff) Regulations: private sector 0.6%",
        employer_rate=D("0.006"),
    ),
    LevyRule(
        "TZ",
        "wcf",
        _d("2022-07-01"),
        "WCF",
        # Workers Compensation (Payment of Tariff)(Amendment) Regulations 2022: 0.5% for all
        # employers from 1 July 2022; magazine.paymaster.co.za (2022-07-18), aren.biz (2024).
        source="Workers Compensation (Payment of Tariff)(Amendment) Regulations 2022",
        employer_rate=D("0.005"),
    ),
)


@dataclass(frozen=True)
class Country:
    """A country's currency and the rule families a month's pay needs."""

    code: str
    name: str
    currency: str
    rules: tuple[Rule, ...]
    #: Families without which no month can be computed; the others (a levy that did not
    #: exist yet) simply do not apply before their first entry.
    required: tuple[str, ...]

    @property
    def first_date(self) -> date:
        """The first pay date every required family has an entry for."""
        return max(
            min(rule.effective for rule in self.rules if rule.family == family)
            for family in self.required
        )

    def in_force(self, family: str, on: date) -> Rule | None:
        """The entry of `family` in force on `on`: the latest one effective on or before it."""
        return _latest(
            rule for rule in self.rules if rule.family == family and rule.effective <= on
        )


def _latest(rules: Iterable[Rule]) -> Rule | None:
    return max(rules, key=lambda rule: rule.effective, default=None)


COUNTRIES: dict[str, Country] = {
    "KE": Country(
        "KE",
        "Kenya",
        "KES",
        KE_RULES,
        required=("paye", "health", "pension", "tax_treatment"),
    ),
    "TZ": Country(
        "TZ",
        "Tanzania mainland",
        "TZS",
        TZ_RULES,
        required=("paye", "pension", "sdl", "wcf"),
    ),
}
