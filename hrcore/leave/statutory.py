"""Statutory leave for Kenya and Tanzania mainland, as dated data.

As with payroll's rules, a change in the law is a new dated entry, never an edit of an
old one: for each leave type the figure in force on a date is the entry with the latest
`effective` date on or before it. Every entry names its source next to it. Where a law
sets no yearly figure, the entry says so and gives the default employers start from.

Annual leave is not here: its days are the employer's own setting
(`Organization.default_annual_leave_days`), which may be above the legal minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hrcore.leave.models import Accrual

D = Decimal
ZERO = Decimal(0)
#: A country without entries of its own starts from Kenya's.
FALLBACK_COUNTRY = "KE"


@dataclass(frozen=True)
class Entitlement:
    """One dated entry: the days a year one leave type gives in one country."""

    country: str
    code: str
    effective: date
    days: Decimal
    source: str


def _d(iso: str) -> date:
    return date.fromisoformat(iso)


# The Employment Act 2007 (Kenya) came into force on 2 June 2008; the Employment and Labour
# Relations Act 2004 (Tanzania mainland) on 20 December 2006, by the Employment and Labour
# Relations (Commencement Date) Notice 2006.
KE_ACT = _d("2008-06-02")
TZ_ACT = _d("2006-12-20")

ENTITLEMENTS: tuple[Entitlement, ...] = (
    # Kenya -------------------------------------------------------------------
    Entitlement(
        "KE",
        "sick",
        KE_ACT,
        D(14),
        source="Employment Act 2007 s.30: 7 days on full pay and 7 on half pay a year",
    ),
    Entitlement(
        "KE",
        "maternity",
        KE_ACT,
        D(90),
        source="Employment Act 2007 s.29(1): three months, counted as 90 calendar days",
    ),
    Entitlement("KE", "paternity", KE_ACT, D(14), source="Employment Act 2007 s.29(8): two weeks"),
    Entitlement(
        "KE",
        "compassionate",
        KE_ACT,
        D(5),
        source="No figure in the Employment Act 2007: the default employers start from",
    ),
    # Tanzania mainland -------------------------------------------------------
    Entitlement(
        "TZ",
        "sick",
        TZ_ACT,
        D(14),
        source="Employment and Labour Relations Act 2004 s.32 counts sick leave over a "
        "36-month cycle; 14 days a year is the default employers start from",
    ),
    Entitlement(
        "TZ",
        "maternity",
        TZ_ACT,
        D(84),
        source="Employment and Labour Relations Act 2004 s.33: 84 days",
    ),
    Entitlement(
        "TZ",
        "paternity",
        TZ_ACT,
        D(3),
        source="Employment and Labour Relations Act 2004 s.34(1)(a): 3 days",
    ),
    Entitlement(
        "TZ",
        "compassionate",
        TZ_ACT,
        D(4),
        source="Employment and Labour Relations Act 2004 s.34(1)(b): 4 days for the death or "
        "illness of close family",
    ),
)


def in_force(country: str, code: str, on: date) -> Entitlement:
    """The entry for `code` in `country` in force on `on`: the latest effective by then."""
    if not any(e.country == country for e in ENTITLEMENTS):
        country = FALLBACK_COUNTRY
    entry = max(
        (e for e in ENTITLEMENTS if e.country == country and e.code == code and e.effective <= on),
        key=lambda e: e.effective,
        default=None,
    )
    if entry is None:
        raise LookupError(f"No statutory {code} leave for {country} on {on.isoformat()}.")
    return entry


def standard_types(country: str, on: date, *, annual_days: int) -> list[dict[str, Any]]:
    """The standard leave types' columns for an employer in `country`, by the law on `on`."""

    def days(code: str) -> Decimal:
        return in_force(country, code, on).days

    upfront = {"accrual": Accrual.UPFRONT, "carry_over_cap": ZERO, "carry_over_expiry_months": 0}
    return [
        {
            "code": "annual",
            "name": "Annual leave",
            "days_per_year": Decimal(annual_days),
            "accrual": Accrual.MONTHLY,
            "carry_over_cap": Decimal(5),
            "carry_over_expiry_months": 3,
        },
        {"code": "sick", "name": "Sick leave", "days_per_year": days("sick"), **upfront}
        | {"requires_document": True},
        # Both laws count maternity leave on the calendar.
        {
            "code": "maternity",
            "name": "Maternity leave",
            "days_per_year": days("maternity"),
            "counts_calendar_days": True,
        }
        | upfront
        | {"requires_document": True},
        {"code": "paternity", "name": "Paternity leave", "days_per_year": days("paternity")}
        | upfront,
        {
            "code": "compassionate",
            "name": "Compassionate leave",
            "days_per_year": days("compassionate"),
        }
        | upfront,
        {"code": "unpaid", "name": "Unpaid leave", "days_per_year": ZERO, "paid": False} | upfront,
    ]
