"""The notifications outbox: written with the change that causes it, delivered later."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hrcore.actor import Channel
from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped


class NotificationStatus(enum.StrEnum):
    """Where a notification is on its way to the recipient.

    pending: waiting for an attempt (`next_attempt_at`), or held (no date) while its
    channel is not configured; sending: a provider call is under way or its outcome is
    unknown; sent: the provider took it; delivered: it reached the person (a delivery
    report, or stored in the app); failed: refused for good, or out of attempts.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class AttemptOutcome(enum.StrEnum):
    """How one attempt to hand a notification to its provider ended."""

    SENT = "sent"
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    #: The worker stopped during the provider call: it may or may not have gone out.
    UNKNOWN = "unknown"


class Notification(OrgScoped, Created, Base):
    __tablename__ = "notifications"

    id: Mapped[IntPK]
    recipient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    kind: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(NotificationStatus, native_enum=False, length=16),
        default=NotificationStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When a pending row is due; None while it is held for an unconfigured channel.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The provider's id for the message (Africa's Talking `messageId`, an email Message-ID).
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Answers the recipient can pick, as [value, label] pairs, for channels that show them
    #: as buttons (a chat reply asking for a yes); None for plain news.
    choices: Mapped[list[list[str]] | None] = mapped_column(JSONB)
    #: Names what this message is about ("late_digest:2026-11-23:7"): one per organization,
    #: so a re-run of whatever sends it sends nothing twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    #: The message from hr this row delivers to one of its recipients.
    broadcast_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        Index("ix_notifications_status", "status", "created_at"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index(
            "uq_notifications_dedupe",
            "organization_id",
            "dedupe_key",
            unique=True,
            postgresql_where=sql_text("dedupe_key IS NOT NULL"),
        ),
    )


class Broadcast(OrgScoped, Created, Base):
    """A message hr or an admin sent to a person, a department or everyone."""

    __tablename__ = "broadcasts"

    id: Mapped[IntPK]
    sender_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    #: "person", "department" or "everyone"; `audience_id` names the person or department.
    audience: Mapped[str] = mapped_column(String(16))
    audience_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class NotificationAttempt(OrgScoped, Base):
    """One hand-over of a notification to its provider, and how it ended."""

    __tablename__ = "notification_attempts"

    id: Mapped[IntPK]
    notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: None while the provider call is under way.
    outcome: Mapped[AttemptOutcome | None] = mapped_column(
        Enum(AttemptOutcome, native_enum=False, length=16)
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("notification_id", "number"),)
