"""Phone menu sessions (USSD): the state between screens and the provider's end report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.actor import Channel
from hrcore.db import Base
from hrcore.types import Created, IntPK


class MenuSession(Created, Base):
    """One session of a phone menu, by the provider's session id.

    Not always an employer's: the end report of an unknown caller's session is kept too.
    Never holds what was typed in clear (it holds PINs): the state keeps digests of it.
    """

    __tablename__ = "menu_sessions"

    id: Mapped[IntPK]
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    session_key: Mapped[str] = mapped_column(String(100))
    organization_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Where the menu stands, and the states after each earlier screen (for resent input).
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    trail: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    hops: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The provider's report once the session is over.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_status: Mapped[str | None] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    end_hops: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(String(500))
    # Our own last screen as the provider saw it (never the caller's input).
    last_response: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        UniqueConstraint("channel", "session_key"),
        Index("ix_menu_sessions_updated_at", "updated_at"),
    )
