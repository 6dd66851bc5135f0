"""Channel identities linked to people, and the inbound messages already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.actor import Channel
from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped


class ChannelIdentity(OrgScoped, Created, Base):
    """A phone number or chat account that speaks for one person, and how we know it."""

    __tablename__ = "channel_identities"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    # E.164 for phones (SMS, USSD, WhatsApp), the numeric user id for Telegram.
    address: Mapped[str] = mapped_column(String(64))
    # employee_record (the phone hr entered), telegram_contact, ...
    verified_via: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The chat to answer in, when it is not the address itself (a Telegram chat id).
    reply_to: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("channel", "address"),)


class InboundMessage(Base):
    """A provider's message or callback, by its own id: a retry of it never acts twice.

    Not organization-scoped: a message from an unknown sender belongs to nobody yet.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[IntPK]
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    external_id: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What was answered, so a retry gets the same answer (a USSD screen) without a second run.
    response: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("channel", "external_id"),)
