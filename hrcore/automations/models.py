"""What the scheduled automations remember: runs per day, settings, balance alerts."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.db import Base
from hrcore.types import IntPK, OrgScoped


class AutomationRun(OrgScoped, Base):
    """One automation for one organization and one local day: claimed once, then finished."""

    __tablename__ = "automation_runs"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(48))
    day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Notifications this run queued (a resumed run counts only its own).
    sent: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("organization_id", "name", "day"),)


class AutomationSetting(OrgScoped, Base):
    """An organization's choice for one automation: on or off, and at what local time."""

    __tablename__ = "automation_settings"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(48))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[time | None] = mapped_column(Time)

    __table_args__ = (UniqueConstraint("organization_id", "name"),)


class BalanceAlert(OrgScoped, Base):
    """A balance hr was told is low; removed when it rises again, so the next fall is told."""

    __tablename__ = "balance_alerts"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    leave_type_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leave_types.id", ondelete="CASCADE")
    )
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("user_id", "leave_type_id"),)
