"""Conventional read routes (`GET /api/v1/attendance`...) over the same tools as the chat.

Each route takes its tool's arguments as query parameters and answers with the tool's
result model, through the registry: the rules stay in the tools and hrcore.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentActor, DbSession, authorized_for
from api.errors import problem_responses
from hrcore.actor import Channel
from hrcore.notifications import service as notifications
from hrcore.notifications.models import Notification, NotificationStatus
from tools.registry import Authorized, ToolArgs, ToolSpec, all_tools, run_authorized

PREFIX = "/api/v1"
READ_ERRORS = (401, 403, 404, 409, 422)
MAX_NOTIFICATIONS = 100


@dataclass(frozen=True, slots=True)
class ReadRoute:
    """A GET path answered by a read-only tool."""

    path: str
    tool: str
    summary: str
    tag: str


READ_ROUTES = (
    ReadRoute(
        "/attendance", "attendance_history", "Shifts: clock-in and clock-out times", "attendance"
    ),
    ReadRoute("/leave-requests", "list_leave_requests", "Leave requests and decisions", "leave"),
    ReadRoute("/leave-balance", "leave_balance", "Leave balances by type", "leave"),
    ReadRoute("/reviews", "list_reviews", "Performance reviews", "performance"),
    ReadRoute("/payslips", "list_payslips", "Payslips, newest first", "payroll"),
    ReadRoute("/employees", "list_employees", "The employees the caller may see", "people"),
    ReadRoute("/hr-cases", "list_hr_cases", "Questions handed to hr, and their answers", "cases"),
)


class NotificationRead(BaseModel):
    """One message sent (or to be sent) to the caller, and how its delivery went."""

    id: int
    channel: Channel = Field(description="Where it is delivered: sms, telegram, web...")
    kind: str = Field(description="What it is about, e.g. leave.decided.")
    text: str
    status: NotificationStatus
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None = Field(default=None, description="When the caller marked it read.")


class NotificationsMarked(BaseModel):
    """How many of the caller's notifications were newly marked read."""

    marked: int


def _notification_read(n: Notification) -> NotificationRead:
    return NotificationRead(
        id=n.id,
        channel=n.channel,
        kind=n.kind,
        text=n.text,
        status=n.status,
        created_at=n.created_at,
        sent_at=n.sent_at,
        read_at=n.read_at,
    )


class NotificationPage(BaseModel):
    """A page of the caller's notifications, newest first."""

    items: list[NotificationRead]
    limit: int
    offset: int


def _read_endpoint(spec: ToolSpec) -> Any:
    def endpoint(session: DbSession, grant: Authorized, query: ToolArgs) -> Response:
        # FastAPI has validated the query against the tool's model: it is run as it is.
        result = run_authorized(session, grant, query)
        return JSONResponse(result.model_dump(mode="json", by_alias=True))

    # FastAPI reads the signature: the tool's own arguments become the typed query parameters.
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # read by FastAPI
        [
            inspect.Parameter("session", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
            inspect.Parameter(
                "grant",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[Authorized, Depends(authorized_for(spec))],
            ),
            inspect.Parameter(
                "query",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[spec.args_model, Query()],
            ),
        ],
        return_annotation=Response,
    )
    endpoint.__name__ = spec.name
    return endpoint


def build_router() -> APIRouter:
    """The read routes, typed from whichever tools the registry holds."""
    router = APIRouter(prefix=PREFIX)
    specs = {spec.name: spec for spec in all_tools()}
    for route in READ_ROUTES:
        # A route naming a tool the registry lacks fails here, at startup, not per request.
        spec = specs[route.tool]
        router.add_api_route(
            route.path,
            _read_endpoint(spec),
            methods=["GET"],
            response_model=spec.result_model,
            summary=route.summary,
            description=f"{spec.description}\n\nThe same as the `{spec.name}` tool.",
            tags=[route.tag],
            operation_id=f"get_{route.path.strip('/').replace('-', '_')}",
            responses=problem_responses(*READ_ERRORS),
        )

    @router.get(
        "/notifications",
        summary="The caller's notifications and their delivery status",
        tags=["notifications"],
        operation_id="get_notifications",
        responses=problem_responses(401, 403, 422),
    )
    def list_notifications(
        session: DbSession,
        actor: CurrentActor,
        limit: Annotated[int, Query(ge=1, le=MAX_NOTIFICATIONS)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> NotificationPage:
        """Newest first; `status` says whether each was sent and delivered."""
        rows = notifications.list_notifications(session, actor, limit=limit, offset=offset)
        return NotificationPage(
            items=[_notification_read(n) for n in rows], limit=limit, offset=offset
        )

    @router.post(
        "/notifications/read",
        summary="Mark all of the caller's notifications read",
        tags=["notifications"],
        operation_id="mark_notifications_read",
        responses=problem_responses(401, 403),
    )
    def mark_all_read(session: DbSession, actor: CurrentActor) -> NotificationsMarked:
        """Every unread notification of the caller is marked read now."""
        return NotificationsMarked(marked=notifications.mark_all_read(session, actor))

    @router.post(
        "/notifications/{notification_id}/read",
        summary="Mark one of the caller's notifications read",
        tags=["notifications"],
        operation_id="mark_notification_read",
        responses=problem_responses(401, 403, 404, 422),
    )
    def mark_read(
        session: DbSession,
        actor: CurrentActor,
        notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    ) -> NotificationRead:
        """Another person's notification is not found; marking twice keeps the first time."""
        row = notifications.mark_read(session, actor, notification_id=notification_id)
        return _notification_read(row)

    return router
