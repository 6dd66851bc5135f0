"""Performance reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped


class Review(OrgScoped, Created, Base):
    __tablename__ = "reviews"

    id: Mapped[IntPK]
    employee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    period: Mapped[str] = mapped_column(String(16))
    overall_score: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    kpi_scores: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    feedback: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[list[str]] = mapped_column(JSONB, default=list)

    __table_args__ = (
        UniqueConstraint("employee_id", "reviewer_id", "period"),
        CheckConstraint("overall_score BETWEEN 1 AND 5", name="overall_range"),
    )
