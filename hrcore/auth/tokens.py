"""Signed JWTs: short-lived access tokens and rotating refresh tokens (HS256)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from hrcore import clock, keys
from hrcore.actor import Role
from hrcore.config import get_settings
from hrcore.errors import Unauthenticated

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
# Several API replicas check tokens against their own clocks; forgive small drift.
LEEWAY = timedelta(seconds=10)

_ACCESS_CLAIMS = ["sub", "org", "role", "typ", "iat", "exp", "jti", "sid"]
_REFRESH_CLAIMS = ["sub", "typ", "jti", "fam", "exp"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What an access token says about its bearer."""

    user_id: int
    organization_id: int
    role: Role
    jti: str
    session_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    """What a refresh token says: whose it is and which login session (family) it belongs to."""

    user_id: int
    jti: str
    family_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly signed token with its id and expiry."""

    token: str
    jti: str
    expires_at: datetime


def new_token_id() -> str:
    """A random token (or family) id."""
    return str(uuid.uuid4())


def _sign(claims: dict[str, Any]) -> str:
    key = keys.token_key()
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": keys.key_id(key)})


def _verification_key(token: str) -> bytes:
    """The key named by the token's `kid`: the current one or one being rotated out."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    for key in keys.token_keys():
        if keys.key_id(key) == kid:
            return key
    raise _invalid()


def issue_access_token(
    *, user_id: int, organization_id: int, role: Role, session_id: str
) -> IssuedToken:
    """Sign an access token valid for `settings.access_token_minutes`."""
    issued = clock.now().replace(microsecond=0)
    expires = issued + timedelta(minutes=get_settings().access_token_minutes)
    jti = new_token_id()
    token = _sign(
        {
            "sub": str(user_id),
            "org": organization_id,
            "role": str(role),
            "typ": ACCESS,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": jti,
            "sid": session_id,
        }
    )
    return IssuedToken(token=token, jti=jti, expires_at=expires)


def issue_refresh_token(*, user_id: int, family_id: str) -> IssuedToken:
    """Sign a refresh token in `family_id`, valid for `settings.refresh_token_days`."""
    issued = clock.now().replace(microsecond=0)
    expires = issued + timedelta(days=get_settings().refresh_token_days)
    jti = new_token_id()
    token = _sign(
        {
            "sub": str(user_id),
            "typ": REFRESH,
            "jti": jti,
            "fam": family_id,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
        }
    )
    return IssuedToken(token=token, jti=jti, expires_at=expires)


def _invalid() -> Unauthenticated:
    return Unauthenticated("The token is not valid. Sign in again.", code="invalid_token")


def _decode(token: str, *, typ: str, required: list[str], allow_expired: bool) -> dict[str, Any]:
    try:
        # Expiry is checked below against hrcore.clock, which tests and replays can freeze;
        # PyJWT would read the system clock.
        claims: dict[str, Any] = jwt.decode(
            token,
            _verification_key(token),
            algorithms=[ALGORITHM],
            options={
                "require": required,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    if claims.get("typ") != typ:
        raise _invalid()
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise _invalid()
    if not allow_expired and exp + LEEWAY.total_seconds() <= clock.now().timestamp():
        raise Unauthenticated("The token has expired.", code="token_expired")
    return claims


def _user_id(claims: dict[str, Any]) -> int:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.isdigit():
        raise _invalid()
    return int(sub)


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise _invalid()
    return value


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def decode_access_token(token: str) -> AccessClaims:
    """Verify an access token; raise `Unauthenticated` (`invalid_token`, `token_expired`)."""
    claims = _decode(token, typ=ACCESS, required=_ACCESS_CLAIMS, allow_expired=False)
    org = claims.get("org")
    iat = claims.get("iat")
    if not isinstance(org, int) or not isinstance(iat, int):
        raise _invalid()
    role_claim = claims.get("role")
    if not isinstance(role_claim, str):
        raise _invalid()
    try:
        role = Role(role_claim)
    except ValueError as exc:
        raise _invalid() from exc
    return AccessClaims(
        user_id=_user_id(claims),
        organization_id=org,
        role=role,
        jti=_text(claims, "jti"),
        session_id=_text(claims, "sid"),
        issued_at=_instant(iat),
        expires_at=_instant(claims["exp"]),
    )


def decode_refresh_token(token: str, *, allow_expired: bool = False) -> RefreshClaims:
    """Verify a refresh token; raise `Unauthenticated` (`invalid_token`, `token_expired`).

    `allow_expired` still checks the signature: logging out needs only proof of the session.
    """
    claims = _decode(token, typ=REFRESH, required=_REFRESH_CLAIMS, allow_expired=allow_expired)
    return RefreshClaims(
        user_id=_user_id(claims),
        jti=_text(claims, "jti"),
        family_id=_text(claims, "fam"),
        expires_at=_instant(claims["exp"]),
    )
