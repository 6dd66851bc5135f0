"""Questions handed from the assistant to a person in hr, and their answers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.actor import Channel
from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class HRCase(OrgScoped, Created, Base):
    """One employee question waiting for (or answered by) hr."""

    __tablename__ = "hr_cases"

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: Where the question was asked; the answer goes back there.
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    question: Mapped[str] = mapped_column(Text)
    #: A short excerpt of the conversation that led to the question.
    context: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, native_enum=False, length=16), default=CaseStatus.OPEN
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_hr_cases_org_status", "organization_id", "status", "created_at"),)

    def __repr__(self) -> str:  # never the question or answer text: they may be sensitive
        return f"HRCase(id={self.id}, status={self.status})"
