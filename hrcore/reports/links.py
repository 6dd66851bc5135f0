"""Short-lived signed links to report charts, for chat apps that cannot send a bearer token.

A link names one chart (its kind, period and language) and the person it was made
for, and is signed with its own key (`hrcore.keys.report_link_key`), so it cannot
be turned into an access token or the other way round. Opening it checks the
signature and the expiry, then reads the person's current account: a deactivated
user, or one whose role or employer changed, gets nothing. The chart is then drawn
with that person's own rights, exactly as if they had asked with a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import jwt
from sqlalchemy.orm import Session

from hrcore import clock, keys
from hrcore.actor import Actor, Channel
from hrcore.config import get_settings
from hrcore.errors import Forbidden
from hrcore.people.models import User
from hrcore.people.service import actor_for
from hrcore.reports.words import LANGUAGES, Language
from hrcore.tenancy import act_as

#: Long enough to open a link from a chat a little later, short enough not to matter leaked.
LINK_LIFETIME = timedelta(minutes=30)
#: Where signed links are served (the route in `api.routes.reports` answers this path).
SHARED_PATH = "/api/v1/reports/shared/chart"
_ALGORITHM = "HS256"
_TYPE = "report-chart"
_LEEWAY = timedelta(seconds=10)

ChartKind = Literal["work", "lateness", "wellness"]
_KINDS: tuple[ChartKind, ...] = ("work", "lateness", "wellness")


@dataclass(frozen=True, slots=True)
class ChartRequest:
    """Which chart: `work` (year, month), `lateness` (months up to year, month), `wellness`."""

    kind: ChartKind
    language: Language
    year: int | None = None
    month: int | None = None
    months: int | None = None
    weeks: int | None = None


def _claims(actor: Actor, chart: ChartRequest, lifetime: timedelta) -> dict[str, Any]:
    now = clock.now()
    spec: dict[str, Any] = {"k": chart.kind, "l": chart.language}
    for name in ("year", "month", "months", "weeks"):
        value = getattr(chart, name)
        if value is not None:
            spec[name[0] if name != "months" else "n"] = value
    return {
        "typ": _TYPE,
        "sub": str(actor.user_id),
        "org": actor.organization_id,
        "role": str(actor.role),
        "ch": str(actor.channel),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "c": spec,
    }


def sign(actor: Actor, chart: ChartRequest, *, lifetime: timedelta = LINK_LIFETIME) -> str:
    """The signed token of a link to `chart`, for `actor`, valid for `lifetime`."""
    key = keys.report_link_key()
    return jwt.encode(
        _claims(actor, chart, lifetime),
        key,
        algorithm=_ALGORITHM,
        headers={"kid": keys.key_id(key)},
    )


def chart_link(
    actor: Actor,
    chart: ChartRequest,
    *,
    fmt: Literal["png", "svg"] = "png",
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """The link to `chart` as an image: absolute under `AJIRA_PUBLIC_URL`, else a path."""
    base = (get_settings().public_url or "").rstrip("/")
    query = urlencode({"token": sign(actor, chart, lifetime=lifetime)})
    return f"{base}{SHARED_PATH}.{fmt}?{query}"


def _invalid() -> Forbidden:
    return Forbidden("This chart link is not valid. Ask for the chart again.", code="link_invalid")


def _verified(token: str) -> dict[str, Any]:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in keys.report_link_keys() if keys.key_id(k) == kid), None)
        if key is None:
            raise _invalid()
        # Expiry is checked below against our own clock, so tests and replicas agree.
        return jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            options={"require": ["typ", "sub", "org", "role", "exp", "c"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise _invalid() from None


def _chart(spec: Any) -> ChartRequest:
    if not isinstance(spec, dict) or spec.get("k") not in _KINDS or spec.get("l") not in LANGUAGES:
        raise _invalid()
    numbers = {name: spec.get(short) for name, short in (("year", "y"), ("month", "m"))}
    numbers |= {"months": spec.get("n"), "weeks": spec.get("w")}
    if any(
        v is not None and (isinstance(v, bool) or not isinstance(v, int)) for v in numbers.values()
    ):
        raise _invalid()
    return ChartRequest(kind=spec["k"], language=spec["l"], **numbers)


def open_link(session: Session, token: str) -> tuple[Actor, ChartRequest]:
    """The person a link was made for (as they are now) and the chart it names.

    Refused with `link_invalid` when the token was altered or names no current
    account as it was, and `link_expired` once its time is up.
    """
    claims = _verified(token)
    if claims.get("typ") != _TYPE:
        raise _invalid()
    if int(claims["exp"]) + _LEEWAY.total_seconds() < clock.now().timestamp():
        raise Forbidden(
            "This chart link has expired. Ask for the chart again.", code="link_expired"
        )
    chart = _chart(claims["c"])
    try:
        user_id = int(claims["sub"])
        channel = Channel(claims.get("ch", Channel.API))
    except (TypeError, ValueError):
        raise _invalid() from None
    if isinstance(claims["org"], bool) or not isinstance(claims["org"], int):
        raise _invalid()
    # Signed by us: the organization it names is whose rows the link may show.
    act_as(session, claims["org"])
    user = session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or user.organization_id != claims["org"]
        or str(user.role) != claims["role"]
    ):
        raise _invalid()
    return actor_for(user, channel), chart
