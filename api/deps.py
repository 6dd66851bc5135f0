"""Request dependencies: the database session and the authenticated actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Channel
from hrcore.auth.service import authenticate_access_token
from hrcore.db import unit_of_work

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


def client_address(request: Request) -> str:
    """The caller's network address (behind a trusted proxy, as `--proxy-headers` set it)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
