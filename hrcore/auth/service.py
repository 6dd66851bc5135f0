"""Sign-in: passwords to tokens, refresh-token rotation, logout, and tokens back to an `Actor`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hrcore import clock, ratelimit
from hrcore.actor import Actor, Channel
from hrcore.audit import record
from hrcore.auth import tokens
from hrcore.auth.models import AuthSession, RefreshToken
from hrcore.config import get_settings
from hrcore.db import rowcount
from hrcore.errors import Unauthenticated
from hrcore.people.models import User
from hrcore.people.service import actor_for, canonical_login, find_user_by_login
from hrcore.security import verify_secret
from hrcore.tenancy import Crossing, act_as, system

_BAD_CREDENTIALS = "The login or password is not correct."


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a successful sign-in or refresh hands the client."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds until the access token expires
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated(_BAD_CREDENTIALS, code="invalid_credentials")


def _issue_pair(session: Session, user: User, *, session_id: str) -> TokenPair:
    access = tokens.issue_access_token(
        user_id=user.id, organization_id=user.organization_id, role=user.role, session_id=session_id
    )
    refresh = tokens.issue_refresh_token(user_id=user.id, family_id=session_id)
    session.add(
        RefreshToken(
            id=refresh.jti,
            organization_id=user.organization_id,
            user_id=user.id,
            family_id=session_id,
            expires_at=refresh.expires_at,
        )
    )
    session.flush()
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh.token,
        expires_in=get_settings().access_token_minutes * 60,
    )


def _audit_login(actor: Actor | None, outcome: str) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        target = actor.user_id if actor else None
        record(session, actor, "auth.login", outcome=outcome, target_type="user", target_id=target)

    return write


def _throttle(login: str, client: str) -> tuple[str, str]:
    """Count this attempt from `client` for `login`; raise `RateLimited` past the limits.

    Counted before the password is checked, atomically, so parallel guesses cannot all be
    checked before the limit lands. Keyed by the login as typed (canonical form), known or
    not, so the answer never tells whether an account exists; and by address, so an
    attacker elsewhere cannot lock the real user out.
    """
    settings = get_settings()
    who = ratelimit.private(canonical_login(login, region=settings.default_region))
    where = ratelimit.private(client)
    message = "Too many sign-in attempts. Wait a while, then try again."
    ratelimit.hit(settings.login_limit_per_address, "login-address", where, message=message)
    ratelimit.hit(settings.login_limit_per_account, "login-account", who, where, message=message)
    return who, where


def login(
    session: Session,
    *,
    login: str,
    password: str,
    client: str = "unknown",
    channel: Channel = Channel.API,
) -> TokenPair:
    """Exchange an email or phone and a password for an access and a refresh token.

    `client` is the caller's network address; sign-in attempts are limited per address
    and per (login, address), and a right password clears the latter.
    """
    who, where = _throttle(login, client)
    user = find_user_by_login(session, login, region=get_settings().default_region)
    if user is None:
        # Same hashing cost and answer as a wrong password; the login itself is not recorded
        # because it may be someone's mistyped password or another person's contact.
        verify_secret(password, None)
        raise _invalid_credentials().keep(_audit_login(None, "invalid_credentials"))

    actor = actor_for(user, channel)
    if not verify_secret(password, user.password_hash) or not user.is_active:
        raise _invalid_credentials().keep(_audit_login(actor, "invalid_credentials"))

    ratelimit.clear(get_settings().login_limit_per_account, "login-account", who, where)
    pair = open_session(session, user)
    _audit_login(actor, "ok")(session)
    session.flush()
    return pair


def open_session(session: Session, user: User) -> TokenPair:
    """Start a sign-in session for `user`, who was already authenticated, and its tokens."""
    started = AuthSession(
        id=tokens.new_token_id(), organization_id=user.organization_id, user_id=user.id
    )
    session.add(started)
    return _issue_pair(session, user, session_id=started.id)


def _end_session(session: Session, session_id: str, reason: str) -> int:
    """Revoke a sign-in session and its refresh tokens; return how many tokens it had live."""
    now = clock.now()
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == session_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return rowcount(result)


def _audit_token_event(
    session: Session, user: User | None, action: str, outcome: str, organization_id: int | None
) -> None:
    actor = actor_for(user) if user is not None else None
    record(
        session,
        actor,
        action,
        outcome=outcome,
        target_type="user",
        target_id=user.id if user is not None else None,
        organization_id=organization_id,
    )
    session.flush()


def _act_for_token(session: Session, token_id: str) -> None:
    """Act for the organization of a presented (signature-checked) refresh token."""
    # A refresh token names no organization: its row does, and only its own is read.
    with system(session, Crossing.LOGIN):
        org = session.scalar(
            select(RefreshToken.organization_id).where(RefreshToken.id == token_id)
        )
    if org is not None:
        act_as(session, org)


def refresh(session: Session, *, refresh_token: str, client: str = "unknown") -> TokenPair:
    """Rotate a refresh token: the presented one is spent and a new pair is issued.

    A token presented twice means it was copied: its whole sign-in session is ended.
    """
    ratelimit.hit(
        get_settings().refresh_limit,
        "refresh",
        ratelimit.private(client),
        message="Too many token refreshes. Wait a moment, then try again.",
    )
    claims = tokens.decode_refresh_token(refresh_token)
    _act_for_token(session, claims.jti)
    row = session.get(RefreshToken, claims.jti, with_for_update=True, populate_existing=True)
    if row is None or row.user_id != claims.user_id or row.family_id != claims.family_id:
        raise Unauthenticated("The token is not valid. Sign in again.", code="invalid_token")
    user = session.get(User, row.user_id)
    now = clock.now()
    if row.used_at is not None or row.revoked_at is not None:
        # Plain values: the objects expire with the rolled-back transaction.
        family, org = row.family_id, row.organization_id
        owner_id = user.id if user is not None else None
        reused = Unauthenticated(
            "This refresh token was already used; every session it belongs to is now "
            "signed out. Sign in again.",
            code="refresh_token_reused",
        )

        def end_the_session(side: Session) -> None:
            # A copied token: end the whole sign-in, for its thief and its owner alike.
            _end_session(side, family, "refresh_token_reused")
            owner = side.get(User, owner_id) if owner_id is not None else None
            _audit_token_event(side, owner, "auth.refresh", "refresh_token_reused", org)

        raise reused.keep(end_the_session)
    if row.expires_at <= now - tokens.LEEWAY:
        raise Unauthenticated("The token has expired.", code="token_expired")
    if user is None or not user.is_active:
        raise _invalid_credentials()
    row.used_at = now
    pair = _issue_pair(session, user, session_id=row.family_id)
    _audit_token_event(session, user, "auth.refresh", "ok", row.organization_id)
    return pair


def logout(session: Session, *, refresh_token: str) -> None:
    """Revoke the login session (token family) of `refresh_token`; repeating it is harmless."""
    # An expired token still proves which session to end; only its signature matters here.
    claims = tokens.decode_refresh_token(refresh_token, allow_expired=True)
    _act_for_token(session, claims.jti)
    row = session.get(RefreshToken, claims.jti)
    if row is None or row.family_id != claims.family_id or row.user_id != claims.user_id:
        return
    if _end_session(session, claims.family_id, "logout"):
        user = session.get(User, row.user_id)
        _audit_token_event(session, user, "auth.logout", "ok", row.organization_id)


def authenticate_access_token(session: Session, token: str, channel: Channel) -> Actor:
    """The `Actor` for a bearer access token, from the user's and the session's current state.

    One indexed read per request: an ended session (logout, a replayed refresh token),
    a deactivated user or a changed role ends the token's access at once.
    """
    claims = tokens.decode_access_token(token)
    # Signed by us: the organization it names is whose rows this request may see.
    act_as(session, claims.organization_id)
    found = session.execute(
        select(User, AuthSession.revoked_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(User.id == claims.user_id, AuthSession.id == claims.session_id)
    ).one_or_none()
    if found is None:
        raise _invalid_credentials()
    user, revoked_at = found
    if revoked_at is not None:
        raise Unauthenticated("This session has ended. Sign in again.", code="session_ended")
    if not user.is_active:
        raise _invalid_credentials()
    if user.organization_id != claims.organization_id or user.role != claims.role:
        raise Unauthenticated(
            "Your access has changed since this token was issued. Refresh it or sign in again.",
            code="token_outdated",
        )
    return actor_for(user, channel)
