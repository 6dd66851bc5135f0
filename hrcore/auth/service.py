"""Sign-in: passwords to tokens, refresh-token rotation, logout, and tokens back to an `Actor`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hrcore import clock
from hrcore.actor import Actor, Channel
from hrcore.audit import record
from hrcore.auth import tokens
from hrcore.auth.models import RefreshToken
from hrcore.config import get_settings
from hrcore.errors import HRError, Locked, Unauthenticated
from hrcore.people.models import User
from hrcore.people.service import actor_for, find_user_by_login
from hrcore.security import verify_secret

_BAD_CREDENTIALS = "The login or password is not correct."


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a successful sign-in or refresh hands the client."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds until the access token expires
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


def _kept(exc: HRError) -> HRError:
    # The caller's unit of work commits these writes (failure counts, revocations, audit).
    exc.keep_changes = True
    return exc


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated(_BAD_CREDENTIALS, code="invalid_credentials")


def _issue_pair(session: Session, user: User, *, family_id: str) -> TokenPair:
    access = tokens.issue_access_token(
        user_id=user.id, organization_id=user.organization_id, role=user.role
    )
    refresh = tokens.issue_refresh_token(user_id=user.id, family_id=family_id)
    session.add(
        RefreshToken(
            id=refresh.jti,
            organization_id=user.organization_id,
            user_id=user.id,
            family_id=family_id,
            expires_at=refresh.expires_at,
        )
    )
    session.flush()
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh.token,
        expires_in=get_settings().access_token_minutes * 60,
    )


def _lock_row(session: Session, user: User) -> User:
    """Reload `user` under a row lock so concurrent failures are all counted."""
    locked = session.scalar(
        select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _audit_login(session: Session, actor: Actor, outcome: str) -> None:
    record(
        session, actor, "auth.login", outcome=outcome, target_type="user", target_id=actor.user_id
    )
    session.flush()


def login(
    session: Session, *, login: str, password: str, channel: Channel = Channel.API
) -> TokenPair:
    """Exchange an email or phone and a password for an access and a refresh token."""
    settings = get_settings()
    now = clock.now()
    user = find_user_by_login(session, login, region=settings.default_region)
    if user is None:
        # Same hashing cost and answer as a wrong password; the login itself is not recorded
        # because it may be someone's mistyped password or another person's contact.
        verify_secret(password, None)
        record(session, None, "auth.login", outcome="invalid_credentials")
        session.flush()
        raise _kept(_invalid_credentials())

    actor = actor_for(user, channel)
    if user.locked_until is not None and user.locked_until > now:
        minutes = _minutes_left(user.locked_until, now)
        _audit_login(session, actor, "account_locked")
        raise _kept(
            Locked(
                f"Too many failed sign-ins. Try again in {minutes} minute"
                f"{'' if minutes == 1 else 's'}.",
                minutes_left=minutes,
            )
        )

    if not verify_secret(password, user.password_hash):
        user = _lock_row(session, user)
        if user.locked_until is not None and user.locked_until <= now:
            # A lock that has run out gives a fresh set of attempts.
            user.failed_login_count = 0
            user.locked_until = None
        user.failed_login_count += 1
        if user.failed_login_count >= settings.max_failed_logins:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        _audit_login(session, actor, "invalid_credentials")
        raise _kept(_invalid_credentials())

    if not user.is_active:
        _audit_login(session, actor, "invalid_credentials")
        raise _kept(_invalid_credentials())

    if user.failed_login_count or user.locked_until is not None:
        user.failed_login_count = 0
        user.locked_until = None
    pair = _issue_pair(session, user, family_id=tokens.new_token_id())
    _audit_login(session, actor, "ok")
    return pair


def _revoke_family(session: Session, family_id: str) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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


def refresh(session: Session, *, refresh_token: str) -> TokenPair:
    """Rotate a refresh token: the presented one is spent and a new pair is issued.

    A token presented twice means it was copied: the whole family is revoked.
    """
    claims = tokens.decode_refresh_token(refresh_token)
    row = session.get(RefreshToken, claims.jti, with_for_update=True, populate_existing=True)
    if row is None or row.user_id != claims.user_id or row.family_id != claims.family_id:
        raise Unauthenticated("The token is not valid. Sign in again.", code="invalid_token")
    user = session.get(User, row.user_id)
    now = clock.now()
    if row.used_at is not None or row.revoked_at is not None:
        _revoke_family(session, row.family_id)
        _audit_token_event(
            session, user, "auth.refresh", "refresh_token_reused", row.organization_id
        )
        raise _kept(
            Unauthenticated(
                "This refresh token was already used; every session it belongs to is now "
                "signed out. Sign in again.",
                code="refresh_token_reused",
            )
        )
    if row.expires_at <= now - tokens.LEEWAY:
        raise Unauthenticated("The token has expired.", code="token_expired")
    if user is None or not user.is_active:
        raise _invalid_credentials()
    row.used_at = now
    pair = _issue_pair(session, user, family_id=row.family_id)
    _audit_token_event(session, user, "auth.refresh", "ok", row.organization_id)
    return pair


def logout(session: Session, *, refresh_token: str) -> None:
    """Revoke the login session (token family) of `refresh_token`; repeating it is harmless."""
    # An expired token still proves which session to end; only its signature matters here.
    claims = tokens.decode_refresh_token(refresh_token, allow_expired=True)
    row = session.get(RefreshToken, claims.jti)
    if row is None or row.family_id != claims.family_id or row.user_id != claims.user_id:
        return
    if _revoke_family(session, claims.family_id):
        user = session.get(User, row.user_id)
        _audit_token_event(session, user, "auth.logout", "ok", row.organization_id)


def authenticate_access_token(session: Session, token: str, channel: Channel) -> Actor:
    """The `Actor` for a bearer access token, from the user's current state in the database."""
    claims = tokens.decode_access_token(token)
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise _invalid_credentials()
    if user.organization_id != claims.organization_id or user.role != claims.role:
        raise Unauthenticated(
            "Your access has changed since this token was issued. Refresh it or sign in again.",
            code="token_outdated",
        )
    return actor_for(user, channel)
