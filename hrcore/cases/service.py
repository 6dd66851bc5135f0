"""Hand-off to people: questions the assistant cannot answer go to hr, and answers come back.

An employee (or anyone) opens a case with their question and, optionally, a short
excerpt of the conversation. Every active hr user is told that a question is waiting
(admins when the organization has no hr). That alert carries the asker's name and the
case number but never the question: alerts go out by SMS by default, where a question
about health, pay or a colleague would sit on a phone's lock screen and at the SMS
provider. hr reads the question itself through the cases list.

hr or an admin answers an open case once; the answer reaches the employee on the
channel they asked from (see `reply_channel`). Either side may close a case.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore import ratelimit
from hrcore.actor import Actor, Channel, Permission
from hrcore.audit import audited
from hrcore.cases.models import CaseStatus, HRCase
from hrcore.clock import now
from hrcore.config import get_settings
from hrcore.errors import Conflict, Forbidden, Invalid
from hrcore.notifications.service import notify
from hrcore.pagination import check_page
from hrcore.people.models import User
from hrcore.people.service import hr_contacts
from hrcore.tenancy import get_for_org

MAX_QUESTION = 2000
MAX_CONTEXT = 2000
MAX_ANSWER = 4000

#: Channels a reply cannot be pushed to, and where it goes instead. A USSD session is
#: over by the time hr answers, so the answer goes by SMS to the same phone; REST,
#: terminal and system callers read it in the web app's notifications.
_REPLY_FALLBACK = {
    Channel.USSD: Channel.SMS,
    Channel.API: Channel.WEB,
    Channel.CLI: Channel.WEB,
    Channel.SYSTEM: Channel.WEB,
}


def reply_channel(asked_on: Channel) -> Channel:
    """Where the answer to a question asked on `asked_on` is delivered."""
    return _REPLY_FALLBACK.get(asked_on, asked_on)


def _clean(text: object, *, field: str, maximum: int, required: bool) -> str | None:
    # PostgreSQL text cannot hold NUL characters; they carry no meaning in a question anyway.
    cleaned = text.replace("\x00", "").strip() if isinstance(text, str) else ""
    if not cleaned:
        if required:
            raise Invalid(f"The {field} is empty.", code=f"invalid_{field}")
        return None
    if len(cleaned) > maximum:
        raise Invalid(f"The {field} may be at most {maximum} characters.", code=f"invalid_{field}")
    return cleaned


def _answers_cases(actor: Actor) -> bool:
    return actor.can(Permission.HR_CASE_ANSWER)


def _load(session: Session, actor: Actor, case_id: int, *, lock: bool = False) -> HRCase:
    """A case of the actor's organization that the actor may see; raise otherwise."""
    case = get_for_org(session, actor, HRCase, case_id, what="hr case", lock=lock)
    if case.employee_id != actor.user_id and not _answers_cases(actor):
        raise Forbidden("You may only see your own questions to hr.", code="not_your_case")
    return case


@audited("hr_case.open", target_type="hr_case")
def open_case(
    session: Session, actor: Actor, *, question: str, context: str | None = None
) -> HRCase:
    """Hand the actor's question to hr; hr is alerted without the question's text."""
    actor.require(Permission.HR_CASE_OPEN)
    cleaned_question = _clean(question, field="question", maximum=MAX_QUESTION, required=True)
    cleaned_context = _clean(context, field="context", maximum=MAX_CONTEXT, required=False)
    # Each case alerts every hr contact by SMS: one person must not be able to flood them.
    ratelimit.hit(
        get_settings().hr_case_limit,
        "hr-case",
        str(actor.organization_id),
        str(actor.user_id),
        message="You have asked hr several questions already; they will answer soon. "
        "Try again later if it cannot wait.",
    )
    asker = get_for_org(session, actor, User, actor.user_id, what="employee")
    case = HRCase(
        organization_id=actor.organization_id,
        employee_id=actor.user_id,
        channel=actor.channel,
        question=cleaned_question,
        context=cleaned_context,
        status=CaseStatus.OPEN,
    )
    session.add(case)
    session.flush()
    for recipient in hr_contacts(session, actor.organization_id, exclude_id=actor.user_id):
        notify(
            session,
            recipient,
            kind="hr_case.opened",
            text=f"{asker.full_name} has a question for hr (case #{case.id}). "
            "Open the hr cases to read and answer it.",
        )
    session.flush()
    return case


@audited("hr_case.list", target_type="hr_case")
def list_cases(
    session: Session,
    actor: Actor,
    *,
    status: CaseStatus | str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[HRCase]:
    """Cases newest first: hr and admin see the organization's, everyone else their own."""
    actor.require(Permission.HR_CASE_OPEN)
    check_page(limit, offset)
    query = select(HRCase).where(HRCase.organization_id == actor.organization_id)
    if status is not None:
        try:
            query = query.where(HRCase.status == CaseStatus(status))
        except ValueError:
            raise Invalid(
                f"Unknown case status {status!r}; use open, answered or closed.",
                code="invalid_status",
            ) from None
    if not _answers_cases(actor):
        query = query.where(HRCase.employee_id == actor.user_id)
    return list(
        session.scalars(
            query.order_by(HRCase.created_at.desc(), HRCase.id.desc()).limit(limit).offset(offset)
        )
    )


@audited("hr_case.read", target_type="hr_case", target_arg="case_id")
def get_case(session: Session, actor: Actor, *, case_id: int) -> HRCase:
    """One case: the asker's own, or any of the organization's for hr and admin."""
    actor.require(Permission.HR_CASE_OPEN)
    return _load(session, actor, case_id)


@audited("hr_case.answer", target_type="hr_case", target_arg="case_id")
def answer_case(session: Session, actor: Actor, *, case_id: int, answer: str) -> HRCase:
    """Answer an open case; the answer reaches the employee where they asked."""
    actor.require(Permission.HR_CASE_ANSWER)
    cleaned = _clean(answer, field="answer", maximum=MAX_ANSWER, required=True)
    case = _load(session, actor, case_id, lock=True)
    if case.employee_id == actor.user_id:
        raise Forbidden("Someone else in hr must answer your own question.", code="own_case")
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            f"Case #{case.id} is {case.status}; only open cases can be answered.",
            code="case_not_open",
        )
    case.status = CaseStatus.ANSWERED
    case.answer = cleaned
    case.answered_by_id = actor.user_id
    case.answered_at = now()
    employee = session.get(User, case.employee_id)
    if employee is not None:
        notify(
            session,
            employee,
            kind="hr_case.answered",
            text=f"hr answered your question (case #{case.id}): {cleaned}",
            channel=reply_channel(case.channel),
        )
    session.flush()
    return case


@audited("hr_case.close", target_type="hr_case", target_arg="case_id")
def close_case(session: Session, actor: Actor, *, case_id: int) -> HRCase:
    """Close a case: the asker when it is no longer needed, or hr and admin at any time."""
    actor.require(Permission.HR_CASE_OPEN)
    case = _load(session, actor, case_id, lock=True)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(f"Case #{case.id} is already closed.", code="case_closed")
    case.status = CaseStatus.CLOSED
    case.closed_at = now()
    session.flush()
    return case
