"""Sign in, rotate and revoke tokens, and say who is signed in."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ClientAddress, CurrentActor, DbSession
from api.errors import problem_responses
from hrcore.actor import Channel, Role
from hrcore.auth import service as auth
from hrcore.config import get_settings
from hrcore.db import unit_of_work
from hrcore.errors import RateLimited, Unauthenticated
from hrcore.people import service as people

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# Long enough for any real password; bounded so nobody makes us hash megabytes.
_MAX_PASSWORD = 1024


class LoginRequest(BaseModel):
    """Credentials: an email address or a phone number, and the password."""

    model_config = ConfigDict(extra="forbid")

    login: str = Field(
        min_length=1,
        max_length=320,
        description="Email address, or phone number (E.164 or local, e.g. 0712 345 678).",
        examples=["john@demo.ajira.test"],
    )
    password: str = Field(min_length=1, max_length=_MAX_PASSWORD, examples=["demo-pass-2026"])


class LoginForm(BaseModel):
    """The OAuth2 password grant, as /docs' Authorize button sends it."""

    grant_type: Literal["password"] | None = None
    username: str = Field(min_length=1, max_length=320, description="Email address or phone.")
    password: str = Field(min_length=1, max_length=_MAX_PASSWORD)
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = None


class RefreshRequest(BaseModel):
    """A refresh token from an earlier sign-in or refresh."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    """A new access token (short-lived) and refresh token (rotated on every use)."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires.")


class OrganizationRead(BaseModel):
    """The employer the user works for."""

    id: int
    slug: str
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2 country code.")
    timezone: str = Field(description="IANA time zone, e.g. Africa/Nairobi.")


class MeResponse(BaseModel):
    """The signed-in user."""

    id: int
    full_name: str
    email: str | None
    phone: str | None = Field(description="E.164, e.g. +254712345678.")
    role: Role
    language: str
    organization: OrganizationRead
    reports_to_id: int | None


def _validation_error(exc: ValidationError, rename: dict[str, str]) -> RequestValidationError:
    errors = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(rename.get(str(part), part) for part in error["loc"])
        errors.append({**error, "loc": ("body", *loc)})
    return RequestValidationError(errors)


async def read_credentials(request: Request) -> LoginRequest:
    """Accept the JSON body or the OAuth2 password form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    rename: dict[str, str] = {}
    data: Any
    if content_type in _FORM_TYPES:
        form = await request.form()
        values = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
        try:
            parsed = LoginForm.model_validate(values)
        except ValidationError as exc:
            raise _validation_error(exc, {}) from None
        data = {"login": parsed.username, "password": parsed.password}
        rename = {"login": "username"}
    elif content_type in {"", "application/json"} or content_type.endswith("+json"):
        try:
            data = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not valid JSON."}]
            ) from None
    else:
        raise StarletteHTTPException(
            415, detail="Send JSON or an application/x-www-form-urlencoded form."
        )
    try:
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, rename) from None


def _tokens(pair: auth.TokenPair, response: Response) -> TokenResponse:
    # Tokens must never sit in a shared or browser cache (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": LoginForm.model_json_schema()},
        },
    }
}


@lru_cache
def _sign_in_threads() -> anyio.CapacityLimiter:
    # Sign-ins run on a few threads of their own: a flood of them waits here, on the event
    # loop, instead of taking every worker thread from the requests behind it.
    return anyio.CapacityLimiter(get_settings().hash_concurrency + 2)


def _sign_in(credentials: LoginRequest, client: str) -> auth.TokenPair:
    with unit_of_work() as session:
        return auth.login(
            session,
            login=credentials.login,
            password=credentials.password,
            client=client,
            channel=Channel.API,
        )


@router.post(
    "/login",
    summary="Sign in with an email or phone and a password",
    openapi_extra=_LOGIN_BODY,
    responses=problem_responses(401, 415, 422, 429),
)
async def login(
    credentials: Annotated[LoginRequest, Depends(read_credentials)],
    client: ClientAddress,
    response: Response,
) -> TokenResponse:
    """Five wrong passwords in a row from one address pause that login there (429)."""
    try:
        pair = await anyio.to_thread.run_sync(
            partial(_sign_in, credentials, client), limiter=_sign_in_threads()
        )
    except (Unauthenticated, RateLimited):
        # Every refusal is answered after the same pause, on the event loop where waiting
        # costs nothing: a guessing loop slows to a crawl, and a person who mistyped waits
        # a moment. Known and unknown logins alike, so the pause tells nothing either.
        await anyio.sleep(get_settings().login_failure_delay_s)
        raise
    return _tokens(pair, response)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair",
    responses=problem_responses(401, 422, 429),
)
def refresh(
    body: RefreshRequest, session: DbSession, client: ClientAddress, response: Response
) -> TokenResponse:
    """The presented refresh token is spent; presenting it again signs the session out."""
    pair = auth.refresh(session, refresh_token=body.refresh_token, client=client)
    return _tokens(pair, response)


@router.post(
    "/logout",
    summary="Sign out: revoke the refresh token's session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422),
)
def logout(body: RefreshRequest, session: DbSession) -> Response:
    """Idempotent: signing out of a session that already ended succeeds."""
    auth.logout(session, refresh_token=body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", summary="The signed-in user", responses=problem_responses(401))
def me(actor: CurrentActor, session: DbSession) -> MeResponse:
    """Who the access token belongs to, and their employer."""
    user = people.get_employee(session, actor, employee_id=actor.user_id)
    org = user.organization
    return MeResponse(
        id=user.id,
        full_name=user.full_name,
        email=user.email,
        phone=user.phone,
        role=user.role,
        language=user.language,
        organization=OrganizationRead(
            id=org.id, slug=org.slug, name=org.name, country=org.country, timezone=org.timezone
        ),
        reports_to_id=user.reports_to_id,
    )
