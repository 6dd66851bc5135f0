"""Anonymous wellness data: nothing here links back to a person."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.db import Base
from hrcore.types import OrgScoped


class MoodEntry(OrgScoped, Base):
    """A mood score. Random id and a date (no time) so rows cannot be ordered back to people."""

    __tablename__ = "mood_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    department_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("departments.id", ondelete="SET NULL")
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class MoodDayKey(OrgScoped, Base):
    """A keyed hash of (person, day): enforces one mood a day without storing who."""

    __tablename__ = "mood_day_keys"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class IssueReport(OrgScoped, Base):
    __tablename__ = "issue_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    department_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("departments.id", ondelete="SET NULL")
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
