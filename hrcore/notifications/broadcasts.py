"""Messages from hr: one text to a person, a department or everyone in the organization.

Each recipient gets a notification of kind `message` on their own channel (the one
`notify` picks for them), all pointing at one `Broadcast` row, so the sender can ask
later how many went out, arrived or failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.errors import Conflict, Invalid, NotFound
from hrcore.notifications.models import Broadcast, Notification, NotificationStatus
from hrcore.notifications.service import notify
from hrcore.people.models import Department, User
from hrcore.tenancy import get_for_org

Audience = Literal["person", "department", "everyone"]
AUDIENCES: tuple[str, ...] = ("person", "department", "everyone")
#: Longest message text; an SMS carries about 160 characters a part, so this is a few parts.
MAX_TEXT = 1000
KIND = "message"


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """Where the notifications of one message are: on their way, sent, arrived, failed."""

    broadcast_id: int
    recipients: int
    #: Waiting for an attempt, held, or with a provider call under way.
    pending: int
    sent: int
    delivered: int
    failed: int


def clean_text(text: str) -> str:
    """The message text without surrounding blanks; refused when empty or too long."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise Invalid("The message is empty.", code="message_empty")
    if len(cleaned) > MAX_TEXT:
        raise Invalid(
            f"The message is {len(cleaned)} characters long; at most {MAX_TEXT} are allowed.",
            code="message_too_long",
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class Addressee:
    """Who a message is for, as the sender named it."""

    audience: Audience
    audience_id: int | None
    name: str


#: Ways of saying "everyone" (English, Swahili, Sheng).
EVERYONE_WORDS = frozenset(
    {"everyone", "everybody", "all", "all staff", "all employees", "the whole company",
     "wote", "kila mtu", "wafanyakazi wote", "watu wote", "kila mfanyakazi", "wasee wote"}
)  # fmt: skip
_ID = re.compile(r"^#?\s*(\d{1,18})$")
_DEPARTMENT_WORDS = re.compile(
    r"^(?:the\s+)?(?:idara\s+ya\s+|watu\s+wa\s+|wa\s+)?(?P<name>.+?)"
    r"(?:\s+(?:department|dept|team|section|staff|people|idara))?$",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def find_addressee(session: Session, actor: Actor, to: str) -> Addressee:
    """Read "everyone", a department's name, or a person's name or id (#12) as an audience.

    Only the actor's organization is searched. A name that fits several departments or
    people is refused with the candidates, so that the sender picks one.
    """
    actor.require(Permission.MESSAGE_SEND)
    said = " ".join((to or "").split())
    if not said:
        raise Invalid("Say who the message is for.", code="audience_required")
    if said.casefold() in EVERYONE_WORDS:
        return Addressee("everyone", None, "everyone")
    if number := _ID.match(said):
        person = get_for_org(session, actor, User, int(number.group(1)), what="employee")
        return Addressee("person", person.id, person.full_name)
    departments = list(
        session.execute(
            select(Department.id, Department.name).where(
                Department.organization_id == actor.organization_id
            )
        )
    )
    people = list(
        session.execute(
            select(User.id, User.full_name).where(
                User.organization_id == actor.organization_id, User.is_active.is_(True)
            )
        )
    )
    bare = shape["name"] if (shape := _DEPARTMENT_WORDS.match(said)) else said
    for named in dict.fromkeys((said, bare)):
        exact_departments = [d for d in departments if d.name.casefold() == named.casefold()]
        if len(exact_departments) == 1:
            d = exact_departments[0]
            return Addressee("department", d.id, d.name)
        exact_people = [p for p in people if p.full_name.casefold() == named.casefold()]
        if len(exact_people) == 1:
            p = exact_people[0]
            return Addressee("person", p.id, p.full_name)
    wanted = _words(bare)
    candidates = [
        Addressee("department", d.id, d.name)
        for d in departments
        if wanted and all(w in _words(d.name) for w in wanted)
    ] + [
        Addressee("person", p.id, p.full_name)
        for p in people
        if wanted and all(w in _words(p.full_name) for w in _words(said))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotFound(
            f"No department or person here is called {said!r}.", code="recipient_not_found"
        )
    listed = ", ".join(
        f"{c.name} (department #{c.audience_id})"
        if c.audience == "department"
        else f"{c.name} (#{c.audience_id})"
        for c in candidates[:10]
    )
    raise Invalid(
        f"More than one person or department matches {said!r}: {listed}. "
        "Give the full name or the id.",
        code="ambiguous_recipient",
        matches=[
            {"audience": c.audience, "id": c.audience_id, "name": c.name} for c in candidates[:10]
        ],
    )


def recipients_of(
    session: Session, actor: Actor, audience: str, audience_id: int | None
) -> list[User]:
    """The active people of the actor's organization a message to this audience reaches,
    the sender left out. Another organization's department or person is "not found"."""
    if audience not in AUDIENCES:
        raise Invalid(
            f"Unknown audience {audience!r}: use person, department or everyone.",
            code="invalid_audience",
        )
    if audience == "everyone":
        if audience_id is not None:
            raise Invalid("A message to everyone names no id.", code="invalid_audience")
        where = [User.organization_id == actor.organization_id]
    elif audience_id is None:
        raise Invalid(f"Say which {audience} the message is for.", code="audience_id_required")
    elif audience == "department":
        department = get_for_org(session, actor, Department, audience_id, what="department")
        where = [
            User.organization_id == actor.organization_id,
            User.department_id == department.id,
        ]
    else:
        if audience_id == actor.user_id:
            raise Invalid("You cannot send a message to yourself.", code="message_to_self")
        person = get_for_org(session, actor, User, audience_id, what="employee")
        if not person.is_active:
            raise Conflict(f"{person.full_name} has left the organization.", code="inactive")
        return [person]
    query = (
        select(User)
        .where(*where, User.is_active.is_(True), User.id != actor.user_id)
        .order_by(User.id)
    )
    return list(session.scalars(query))


@audited("message.send", target_type="broadcast")
def send_message(
    session: Session,
    actor: Actor,
    audience: str,
    audience_id: int | None,
    text: str,
) -> Broadcast:
    """Send `text` from the actor (hr or admin) to a person, a department or everyone.

    One notification per active recipient, delivered after the commit on each person's
    own channel. Nobody to send to is refused, so no message goes out to no one.
    """
    actor.require(Permission.MESSAGE_SEND)
    body = clean_text(text)
    people = recipients_of(session, actor, audience, audience_id)
    if not people:
        raise Conflict(
            "Nobody would receive this message: the audience has no active people besides you.",
            code="no_recipients",
        )
    sender = session.get(User, actor.user_id)
    broadcast = Broadcast(
        organization_id=actor.organization_id,
        sender_id=actor.user_id,
        audience=audience,
        audience_id=audience_id,
        text=body,
        recipients=len(people),
    )
    session.add(broadcast)
    session.flush()
    signed = f"{sender.full_name}: {body}" if sender is not None else body
    for person in people:
        notification = notify(session, person, kind=KIND, text=signed)
        notification.broadcast_id = broadcast.id
    session.flush()
    return broadcast


def get_broadcast(session: Session, actor: Actor, broadcast_id: int) -> Broadcast:
    """One message of the actor's organization (hr and admin see every one sent there)."""
    actor.require(Permission.MESSAGE_SEND)
    return get_for_org(session, actor, Broadcast, broadcast_id, what="message")


def delivery_counts(session: Session, actor: Actor, broadcast_id: int) -> DeliveryCounts:
    """How the notifications of one message are doing, counted from their rows now."""
    broadcast = get_broadcast(session, actor, broadcast_id)
    rows = session.execute(
        select(Notification.status, func.count())
        .where(
            Notification.organization_id == actor.organization_id,
            Notification.broadcast_id == broadcast.id,
        )
        .group_by(Notification.status)
    ).all()
    counts = {NotificationStatus(status): int(n) for status, n in rows}
    return DeliveryCounts(
        broadcast_id=broadcast.id,
        recipients=broadcast.recipients,
        pending=counts.get(NotificationStatus.PENDING, 0)
        + counts.get(NotificationStatus.SENDING, 0),
        sent=counts.get(NotificationStatus.SENT, 0),
        delivered=counts.get(NotificationStatus.DELIVERED, 0),
        failed=counts.get(NotificationStatus.FAILED, 0),
    )
