"""Employers, their sites and departments, and the people who work there."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hrcore.actor import Channel, Role
from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped


class GeofenceMode(enum.StrEnum):
    OFF = "off"
    FLAG = "flag"
    REJECT = "reject"


class Organization(Created, Base):
    __tablename__ = "organizations"

    id: Mapped[IntPK]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    work_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(17, 0))
    grace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    geofence_mode: Mapped[GeofenceMode] = mapped_column(
        Enum(GeofenceMode, native_enum=False, length=16), default=GeofenceMode.OFF
    )
    default_annual_leave_days: Mapped[int] = mapped_column(Integer, default=15)

    sites: Mapped[list[Site]] = relationship(back_populates="organization")

    __table_args__ = (
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 240", name="grace_range"),
        CheckConstraint("default_annual_leave_days BETWEEN 0 AND 366", name="leave_days_range"),
    )


class Site(OrgScoped, Base):
    """A workplace with a geofence: clock-ins within `radius_m` of it count as on site."""

    __tablename__ = "sites"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=200)

    organization: Mapped[Organization] = relationship(back_populates="sites")

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="lng_range"),
        CheckConstraint("radius_m > 0", name="radius_positive"),
    )


class Department(OrgScoped, Base):
    __tablename__ = "departments"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("organization_id", "name"),)


class User(OrgScoped, Created, Base):
    """A person at an employer. Every user is an employee; the role says what else they do."""

    __tablename__ = "users"

    id: Mapped[IntPK]
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    national_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    department_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("departments.id", ondelete="SET NULL")
    )
    reports_to_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    hire_date: Mapped[date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Wrong PINs in a row; at PIN_ATTEMPTS phone access is locked until `pin_locked_until`.
    pin_failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Where notifications go (None: the default, see notifications.preferred_channel).
    notify_channel: Mapped[Channel | None] = mapped_column(
        Enum(Channel, native_enum=False, length=16)
    )
    #: Nothing that can wait is sent between these local times (both set, or neither).
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    #: Automations this person asked not to hear from ("mood_invitation").
    muted_automations: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )

    organization: Mapped[Organization] = relationship()
    department: Mapped[Department | None] = relationship()
    reports_to: Mapped[User | None] = relationship(remote_side="User.id")

    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        CheckConstraint("reports_to_id IS NULL OR reports_to_id <> id", name="not_own_manager"),
    )

    def __repr__(self) -> str:  # never include contact details or ids of identity documents
        return f"User(id={self.id}, role={self.role})"
