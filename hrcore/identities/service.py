"""Resolve a channel address to a person, link new ones, and claim inbound messages once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Actor, Channel
from hrcore.audit import record
from hrcore.errors import Conflict, Invalid
from hrcore.identities.models import ChannelIdentity, InboundMessage
from hrcore.people.models import User
from hrcore.people.service import actor_for, normalize_phone
from hrcore.tenancy import Crossing, act_as, system

#: Channels whose address is a phone number: the number hr entered on the employee's
#: record identifies them there (the network or Meta has verified who holds it).
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.USSD, Channel.WHATSAPP})
EMPLOYEE_RECORD = "employee_record"
#: How fresh `last_seen_at` is kept.
SEEN_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Resolution:
    """Who a channel address speaks for; `actor` is None when nobody (yet) or nobody active."""

    actor: Actor | None
    #: None, "unknown" (not linked to anyone) or "inactive" (a deactivated person).
    problem: str | None
    language: str = "en"
    full_name: str = ""


def normalize_address(channel: Channel, address: str, *, region: str = "KE") -> str:
    """The one spelling of an address: E.164 for phones, the bare id otherwise."""
    address = address.strip()
    if channel in PHONE_CHANNELS:
        return normalize_phone(address, region)
    if not address or len(address) > 64 or not address.isprintable():
        raise Invalid("That channel address is not valid.", code="invalid_address")
    return address


def resolve(session: Session, channel: Channel, address: str) -> Resolution:
    """The person behind `address` on `channel`, linking a phone on first use.

    Addresses are global, so they are looked up across employers; the session then acts
    for the person's organization.
    """
    identity: ChannelIdentity | None = None
    user: User | None = None
    with system(session, Crossing.IDENTITY):
        # One round trip for the address and its person: every message of every channel
        # pays for this lookup.
        found = session.execute(
            select(ChannelIdentity, User)
            .join(User, User.id == ChannelIdentity.user_id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
        ).first()
        if found is not None:
            identity, user = found
        elif channel in PHONE_CHANNELS:
            user = session.scalar(select(User).where(User.phone == address))
    if user is None:
        return Resolution(None, "unknown")
    act_as(session, user.organization_id)
    if identity is None and channel in PHONE_CHANNELS and user.is_active:
        identity = _add(session, user, channel, address, verified_via=EMPLOYEE_RECORD)
    if not user.is_active:
        return Resolution(None, "inactive", user.language, user.full_name)
    now = clock.now()
    if identity is not None and (
        identity.last_seen_at is None or identity.last_seen_at < now - SEEN_EVERY
    ):
        # Coarse on purpose: a USSD session is a dozen screens in a minute, one write is enough.
        identity.last_seen_at = now
    return Resolution(actor_for(user, channel), None, user.language, user.full_name)


def _add(
    session: Session,
    user: User,
    channel: Channel,
    address: str,
    *,
    verified_via: str,
    reply_to: str | None = None,
) -> ChannelIdentity:
    identity = ChannelIdentity(
        organization_id=user.organization_id,
        user_id=user.id,
        channel=channel,
        address=address,
        verified_via=verified_via,
        verified_at=clock.now(),
        reply_to=reply_to,
    )
    session.add(identity)
    session.flush()
    record(
        session,
        actor_for(user, channel),
        "identity.link",
        outcome=verified_via,
        target_type="channel_identity",
        target_id=identity.id,
    )
    return identity


def link(
    session: Session,
    user: User,
    channel: Channel,
    address: str,
    *,
    verified_via: str,
    reply_to: str | None = None,
) -> ChannelIdentity:
    """Link `address` to `user` once its owner was verified (`verified_via` says how)."""
    # Another employer's person may hold the address: it is unique across employers.
    with system(session, Crossing.IDENTITY):
        existing = session.scalar(
            select(ChannelIdentity)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
            .with_for_update()
        )
    act_as(session, user.organization_id)
    if existing is not None:
        if existing.user_id != user.id:
            raise Conflict("That account is already linked to someone else.", code="identity_taken")
        existing.verified_via, existing.verified_at = verified_via, clock.now()
        existing.reply_to = reply_to or existing.reply_to
        return existing
    return _add(session, user, channel, address, verified_via=verified_via, reply_to=reply_to)


def reply_address(session: Session, user: User, channel: Channel) -> str | None:
    """Where to send `user` a message on `channel`: their linked account, or their phone."""
    identity = session.scalar(
        select(ChannelIdentity)
        .where(ChannelIdentity.user_id == user.id, ChannelIdentity.channel == channel)
        .order_by(ChannelIdentity.last_seen_at.desc().nulls_last(), ChannelIdentity.id.desc())
        .limit(1)
    )
    if identity is not None:
        return identity.reply_to or identity.address
    return user.phone if channel in PHONE_CHANNELS else None


def last_seen(session: Session, user: User, channel: Channel) -> datetime | None:
    """When `user` last wrote on `channel` (to within `SEEN_EVERY`), or None if never."""
    return session.scalar(
        select(func.max(ChannelIdentity.last_seen_at)).where(
            ChannelIdentity.user_id == user.id, ChannelIdentity.channel == channel
        )
    )


# ----------------------------------------------------------------------- inbound


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming an inbound message id."""

    id: int
    #: False for a retry of a message already claimed.
    first: bool
    #: What was answered the first time, once it was (None while still being handled).
    response: str | None = None


def claim_inbound(session: Session, channel: Channel, external_id: str) -> Claim:
    """Claim a provider's message id; a second claim of the same id is not `first`.

    The unique key makes the claim atomic: a concurrent duplicate waits for the first
    transaction and then sees it. Commit the claim with the message's effect.
    """
    # Before anyone knows who sent it, a message belongs to no employer; a retry's first
    # answer belongs to the sender's, whom the provider's id alone stands for.
    with system(session, Crossing.IDENTITY):
        inserted = session.scalar(
            insert(InboundMessage)
            .values(channel=channel, external_id=external_id, received_at=clock.now())
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(InboundMessage.id)
        )
        if inserted is not None:
            return Claim(inserted, first=True)
        row = session.scalar(
            select(InboundMessage)
            .where(InboundMessage.channel == channel, InboundMessage.external_id == external_id)
            .execution_options(populate_existing=True)
        )
    assert row is not None  # inserted by someone, and claims are never deleted once done
    return Claim(row.id, first=False, response=row.response)


def was_claimed(session: Session, channel: Channel, external_id: str) -> bool:
    """Whether a provider's message id was claimed already (without claiming it)."""
    with system(session, Crossing.IDENTITY):
        found = session.scalar(
            select(InboundMessage.id).where(
                InboundMessage.channel == channel, InboundMessage.external_id == external_id
            )
        )
    return found is not None


def finish_inbound(
    session: Session, claim: Claim, *, response: str | None, organization_id: int | None
) -> None:
    """Record what the claimed message was answered, for its retries to get the same."""
    # The claim was nobody's; from now on it is the sender's employer's (if any).
    with system(session, Crossing.IDENTITY):
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == claim.id)
            .values(response=response, done_at=clock.now(), organization_id=organization_id)
        )


def release_inbound(session: Session, claim: Claim) -> None:
    """Forget a claim whose handling failed before it acted, so the provider's retry runs."""
    with system(session, Crossing.IDENTITY):
        session.execute(delete(InboundMessage).where(InboundMessage.id == claim.id))
