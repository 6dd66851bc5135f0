"""One place that turns every error into `application/problem+json` (RFC 9457)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hrcore.errors import HRError, Locked, Unauthenticated

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ajira.app/problems/"

# Detail keys that could carry personal data or secrets never reach a response.
_UNSAFE_DETAIL_KEYS = ("password", "pin", "phone", "national_id", "token", "secret", "email")
_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
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


def problem_json_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe every error response as the problem+json this module actually sends."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
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
    if isinstance(exc, Locked) and isinstance(exc.details.get("minutes_left"), int):
        headers["Retry-After"] = str(exc.details["minutes_left"] * 60)
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


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The client learns nothing of the failure; `api.app.AccessLog` logs it with the request id.
    return problem(500, "internal_error", "Something went wrong on our side.", generic=True)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on `app`."""
    app.add_exception_handler(HRError, _hr_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
