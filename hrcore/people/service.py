"""People: organizations, departments, sites and employees."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Actor, Channel, Permission, Role, Scope
from hrcore.audit import audited, record
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.notifications.service import notify
from hrcore.people.models import Department, Organization, User
from hrcore.security import hash_secret, verify_secret
from hrcore.tenancy import Crossing, act_as, get_for_org, system


def normalize_phone(raw: str, region: str = "KE") -> str:
    """Return `raw` as E.164, reading local numbers (0712…) in `region`; raise `Invalid`."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid(f"{raw!r} is not a phone number.", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"{raw!r} is not a valid phone number.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Lower-case and check an email address; raise `Invalid`."""
    from email_validator import EmailNotValidError, validate_email

    try:
        # test_environment admits the reserved .test domain that demo and test accounts use.
        return validate_email(
            raw, check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(f"{raw!r} is not a valid email address.", code="invalid_email") from exc


def canonical_login(login: str, *, region: str = "KE") -> str:
    """One spelling per login (email in lower case, phone in E.164), known or not."""
    login = login.strip()
    if "@" in login:
        return login.lower()
    try:
        return normalize_phone(login, region)
    except Invalid:
        return login.lower()


def find_user_by_login(session: Session, login: str, *, region: str = "KE") -> User | None:
    """The user whose email or phone is `login`, across organizations (logins are global).

    The session then acts for the user's organization (`tenancy.act_as`).
    """
    login = login.strip()
    if "\x00" in login:
        return None  # no stored email or phone holds NUL (and PostgreSQL text cannot)
    if "@" in login:
        query = select(User).where(func.lower(User.email) == login.lower())
    else:
        try:
            query = select(User).where(User.phone == normalize_phone(login, region))
        except Invalid:
            return None
    with system(session, Crossing.LOGIN):
        user = session.scalar(query)
    if user is not None:
        act_as(session, user.organization_id)
    return user


def names_of(session: Session, actor: Actor, ids: Iterable[int | None]) -> dict[int, str]:
    """Full names of these user ids within the actor's organization (others are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.full_name).where(
            User.organization_id == actor.organization_id, User.id.in_(wanted)
        )
    )
    return {row.id: row.full_name for row in rows}


def first_name(full_name: str) -> str:
    """What a person is greeted by: the first word of their full name ("" for none)."""
    names = full_name.split()
    return names[0] if names else ""


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is chatting: the user's name and language, the employer's name and time zone."""

    full_name: str
    language: str
    employer: str
    timezone: str


def get_speaker(session: Session, actor: Actor) -> Speaker:
    """The acting user's and their employer's facts the assistant speaks with."""
    # One statement for the user's and the employer's facts, scoped to the actor's org.
    row = session.execute(
        select(User.full_name, User.language, Organization.name, Organization.timezone)
        .join(Organization, Organization.id == User.organization_id)
        .where(User.id == actor.user_id, User.organization_id == actor.organization_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No employee with id {actor.user_id}.", code="employee_not_found")
    full_name, language, employer, timezone = row
    return Speaker(full_name=full_name, language=language, employer=employer, timezone=timezone)


def get_organization(session: Session, actor: Actor) -> Organization:
    """The actor's own organization."""
    org = session.get(Organization, actor.organization_id)
    if org is None:
        raise NotFound("Organization not found.", code="organization_not_found")
    return org


def _check_contact_free(session: Session, *, email: str | None, phone: str | None) -> None:
    clauses = []
    if email:
        clauses.append(User.email == email)
    if phone:
        clauses.append(User.phone == phone)
    if not clauses:
        return
    # Logins are global: another employer's person may hold the address already.
    with system(session, Crossing.LOGIN):
        taken = session.scalar(select(User.id).where(or_(*clauses)).limit(1))
    if taken is not None:
        raise Conflict("That email or phone number is already registered.", code="contact_taken")


