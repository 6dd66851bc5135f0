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

# Both week columns hold the Monday of an ISO week in the organization's time zone.
_WEEK_IS_MONDAY = "EXTRACT(ISODOW FROM week) = 1"


class MoodEntry(OrgScoped, Base):
    """A mood score. Random id and only the week, so rows cannot be ordered or dated back to people.

    `department_id` is set only when the department had at least 5 active members at
    submission. It has no foreign key on purpose: deleting a department must not move
    its rows into another group of a week that is already closed, or two summaries
    of that week would differ by the deleted department's (possibly small) group.
    """

    __tablename__ = "mood_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    department_id: Mapped[int | None] = mapped_column(BigInteger)
    week: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint(_WEEK_IS_MONDAY, name="week_is_monday"),
    )


class MoodParticipation(OrgScoped, Base):
    """Who took part in a week, as a keyed pseudonym and no score: counts distinct people.

    One row per person and week (the first submission's department, by the same rule as
    `MoodEntry`), so a (week, department) cell's number of people can be counted while
    the scores stay unlinkable. No foreign key on the department, for the same reason.
    """

    __tablename__ = "mood_participation"

    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    week: Mapped[date] = mapped_column(Date, index=True)
    department_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint(_WEEK_IS_MONDAY, name="week_is_monday"),)


class MoodDayKey(OrgScoped, Base):
    """A keyed hash of (person, day): enforces one mood a day without storing who."""

    __tablename__ = "mood_day_keys"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class IssueReport(OrgScoped, Base):
    """An anonymous report; the department is kept only when it had 5 or more active members."""

    __tablename__ = "issue_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    department_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("departments.id", ondelete="SET NULL")
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
