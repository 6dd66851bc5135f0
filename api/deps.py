"""Request dependencies: the database session, the authenticated actor, its right to a tool."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Channel
from hrcore.auth.service import authenticate_access_token
from hrcore.db import unit_of_work
from tools.registry import Authorized, ToolSpec, authorize

LOGIN_PATH = "/api/v1/auth/login"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH)


def get_session() -> Iterator[Session]:
    """One unit of work per request: commit on success or a `keep_changes` error, else roll back."""
    with unit_of_work() as session:
        yield session


# Scope "function" closes the unit of work before the response is sent, so a client never
# sees success for a commit that then fails, and its next request reads what it just wrote.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def current_actor(token: Annotated[str, Depends(oauth2_scheme)], session: DbSession) -> Actor:
    """The `Actor` behind the request's `Authorization: Bearer` access token."""
    # The token comes first so that a request without one is refused before any database work.
    return authenticate_access_token(session, token, Channel.API)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def authorized_for(spec: ToolSpec) -> Callable[[Actor], Authorized]:
    """A dependency that lets the caller through to `spec`: the call's one permission check.

    FastAPI runs dependencies before it reads the body or the query, so a role without the
    tool gets 403 `forbidden`, never 422 for arguments it had no right to send.
    """

    def authorized(actor: CurrentActor) -> Authorized:
        return authorize(actor, spec)

    return authorized


async def client_address(request: Request) -> str:
    """The caller's network address (behind a trusted proxy, as `--proxy-headers` set it).

    `async` though it awaits nothing: FastAPI runs a plain function dependency on the
    thread pool, and a webhook or sign-in should not wait for a thread to read a field.
    """
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
