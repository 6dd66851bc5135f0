"""Leave types, yearly balances and requests."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped

Days = Numeric(6, 1)


class Accrual(enum.StrEnum):
    MONTHLY = "monthly"  # earned a twelfth per month employed in the year
    UPFRONT = "upfront"  # the whole year's days are available from 1 January (or hire)


class LeaveStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class LeaveType(OrgScoped, Base):
    __tablename__ = "leave_types"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    days_per_year: Mapped[Decimal] = mapped_column(Days)
    accrual: Mapped[Accrual] = mapped_column(
        Enum(Accrual, native_enum=False, length=16), default=Accrual.UPFRONT
    )
    paid: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Counted in calendar days (maternity: "90 days" in law means 90 days on the calendar)
    #: rather than working days.
    counts_calendar_days: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_document: Mapped[bool] = mapped_column(Boolean, default=False)
    carry_over_cap: Mapped[Decimal] = mapped_column(Days, default=Decimal(0))
    carry_over_expiry_months: Mapped[int] = mapped_column(Integer, default=3)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        CheckConstraint("days_per_year >= 0", name="days_non_negative"),
        CheckConstraint("carry_over_cap >= 0", name="cap_non_negative"),
        CheckConstraint("carry_over_expiry_months BETWEEN 0 AND 24", name="expiry_range"),
    )


class LeaveBalance(OrgScoped, Base):
    """One employee's entitlement to one leave type in one calendar year."""

    __tablename__ = "leave_balances"

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    leave_type_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leave_types.id", ondelete="CASCADE")
    )
    year: Mapped[int] = mapped_column(Integer)
    entitled_days: Mapped[Decimal] = mapped_column(Days)
    carried_over_days: Mapped[Decimal] = mapped_column(Days, default=Decimal(0))
    carry_over_expires_on: Mapped[date | None] = mapped_column(Date)

    leave_type: Mapped[LeaveType] = relationship()

    __table_args__ = (
        UniqueConstraint("employee_id", "leave_type_id", "year"),
        CheckConstraint("entitled_days >= 0", name="entitled_non_negative"),
        CheckConstraint("carried_over_days >= 0", name="carried_non_negative"),
    )


class LeaveRequest(OrgScoped, Created, Base):
    __tablename__ = "leave_requests"
    # Lets `available_after` below be a plain attribute rather than a column.
    __allow_unmapped__ = True

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    leave_type_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leave_types.id", ondelete="RESTRICT")
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    half_day: Mapped[bool] = mapped_column(Boolean, default=False)
    days: Mapped[Decimal] = mapped_column(Days)
    reason: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[LeaveStatus] = mapped_column(
        Enum(LeaveStatus, native_enum=False, length=16), default=LeaveStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(String(1000))

    leave_type: Mapped[LeaveType] = relationship()

    #: Not stored: the days of this type left once this request is counted, as of its
    #: start date, set by the service that files it so the caller need not count again.
    #: None for leave without a limit, and on requests loaded from the database.
    available_after: Decimal | None = None

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("NOT half_day OR start_date = end_date", name="half_day_single"),
        CheckConstraint("days > 0", name="days_positive"),
        Index("ix_leave_requests_employee_dates", "employee_id", "start_date", "end_date"),
    )
