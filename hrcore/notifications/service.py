"""Queue notifications in the outbox, inside the transaction of the change that causes them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from hrcore import clock
from hrcore.actor import Actor, Channel, Permission
from hrcore.config import get_settings
from hrcore.db import rowcount
from hrcore.errors import NotFound
from hrcore.identities.models import ChannelIdentity
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.notifications.outbox import DeliverAfterCommit
from hrcore.people.models import User
from hrcore.tenancy import Crossing, act_as, system

log = logging.getLogger("ajira.outbox")

#: Channels a notification cannot travel on, and where it goes instead: a USSD session
#: is over long before anything happens, so its people hear back by SMS.
_DELIVERED_BY = {Channel.USSD: Channel.SMS}


def preferred_channel(user: User) -> Channel:
    """Where a person is reached: the channel they chose, else the chat app they last wrote
    from (Telegram or WhatsApp, when it is set up here), else SMS with a phone, email when it
    is set up, else the web app. Every notification is also listed in the web app."""
    if user.notify_channel is not None:
        return user.notify_channel
    if (chat_app := _last_chat_app(user)) is not None:
        return chat_app
    if user.phone:
        return Channel.SMS
    if user.email and get_settings().smtp_url:
        return Channel.EMAIL
    return Channel.WEB


def _chat_apps_set_up() -> frozenset[Channel]:
    settings = get_settings()
    ready = set()
    if settings.telegram_bot_token:
        ready.add(Channel.TELEGRAM)
    if settings.whatsapp_token and settings.whatsapp_phone_number_id:
        ready.add(Channel.WHATSAPP)
    return frozenset(ready)


def _last_chat_app(user: User) -> Channel | None:
    ready = _chat_apps_set_up()
    session = object_session(user)
    if not ready or session is None:
        return None
    seen = func.coalesce(ChannelIdentity.last_seen_at, ChannelIdentity.verified_at)
    return session.scalar(
        select(ChannelIdentity.channel)
        .where(
            ChannelIdentity.organization_id == user.organization_id,
            ChannelIdentity.user_id == user.id,
            ChannelIdentity.channel.in_(ready),
        )
        .order_by(seen.desc())
        .limit(1)
    )


def notify(
    session: Session,
    recipient: User,
    *,
    kind: str,
    text: str,
    channel: Channel | None = None,
    urgent: bool = False,
    choices: list[list[str]] | None = None,
) -> Notification:
    """Add a pending notification for `recipient`; it is delivered after the commit.

    Unless `urgent`, it waits for the end of the recipient's quiet hours. `choices`
    ([value, label] pairs) become buttons where the channel has them.
    """
    chosen = channel or preferred_channel(recipient)
    notification = Notification(
        organization_id=recipient.organization_id,
        recipient_id=recipient.id,
        channel=_DELIVERED_BY.get(chosen, chosen),
        kind=kind,
        text=text,
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=clock.now() if urgent else not_quiet(recipient, clock.now()),
        choices=choices,
    )
    session.add(notification)
    from hrcore.worker import enqueue_after_commit

    enqueue_after_commit(session, DeliverAfterCommit(notification))
    return notification


def notify_once(
    session: Session,
    recipient: User,
    *,
    key: str,
    kind: str,
    text: str,
    urgent: bool = False,
) -> Notification | None:
    """`notify`, unless a notification with this `key` exists in the organization: the same
    reminder for the same day or request is never queued twice, however often it runs."""
    exists = select(Notification.id).where(
        Notification.organization_id == recipient.organization_id,
        Notification.dedupe_key == key,
    )
    if session.scalar(exists) is not None:
        return None
    try:
        with session.begin_nested():  # a concurrent run may have taken the key meanwhile
            notification = notify(session, recipient, kind=kind, text=text, urgent=urgent)
            notification.dedupe_key = key
            session.flush()
    except IntegrityError:
        return None
    return notification


def not_quiet(user: User, at: datetime) -> datetime:
    """`at`, or the end of `user`'s quiet hours when `at` falls inside them."""
    if user.quiet_start is None or user.quiet_end is None or user.quiet_start == user.quiet_end:
        return at
    zone = ZoneInfo(user.organization.timezone)
    local = at.astimezone(zone)
    start, end, now = user.quiet_start, user.quiet_end, local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return at
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:  # quiet hours across midnight, and it is evening now
        ends += timedelta(days=1)
    return ends.astimezone(at.tzinfo)


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


def mark_read(session: Session, actor: Actor, *, notification_id: int) -> Notification:
    """Mark one of the acting user's notifications read (again is harmless)."""
    actor.require(Permission.NOTIFICATION_READ)
    notification = session.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            Notification.organization_id == actor.organization_id,
            Notification.recipient_id == actor.user_id,
        )
    )
    if notification is None:
        raise NotFound("No such notification.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = clock.now()
        session.flush()
    return notification


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the acting user read; return how many."""
    actor.require(Permission.NOTIFICATION_READ)
    result = session.execute(
        update(Notification)
        .where(
            Notification.organization_id == actor.organization_id,
            Notification.recipient_id == actor.user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result)


def record_delivery_report(
    session: Session,
    *,
    channel: Channel,
    provider_message_id: str,
    status: NotificationStatus,
    reason: str | None = None,
    seen: bool = False,
) -> Notification | None:
    """Apply a provider's delivery report to the row it sent; None when no row has that id.

    Reports repeat and arrive out of order: an intermediate `sent` never undoes
    `delivered` or `failed`, and `delivered` is final. `seen` is a read receipt (a
    WhatsApp `read`): the message was delivered and opened, so it is read here too.
    """
    # The provider's id is all the report names: it says whose row it is, and no more.
    where = (
        Notification.channel == channel,
        Notification.provider_message_id == provider_message_id,
    )
    with system(session, Crossing.JOB):
        owner = session.scalar(
            select(Notification.organization_id).where(*where).order_by(Notification.id).limit(1)
        )
    if owner is None:
        return None
    act_as(session, owner)
    notification = session.scalar(
        select(Notification)
        .where(
            Notification.channel == channel,
            Notification.provider_message_id == provider_message_id,
        )
        .order_by(Notification.id)
        .limit(1)
        .with_for_update()
    )
    if notification is None:
        return None
    now = clock.now()
    current = notification.status
    if seen:
        status = NotificationStatus.DELIVERED
        if notification.read_at is None:
            notification.read_at = now
    if status is NotificationStatus.DELIVERED:
        if current is not NotificationStatus.DELIVERED:
            notification.status = NotificationStatus.DELIVERED
            notification.delivered_at = now
            notification.last_error = None
    elif status is NotificationStatus.FAILED:
        if current is not NotificationStatus.DELIVERED:
            notification.status = NotificationStatus.FAILED
            notification.last_error = (reason or "delivery failed")[:500]
    elif status is NotificationStatus.SENT and current in (
        NotificationStatus.PENDING,
        NotificationStatus.SENDING,
    ):
        notification.status = NotificationStatus.SENT
    session.flush()
    log.info(
        "delivery_report notification=%s reported=%s now=%s",
        notification.id,
        status,
        notification.status,
    )
    return notification
