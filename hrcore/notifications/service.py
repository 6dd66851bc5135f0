"""Queue notifications in the outbox, inside the transaction of the change that causes them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Channel, Permission
from hrcore.notifications.models import Notification
from hrcore.people.models import User


def preferred_channel(user: User) -> Channel:
    """Where a person is reached by default: SMS when they have a phone, else the web app."""
    return Channel.SMS if user.phone else Channel.WEB


def notify(
    session: Session, recipient: User, *, kind: str, text: str, channel: Channel | None = None
) -> Notification:
    """Add a pending notification for `recipient`; it is delivered after the commit."""
    notification = Notification(
        organization_id=recipient.organization_id,
        recipient_id=recipient.id,
        channel=channel or preferred_channel(recipient),
        kind=kind,
        text=text,
    )
    session.add(notification)
    return notification


def list_notifications(
    session: Session, actor: Actor, *, limit: int = 50, offset: int = 0
) -> list[Notification]:
    """The acting user's own notifications, newest first."""
    actor.require(Permission.NOTIFICATION_READ)
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.organization_id == actor.organization_id,
                Notification.recipient_id == actor.user_id,
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
