"""Tool declarations: one per action, read by the agent, the REST routes and the USSD menu."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.errors import HRError, Invalid, NotFound
from tools.menus import Ussd


class ToolArgs(BaseModel):
    """Base of every tool's input. Unknown fields are refused, so no identity can sneak in."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        if _has_nul(value):
            raise ValueError("text must not contain NUL (\\x00) characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    return False


class ToolResult(BaseModel):
    """Base of every tool's output: data, plus a sentence a person can read as is."""

    summary: str = Field(description="A short human-readable summary of the result.")


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What the runtime hands a tool: the database session and the authenticated actor."""

    session: Session
    actor: Actor


A = TypeVar("A", bound=ToolArgs)
R = TypeVar("R", bound=ToolResult)
ToolFn = Callable[[ToolContext, Any], ToolResult]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    args_model: type[ToolArgs]
    result_model: type[ToolResult]
    permission: Permission
    changes_state: bool
    confirm: bool
    fn: ToolFn
    #: How the tool appears in the phone menu; None: not there.
    ussd: Ussd | None = None

    def allowed_for(self, actor: Actor) -> bool:
        return actor.can(self.permission)

    @property
    def example(self) -> dict[str, Any]:
        """The first example of the input model (its `json_schema_extra["examples"]`), or {}."""
        extra = self.args_model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        first = examples[0] if isinstance(examples, list) and examples else None
        return dict(first) if isinstance(first, dict) else {}


_REGISTRY: dict[str, ToolSpec] = {}


def tool_spec(
    *,
    name: str,
    permission: Permission,
    changes_state: bool = False,
    confirm: bool = False,
    ussd: Ussd | None = None,
) -> Callable[[Callable[[ToolContext, A], R]], Callable[[ToolContext, A], R]]:
    """Declare a tool. Its docstring and its models' field descriptions are what a model reads."""

    def register(fn: Callable[[ToolContext, A], R]) -> Callable[[ToolContext, A], R]:
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        args_model, result_model = hints[params[1]], hints["return"]
        if name in _REGISTRY:
            raise ValueError(f"tool {name!r} is declared twice")
        _REGISTRY[name] = ToolSpec(
            name=name,
            description=inspect.cleandoc(fn.__doc__ or ""),
            args_model=args_model,
            result_model=result_model,
            permission=permission,
            changes_state=changes_state,
            confirm=confirm,
            fn=fn,
            ussd=ussd,
        )
        return fn

    return register


def all_tools() -> list[ToolSpec]:
    """Every declared tool, by name."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda spec: spec.name)


def tools_for(actor: Actor) -> list[ToolSpec]:
    """The tools `actor`'s role may use."""
    return [spec for spec in all_tools() if spec.allowed_for(actor)]


def menu_for(actor: Actor) -> list[ToolSpec]:
    """The tools `actor` may use that appear in the phone menu, in menu order."""
    listed = [spec for spec in tools_for(actor) if spec.ussd is not None]
    return sorted(listed, key=lambda spec: (spec.ussd.order if spec.ussd else 0, spec.name))


def get_tool(name: str) -> ToolSpec:
    """The tool called `name`; unknown names are "not found"."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(f"There is no tool called {name!r}.", code="tool_not_found") from None


def parse_args(spec: ToolSpec, raw: dict[str, Any] | None) -> ToolArgs:
    """Validate raw arguments against the tool's input model; raise `Invalid` naming fields."""
    try:
        return spec.args_model.model_validate(raw or {})
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        fields = ", ".join(e["field"] or "(body)" for e in errors)
        raise Invalid(
            f"Invalid arguments for {spec.name}: {fields}.", code="invalid_arguments", errors=errors
        ) from None


@dataclass(frozen=True, slots=True)
class Authorized:
    """An actor that passed one tool's permission check: what running that tool takes."""

    actor: Actor
    spec: ToolSpec


def authorize(actor: Actor, spec: ToolSpec) -> Authorized:
    """The tool's coarse check, "may this role use this tool at all", made once per call.

    Callers make it before the arguments are read, so a role without the tool is told
    `forbidden` whatever it sent. The object-level rule (whose data, which request) is the
    service's to check.
    """
    actor.require(spec.permission)
    return Authorized(actor=actor, spec=spec)


def run_authorized(session: Session, grant: Authorized, args: ToolArgs) -> ToolResult:
    """Run a tool with arguments already validated against its model, for an authorized actor.

    For callers whose framework has validated the arguments already (the REST routes):
    validating a dump of them again would do the same work twice.
    """
    if not isinstance(args, grant.spec.args_model):
        raise TypeError(f"{grant.spec.name} takes {grant.spec.args_model.__name__}")
    return grant.spec.fn(ToolContext(session=session, actor=grant.actor), args)


def run_tool(
    session: Session, actor: Actor, name: str, raw_args: dict[str, Any] | None
) -> ToolResult:
    """Check the actor's right to the tool, validate its arguments and run it."""
    grant = authorize(actor, get_tool(name))
    return run_authorized(session, grant, parse_args(grant.spec, raw_args))


def preview_tool(
    session: Session, actor: Actor, name: str, raw_args: dict[str, Any] | None
) -> ToolResult:
    """Run a tool as a dry run: its result (or its error), with every write rolled back.

    Confirmations use this to show exactly what will happen ("5 working days, 16
    left after") and to refuse up front what would fail anyway.
    """
    savepoint = session.begin_nested()
    try:
        return run_tool(session, actor, name, raw_args)
    except HRError as exc:
        # A dry run is not a call: its failure is shown, not audited.
        exc.afterwards.clear()
        raise
    finally:
        savepoint.rollback()


def _load() -> None:
    # Importing the capability modules runs their @tool_spec declarations.
    from tools import catalog  # noqa: F401
