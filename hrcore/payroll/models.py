"""Salary structures, monthly payroll runs and the payslips they issue."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped

Money = Numeric(16, 2)
Days = Numeric(6, 1)


class RunStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    FINALIZED = "finalized"
    #: A finalised run replaced by a finalised correction; its payslips stay as history.
    SUPERSEDED = "superseded"


#: Runs whose payslips are issued: they never change again, and employees see them.
ISSUED = (RunStatus.FINALIZED, RunStatus.SUPERSEDED)
#: Runs still being prepared: running the month again recomputes them.
OPEN = (RunStatus.DRAFT, RunStatus.REVIEW)


class RunKind(enum.StrEnum):
    REGULAR = "regular"
    CORRECTION = "correction"


def _values(enum_type: type[enum.Enum]) -> list[str]:
    # Stored as their values, which the partial indexes and checks below spell out.
    return [str(member.value) for member in enum_type]


class SalaryStructure(OrgScoped, Created, Base):
    """One employee's pay from `effective_from` to `effective_to` (inclusive, None: open).

    A change is a new row; the previous one is closed the day before, so history stays.
    `components` are the allowances and deductions, each a dict written by the service:
    kind (allowance or deduction), code, label, amount or percent (of basic pay),
    taxable, pensionable, before_tax; money and percentages as decimal strings.
    """

    __tablename__ = "salary_structures"

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    basic_pay: Mapped[Decimal] = mapped_column(Money)
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    bank_account: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("employee_id", "effective_from"),
        CheckConstraint("basic_pay > 0", name="basic_positive"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="dates_in_order"
        ),
        Index("ix_salary_structures_org_dates", "organization_id", "effective_from"),
    )


class PayrollRun(OrgScoped, Created, Base):
    """One organization's payroll for one month: draft → review → finalized."""

    __tablename__ = "payroll_runs"

    id: Mapped[IntPK]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    kind: Mapped[RunKind] = mapped_column(
        Enum(RunKind, native_enum=False, length=16, values_callable=_values),
        default=RunKind.REGULAR,
    )
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16, values_callable=_values),
        default=RunStatus.DRAFT,
    )
    corrects_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("payroll_runs.id", ondelete="RESTRICT")
    )
    superseded_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("payroll_runs.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    pay_date: Mapped[date] = mapped_column(Date)
    working_days: Mapped[Decimal] = mapped_column(Days, default=Decimal(0))
    #: Progress of the computation: employees considered so far out of all to consider.
    employees_total: Mapped[int] = mapped_column(Integer, default=0)
    employees_done: Mapped[int] = mapped_column(Integer, default=0)
    computing: Mapped[bool] = mapped_column(default=False)
    payslip_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Who was left out and why: [{"employee_id", "employee_name", "code", "message"}].
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    total_gross: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total_deductions: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total_net: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total_employer_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    created_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint("month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="month_format"),
        CheckConstraint(
            "employees_done >= 0 AND employees_done <= employees_total", name="progress"
        ),
        CheckConstraint(
            "(kind = 'correction') = (corrects_run_id IS NOT NULL)", name="correction_target"
        ),
        # At most one run being prepared and one in force per month: re-running a month
        # updates its draft, and a correction replaces the finalised run only when finalised.
        Index(
            "uq_payroll_runs_open_month",
            "organization_id",
            "month",
            unique=True,
            postgresql_where=text("status IN ('draft', 'review')"),
        ),
        Index(
            "uq_payroll_runs_final_month",
            "organization_id",
            "month",
            unique=True,
            postgresql_where=text("status = 'finalized'"),
        ),
    )


class Payslip(OrgScoped, Created, Base):
    """One employee's pay in one run, with every line and the rule that produced it.

    Name, department and bank account are copied at computation time, so an issued
    payslip reads the same whatever changes later.
    """

    __tablename__ = "payslips"

    id: Mapped[IntPK]
    run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("payroll_runs.id", ondelete="CASCADE")
    )
    employee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    structure_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("salary_structures.id", ondelete="SET NULL")
    )
    month: Mapped[str] = mapped_column(String(7))
    employee_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    working_days: Mapped[Decimal] = mapped_column(Days)
    paid_days: Mapped[Decimal] = mapped_column(Days)
    gross: Mapped[Decimal] = mapped_column(Money)
    taxable_pay: Mapped[Decimal] = mapped_column(Money)
    paye: Mapped[Decimal] = mapped_column(Money)
    total_deductions: Mapped[Decimal] = mapped_column(Money)
    net_pay: Mapped[Decimal] = mapped_column(Money)
    employer_contributions: Mapped[Decimal] = mapped_column(Money)
    employer_cost: Mapped[Decimal] = mapped_column(Money)
    #: The engine's lines: {"kind", "code", "label", "amount", "rule", "basis", "rate"}.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("run_id", "employee_id"),
        CheckConstraint("paid_days >= 0 AND paid_days <= working_days", name="paid_days_range"),
        CheckConstraint("net_pay >= 0", name="net_non_negative"),
        Index("ix_payslips_org_employee_month", "organization_id", "employee_id", "month"),
    )
