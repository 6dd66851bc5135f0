"""One place that turns every error into `application/problem+json` (RFC 9457)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from hrcore.errors import HRError, RateLimited, Unauthenticated

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ajira.app/problems/"

log = structlog.get_logger("ajira.api")

#: What a 503 asks clients to wait; the embedded database is back within a few seconds.
RETRY_AFTER_S = 5
# SQLSTATE classes that mean "not now" rather than "never": connection exception,
# insufficient resources (too many connections), operator intervention (shutdown,
# starting up, cancelled), system error.
_OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})

# Detail keys that could carry personal data or secrets never reach a response.
_UNSAFE_DETAIL_KEYS = ("password", "pin", "phone", "national_id", "token", "secret", "email")
_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class FieldError(BaseModel):
    """One invalid input field."""

    field: str = Field(description="Dotted path of the field within its location.")
    location: str = Field(description="Where the field was sent: body, query, path or header.")
    message: str
    type: str = Field(description="A stable machine-readable error type.")


class Problem(BaseModel):
    """An RFC 9457 problem document; `code` is stable and safe to branch on."""

    type: str = Field(examples=["https://ajira.app/problems/invalid_credentials"])
    title: str
    status: int
    detail: str | None = None
    code: str
    details: dict[str, Any] | None = None
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json bodies for `statuses`."""
    # FastAPI files `model` under application/json; `problem_json_openapi` moves it.
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }


_PROBLEM_REF = "#/components/schemas/Problem"
_FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}},
    }


# What any route may answer, whatever it does: a body that is not what it claims or is
# too large (api.middleware), and the database being out of reach (503 with Retry-After).
_WITH_A_BODY = (400, 413)
_ANY_ROUTE = (431, 503)


def problem_json_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe every error response as the problem+json this module actually sends."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            common = _ANY_ROUTE + (_WITH_A_BODY if "requestBody" in operation else ())
            for status in common:
                responses.setdefault(str(status), _problem_response(status))
            for status, response in operation.get("responses", {}).items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref")
                if ref in (_PROBLEM_REF, _FASTAPI_422_REF):
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in components:
        full = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(full.pop("$defs", {}))
        components["Problem"] = full
    used = _refs(schema.get("paths", {})) | _refs(components.get("Problem"))
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}" not in used:
            components.pop(name, None)
    return schema


def _title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def problem(
    status: int,
    code: str,
    detail: str | None,
    *,
    generic: bool = False,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response. `generic` problems are plain HTTP ones (`about:blank`)."""
    body: dict[str, Any] = {
        "type": "about:blank" if generic else PROBLEM_BASE + code,
        "title": HTTPStatus(status).phrase if generic else _title(code),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, headers=all_headers, media_type=PROBLEM_JSON)


def _safe_value(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return all(_safe_value(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def _safe_details(details: dict[str, Any]) -> dict[str, Any] | None:
    safe = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in details.items()
        if _safe_value(value) and not any(word in key.lower() for word in _UNSAFE_DETAIL_KEYS)
    }
    return safe or None


async def _hr_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HRError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited) and isinstance(exc.details.get("retry_after_s"), int):
        headers["Retry-After"] = str(exc.details["retry_after_s"])
    if exc.status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    return problem(
        exc.status, exc.code, exc.message, headers=headers, details=_safe_details(exc.details)
    )


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else ""
    path = loc[1:] if location else loc
    # Never echo `input`: it may be a password.
    return {
        "field": ".".join(path) or location,
        "location": location or "body",
        "message": str(error.get("msg", "Invalid value.")),
        "type": str(error.get("type", "value_error")),
    }


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
    return problem(
        422,
        "validation_error",
        f"Some fields are missing or invalid: {fields}." if fields else "The request is invalid.",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    if status == 401:
        detail = "Sign in to continue: send `Authorization: Bearer <access token>`."
    return problem(status, code, detail, generic=True, headers=dict(exc.headers or {}))


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now, rather than that a query is wrong.

    A lost or refused connection, a server shutting down or starting up, or no pooled
    connection free in time. Programming and integrity errors are not outages.
    """
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    driver_error = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(driver_error, psycopg.InterfaceError):
        return True
    if isinstance(driver_error, psycopg.OperationalError):
        # No SQLSTATE: the client could not connect or lost the connection (pool timeouts too).
        state = driver_error.sqlstate
        return state is None or state[:2] in _OUTAGE_SQLSTATE_CLASSES
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_database_outage(exc):
        # A wrong query is a bug: let it reach `api.app.AccessLog` (logged there) and the 500.
        raise exc
    driver_error = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    # Never the message: it can quote the statement, its parameters or the server's address.
    log.warning(
        "database_unavailable",
        error=type(exc).__name__,
        db_error=type(driver_error).__name__,
        sqlstate=getattr(driver_error, "sqlstate", None),
        method=request.method,
        path=request.url.path,
    )
    return problem(
        503,
        "database_unavailable",
        f"The database cannot be reached right now; try again in {RETRY_AFTER_S} seconds.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The client learns nothing of the failure; `api.app.AccessLog` logs it with the request id.
    return problem(500, "internal_error", "Something went wrong on our side.", generic=True)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on `app`."""
    app.add_exception_handler(HRError, _hr_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # SQLAlchemy's errors and psycopg's own (used directly by the conversation memory).
    for database_error in (sa_exc.DBAPIError, sa_exc.TimeoutError, psycopg.Error):
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
