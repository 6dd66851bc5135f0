"""Every tool as a REST call: one typed `POST /api/v1/tools/<name>` route per registered tool.

The routes are generated from the registry when the app is built, so /openapi.json shows
each tool's own request and response models. The actor comes only from the bearer token.
State-changing tools honour an `Idempotency-Key` header (see `hrcore.idempotency`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import CurrentActor, DbSession, authorized_for
from api.errors import problem_responses
from hrcore import idempotency
from hrcore.errors import HRError
from tools.registry import (
    Authorized,
    ToolArgs,
    ToolSpec,
    all_tools,
    authorize,
    get_tool,
    parse_args,
    run_authorized,
    tools_for,
)

PREFIX = "/api/v1/tools"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Every error a tool route can answer with: an unreadable body, no token, role or reach,
# unknown ids, the current state, invalid input.
TOOL_ERRORS = (400, 401, 403, 404, 409, 422, 429)


class ToolInfo(BaseModel):
    """A tool the caller may use, described as the assistant sees it."""

    name: str = Field(description="The tool's name; run it with POST /api/v1/tools/{name}.")
    description: str = Field(description="What the tool does and when to use it.")
    changes_state: bool = Field(description="Whether running the tool writes anything.")
    confirm: bool = Field(description="Whether the assistant asks the user before running it.")
    input_schema: dict[str, Any] = Field(description="JSON Schema of the request body.")
    output_schema: dict[str, Any] = Field(description="JSON Schema of the response body.")


def tool_info(spec: ToolSpec) -> ToolInfo:
    """The public description of one tool."""
    return ToolInfo(
        name=spec.name,
        description=spec.description,
        changes_state=spec.changes_state,
        confirm=spec.confirm,
        input_schema=spec.args_model.model_json_schema(),
        output_schema=spec.result_model.model_json_schema(mode="serialization"),
    )


def module_tag(spec: ToolSpec) -> str:
    """The OpenAPI tag of a tool: the capability module that declares it (`attendance`...)."""
    return spec.fn.__module__.rsplit(".", 1)[-1]


def execute(
    session: Session,
    grant: Authorized,
    args: ToolArgs,
    sent: dict[str, Any],
    idempotency_key: str | None,
) -> Response:
    """Run a tool for an authorized caller, storing or replaying its response under a key.

    `args` are the validated arguments the tool runs with; `sent` is what the request said,
    the part of its fingerprint that tells a retry from another request under the same key.
    """
    spec = grant.spec
    if idempotency_key is None or not spec.changes_state:
        return _json(_run(session, grant, args))
    fingerprint = idempotency.request_hash(spec.name, sent)
    claimed = idempotency.claim(session, grant.actor, key=idempotency_key, fingerprint=fingerprint)
    if claimed.is_complete:
        assert claimed.status_code is not None
        return JSONResponse(
            claimed.response_body,
            status_code=claimed.status_code,
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        body = _run(session, grant, args)
    except HRError:
        # Only successes are kept: a failed call leaves no key, so a corrected retry runs.
        idempotency.release(session, claimed)
        raise
    idempotency.complete(session, claimed, status_code=200, body=body)
    return _json(body)


def _run(session: Session, grant: Authorized, args: ToolArgs) -> Any:
    result = run_authorized(session, grant, args)
    return result.model_dump(mode="json", by_alias=True)


def _json(body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=200)


def _sent(body: ToolArgs | None) -> dict[str, Any]:
    # The JSON form, exactly what the assistant would pass, so both paths hash alike.
    return body.model_dump(mode="json", by_alias=True) if body is not None else {}


def _idempotency_key(
    # Typed `str` (not `str | None`) so the documented schema is a plain string.
    key: Annotated[
        str,  # noqa: RUF013
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="Any unique string (1 to 255 visible ASCII characters, e.g. a UUID). "
            "A retry with the same key and body returns the first response without running "
            "the tool again; keys are kept for 24 hours.",
            json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        ),
    ] = None,  # type: ignore[assignment]  # absent header: no idempotency
) -> str | None:
    return None if key is None else idempotency.check_key(key)


def _all_optional(model: type[ToolArgs]) -> bool:
    return not any(field.is_required() for field in model.model_fields.values())


def _endpoint(spec: ToolSpec) -> Callable[..., Response]:
    def endpoint(
        session: DbSession,
        grant: Authorized,
        body: ToolArgs | None = None,
        idempotency_key: str | None = None,
    ) -> Response:
        # FastAPI has validated the body against the tool's model: it is run as it is.
        args = body if body is not None else spec.args_model()
        return execute(session, grant, args, _sent(body), idempotency_key)

    # FastAPI reads the signature, so each tool gets its own typed body (and header).
    body_type: Any = spec.args_model
    body_default: Any = inspect.Parameter.empty
    if _all_optional(spec.args_model):
        body_type, body_default = spec.args_model | None, None
    parameters = [
        inspect.Parameter("session", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
        inspect.Parameter(
            "grant",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Authorized, Depends(authorized_for(spec))],
        ),
    ]
    if spec.changes_state:
        parameters.append(
            inspect.Parameter(
                "idempotency_key",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[str | None, Depends(_idempotency_key)],
            )
        )
    parameters.append(
        inspect.Parameter(
            "body",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[body_type, Body()],
            default=body_default,
        )
    )
    # FastAPI reads the signature; a function takes any attribute, its type does not say so.
    signature = inspect.Signature(parameters, return_annotation=Response)
    endpoint.__signature__ = signature  # type: ignore[attr-defined]  # read by FastAPI
    endpoint.__name__ = spec.name
    endpoint.__doc__ = spec.description
    return endpoint


def _summary(spec: ToolSpec) -> str:
    first = spec.description.split("\n", 1)[0].strip()
    return first or spec.name.replace("_", " ").capitalize()


def build_router() -> APIRouter:
    """The tools router: the list, one typed route per registered tool, and the fallback."""
    router = APIRouter(prefix=PREFIX)

    @router.get(
        "",
        tags=["tools"],
        summary="The tools the caller may use",
        operation_id="list_tools",
        responses=problem_responses(401),
    )
    def list_tools(actor: CurrentActor) -> list[ToolInfo]:
        """Each tool the caller's role may use, with JSON Schemas of its input and output."""
        return [tool_info(spec) for spec in tools_for(actor)]

    for spec in all_tools():
        success: dict[int | str, dict[str, Any]] = {200: {"description": "The tool's result."}}
        if spec.changes_state:
            success[200]["headers"] = {
                REPLAYED_HEADER: {
                    "description": "`true` when this is the stored response of an earlier "
                    "request with the same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        router.add_api_route(
            f"/{spec.name}",
            _endpoint(spec),
            methods=["POST"],
            response_model=spec.result_model,
            operation_id=spec.name,
            tags=[module_tag(spec)],
            summary=_summary(spec),
            description=spec.description,
            responses={**success, **problem_responses(*TOOL_ERRORS)},
        )

    @router.post("/{name}", include_in_schema=False)
    def run_by_name(
        name: str,
        session: DbSession,
        actor: CurrentActor,
        idempotency_key: Annotated[str | None, Depends(_idempotency_key)],
        body: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> Response:
        """Tools declared after the app was built, and unknown names (404 `tool_not_found`)."""
        grant = authorize(actor, get_tool(name))
        sent = body or {}
        return execute(session, grant, parse_args(grant.spec, sent), sent, idempotency_key)

    return router
