"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

import structlog
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import problem_responses
from hrcore import db
from hrcore.errors import HRError

router = APIRouter(tags=["health"])
log = structlog.get_logger("ajira.api")


class HealthStatus(BaseModel):
    """The probe's verdict."""

    status: Literal["ok"] = "ok"


class Unavailable(HRError):
    """A dependency the service needs is down."""

    status = 503
    code = "service_unavailable"


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> HealthStatus:
    """Answer without touching the database, so a slow database never restarts the process."""
    return HealthStatus()


@router.get(
    "/readyz",
    summary="Readiness: the database is reachable",
    responses=problem_responses(503),
)
def readyz() -> HealthStatus:
    """Run `SELECT 1`; 503 when the database cannot be reached."""
    try:
        with db.session_factory()() as session:
            session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("database_unreachable", error=type(exc).__name__)
        raise Unavailable("The database cannot be reached.", code="database_unavailable") from exc
    return HealthStatus()
