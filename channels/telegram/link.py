"""Link a Telegram account to an employee from the contact they shared with the bot.

Telegram fills `contact.user_id` with the account that owns the number, so a contact whose
`user_id` is the sender's own id is their own verified number: the `request_contact`
button sends exactly that. A contact card of someone else is refused. The number must be
an active employee's; the claim of the update and the link commit together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.telegram.updates import Event
from hrcore.actor import Channel
from hrcore.config import get_settings
from hrcore.db import unit_of_work
from hrcore.errors import Conflict, Invalid
from hrcore.identities import service as identities
from hrcore.people.service import find_user_by_login, first_name, normalize_phone

VERIFIED_VIA = "telegram_contact"


@dataclass(frozen=True, slots=True)
class Linking:
    """What became of a shared contact."""

    #: linked, not_own, unknown, inactive or taken
    outcome: str
    language: str
    first_name: str = ""
    phone: str = ""


def link_contact(event: Event) -> Linking | None:
    """Link the sender if the contact is their own active employee number; None for a
    redelivered update (handled already). Blocking: call it from a thread."""
    with unit_of_work() as session:
        claim = identities.claim_inbound(session, Channel.TELEGRAM, event.external_id)
        if not claim.first:
            return None
        result = _link(session, event)
        organization = None
        if result.outcome == "linked":
            resolved = identities.resolve(session, Channel.TELEGRAM, str(event.user_id))
            organization = resolved.actor.organization_id if resolved.actor else None
        identities.finish_inbound(
            session, claim, response=f"contact:{result.outcome}", organization_id=organization
        )
        return result


def _link(session: Session, event: Event) -> Linking:
    if event.contact_user_id is None or event.contact_user_id != event.user_id:
        return Linking("not_own", event.language)
    phone = contact_phone(event.contact_phone or "")
    user = (
        find_user_by_login(session, phone, region=get_settings().default_region) if phone else None
    )
    if user is None:
        return Linking("unknown", event.language, phone=phone or (event.contact_phone or ""))
    language = "sw" if user.language == "sw" else "en"
    if not user.is_active:
        return Linking("inactive", language)
    try:
        identities.link(
            session,
            user,
            Channel.TELEGRAM,
            str(event.user_id),
            verified_via=VERIFIED_VIA,
            reply_to=str(event.chat_id),
        )
    except Conflict:
        return Linking("taken", language)
    return Linking("linked", language, first_name=first_name(user.full_name))


def contact_phone(raw: str) -> str | None:
    """The shared number in E.164, or None.

    Telegram sends it in international form, with or without the `+` ("254711000001");
    a local form ("0788531373") is read in the employer's default region.
    """
    digits = raw.strip().replace(" ", "")
    region = get_settings().default_region
    tries = [digits] if digits.startswith(("+", "0")) else [f"+{digits}", digits]
    for candidate in tries:
        try:
            return normalize_phone(candidate, region)
        except Invalid:
            continue
    return None