@audited("employee.create", target_type="user")
def create_employee(
    session: Session,
    actor: Actor,
    *,
    full_name: str,
    role: Role = Role.EMPLOYEE,
    email: str | None = None,
    phone: str | None = None,
    national_id: str | None = None,
    hire_date: date,
    reports_to_id: int | None = None,
    department_id: int | None = None,
    password: str | None = None,
    language: str = "en",
) -> User:
    """Add a person to the actor's organization."""
    actor.require(Permission.EMPLOYEE_MANAGE)
    if role in (Role.ADMIN, Role.HR) and actor.role != Role.ADMIN:
        raise Forbidden("Only an admin may create hr or admin accounts.")
    org = get_organization(session, actor)
    if not full_name.strip():
        raise Invalid("A name is required.", code="name_required")
    if not email and not phone:
        raise Invalid("An email or a phone number is required.", code="contact_required")
    email = normalize_email(email) if email else None
    phone = normalize_phone(phone, org.country) if phone else None
    _check_contact_free(session, email=email, phone=phone)
    if reports_to_id is not None:
        get_for_org(session, actor, User, reports_to_id, what="employee")
    if department_id is not None:
        get_for_org(session, actor, Department, department_id, what="department")
    user = User(
        organization_id=actor.organization_id,
        full_name=full_name.strip(),
        role=role,
        email=email,
        phone=phone,
        national_id=national_id,
        hire_date=hire_date,
        reports_to_id=reports_to_id,
        department_id=department_id,
        password_hash=hash_secret(password) if password else None,
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def visible_employee(session: Session, actor: Actor, employee_id: int) -> User:
    """Load an employee the actor may see: self, a direct report, or anyone for hr/admin.

    Another organization's employee is "not found"; a colleague outside the
    actor's reach is "forbidden".
    """
    user = get_for_org(session, actor, User, employee_id, what="employee")
    if user.id == actor.user_id or actor.scope is Scope.ORGANIZATION:
        return user
    if actor.scope is Scope.TEAM and user.reports_to_id == actor.user_id:
        return user
    raise Forbidden("You may only see your own records or your team's.", code="outside_scope")


def hr_contacts(
    session: Session, organization_id: int, *, exclude_id: int | None = None
) -> list[User]:
    """Active hr people, or the admins when there are none, so nothing goes unread."""
    for role in (Role.HR, Role.ADMIN):
        query = select(User).where(
            User.organization_id == organization_id,
            User.role == role,
            User.is_active.is_(True),
        )
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        users = list(session.scalars(query.order_by(User.id)))
        if users:
            return users
    return []


def team_ids(session: Session, actor: Actor) -> list[int]:
    """Ids of the actor's direct reports."""
    return list(
        session.scalars(
            select(User.id).where(
                User.organization_id == actor.organization_id,
                User.reports_to_id == actor.user_id,
            )
        )
    )


@audited("employee.read", target_type="user", target_arg="employee_id")
def get_employee(session: Session, actor: Actor, *, employee_id: int) -> User:
    """One employee's record, if the actor may see it."""
    actor.require(Permission.EMPLOYEE_READ)
    return visible_employee(session, actor, employee_id)


@audited("employee.list", target_type="user")
def list_employees(
    session: Session,
    actor: Actor,
    *,
    include_inactive: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[User]:
    """The employees the actor may see, by name."""
    actor.require(Permission.EMPLOYEE_READ)
    query = select(User).where(User.organization_id == actor.organization_id)
    if actor.scope is Scope.SELF:
        query = query.where(User.id == actor.user_id)
    elif actor.scope is Scope.TEAM:
        query = query.where(or_(User.id == actor.user_id, User.reports_to_id == actor.user_id))
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    return list(
        session.scalars(query.order_by(User.full_name, User.id).limit(limit).offset(offset))
    )


@audited("employee.deactivate", target_type="user", target_arg="employee_id")
def deactivate_employee(session: Session, actor: Actor, *, employee_id: int) -> User:
    """Mark an employee as having left; they can no longer sign in."""
    actor.require(Permission.EMPLOYEE_MANAGE)
    user = get_for_org(session, actor, User, employee_id, what="employee")
    if user.id == actor.user_id:
        raise Conflict("You cannot deactivate your own account.", code="self_deactivation")
    user.is_active = False
    session.flush()
    return user


@audited("employee.set_pin", target_type="user")
def set_pin(session: Session, actor: Actor, *, pin: str) -> User:
    """Set the acting user's 4-digit PIN for phone channels (USSD, SMS)."""
    if len(pin) != 4 or not pin.isdigit():
        raise Invalid("A PIN is exactly 4 digits.", code="invalid_pin")
    if pin in {"0000", "1234", "1111"}:
        raise Invalid("That PIN is too easy to guess.", code="weak_pin")
    user = get_for_org(session, actor, User, actor.user_id, what="employee")
    user.pin_hash = hash_secret(pin)
    session.flush()
    return user


#: Wrong PINs in a row that lock phone access, and for how long.
PIN_ATTEMPTS = 3
PIN_LOCK = timedelta(minutes=30)


class PinCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    #: Phone access is locked (now, or by this very attempt).
    LOCKED = "locked"
    #: No PIN set yet (never, or hr reset it).
    UNSET = "unset"


def phone_locked_until(user: User) -> datetime | None:
    """Until when `user`'s phone access is locked after wrong PINs; None when it is not."""
    until = user.pin_locked_until
    return until if until is not None and until > clock.now() else None


def check_pin(session: Session, actor: Actor, *, pin: str) -> PinCheck:
    """Check the acting user's phone PIN; PIN_ATTEMPTS wrong in a row lock phone access.

    The count is written whatever the answer, so the caller must commit a wrong one too.
    """
    user = get_for_org(session, actor, User, actor.user_id, what="employee", lock=True)
    if phone_locked_until(user) is not None:
        outcome = PinCheck.LOCKED
    elif user.pin_hash is None:
        outcome = PinCheck.UNSET
    elif verify_secret(pin, user.pin_hash):
        user.pin_failed_attempts, user.pin_locked_until = 0, None
        outcome = PinCheck.OK
    else:
        user.pin_failed_attempts += 1
        outcome = PinCheck.WRONG
        if user.pin_failed_attempts >= PIN_ATTEMPTS:
            user.pin_failed_attempts = 0
            user.pin_locked_until = clock.now() + PIN_LOCK
            outcome = PinCheck.LOCKED
    record(
        session, actor, "employee.pin_check", outcome=outcome, target_type="user", target_id=user.id
    )
    session.flush()
    return outcome


@audited("employee.reset_pin", target_type="user", target_arg="employee_id")
def reset_pin(session: Session, actor: Actor, *, employee_id: int) -> User:
    """Clear an employee's phone PIN and lock (hr, admin); they choose a new PIN next time."""
    actor.require(Permission.EMPLOYEE_MANAGE)
    user = get_for_org(session, actor, User, employee_id, what="employee", lock=True)
    user.pin_hash, user.pin_failed_attempts, user.pin_locked_until = None, 0, None
    session.flush()
    if user.phone and user.id != actor.user_id:
        notify(
            session,
            user,
            kind="pin.reset",
            text="Your Ajira phone PIN was reset by HR. You will choose a new one the next "
            "time you open your payslip or approvals.",
            channel=Channel.SMS,
        )
    return user


LANGUAGES = ("en", "sw")


@audited("employee.set_language", target_type="user")
def set_language(session: Session, actor: Actor, *, language: str) -> User:
    """Remember the language (en or sw) the acting user chats in."""
    if language not in LANGUAGES:
        raise Invalid(
            f"Unsupported language {language!r}; use one of: {', '.join(LANGUAGES)}.",
            code="unsupported_language",
        )
    user = get_for_org(session, actor, User, actor.user_id, what="employee")
    if user.language != language:
        user.language = language
        session.flush()
    return user


def create_organization(
    session: Session,
    *,
    slug: str,
    name: str,
    country: str,
    timezone: str,
    currency: str,
    **settings: object,
) -> Organization:
    """Register a new employer (a platform operation: seeds and onboarding, no actor).

    The session then acts for it.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    import holidays

    if country not in holidays.list_supported_countries():
        raise Invalid(f"Unknown country code {country!r}.", code="invalid_country")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"Unknown time zone {timezone!r}.", code="invalid_timezone") from exc
    with system(session, Crossing.OPERATIONS):
        if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
            raise Conflict(f"Organization {slug!r} already exists.", code="organization_exists")
        org = Organization(
            slug=slug, name=name, country=country, timezone=timezone, currency=currency, **settings
        )
        session.add(org)
        session.flush()
    # What follows (its sites, leave types, first admin) belongs to the new employer.
    act_as(session, org.id)
    return org


def actor_for(user: User, channel: Channel = Channel.API) -> Actor:
    """The `Actor` for an authenticated user on `channel`."""
    return Actor(
        user_id=user.id, organization_id=user.organization_id, role=user.role, channel=channel
    )
