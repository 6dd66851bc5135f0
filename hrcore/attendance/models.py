"""Shifts: one row per clock-in, closed by its clock-out."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.actor import Channel
from hrcore.db import Base
from hrcore.types import IntPK, OrgScoped


class GeofenceStatus(enum.StrEnum):
    NOT_CHECKED = "not_checked"  # the organization does not check location
    NO_LOCATION = "no_location"  # checked, but the clock-in carried no GPS fix
    INSIDE = "inside"
    OUTSIDE = "outside"


class LocationSource(enum.StrEnum):
    """How far a shared location can be trusted."""

    DEVICE = "device"  # a GPS fix the app or browser read from the device when clocking
    LIVE = "live"  # a live location whose last update was recent (Telegram, WhatsApp)
    PIN = "pin"  # a place the person picked or forwarded: evidence, not proof


class AttendanceRecord(OrgScoped, Base):
    __tablename__ = "attendance_records"

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    clock_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clock_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    method_in: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    method_out: Mapped[Channel | None] = mapped_column(Enum(Channel, native_enum=False, length=16))
    latitude_in: Mapped[float | None] = mapped_column(Float)
    longitude_in: Mapped[float | None] = mapped_column(Float)
    accuracy_in_m: Mapped[float | None] = mapped_column(Float)
    location_source_in: Mapped[LocationSource | None] = mapped_column(
        Enum(LocationSource, native_enum=False, length=16)
    )
    latitude_out: Mapped[float | None] = mapped_column(Float)
    longitude_out: Mapped[float | None] = mapped_column(Float)
    accuracy_out_m: Mapped[float | None] = mapped_column(Float)
    location_source_out: Mapped[LocationSource | None] = mapped_column(
        Enum(LocationSource, native_enum=False, length=16)
    )
    site_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("sites.id", ondelete="SET NULL")
    )
    geofence_status: Mapped[GeofenceStatus] = mapped_column(
        Enum(GeofenceStatus, native_enum=False, length=16), default=GeofenceStatus.NOT_CHECKED
    )
    late_minutes: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        # At most one open shift per employee, whatever races the application loses.
        Index(
            "uq_attendance_one_open_shift",
            "employee_id",
            unique=True,
            postgresql_where=text("clock_out_at IS NULL"),
        ),
        Index("ix_attendance_employee_clock_in", "employee_id", "clock_in_at"),
        CheckConstraint("clock_out_at IS NULL OR clock_out_at >= clock_in_at", name="out_after_in"),
        CheckConstraint("late_minutes >= 0", name="late_non_negative"),
    )
