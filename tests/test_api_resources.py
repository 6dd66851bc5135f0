"""Conventional read routes: the same tools as the chat, as GET with query parameters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.attendance import service as attendance
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.notifications.models import Notification, NotificationStatus
from hrcore.notifications.service import notify
from hrcore.performance.models import Review
from tests.factories import bearer
from tests.support.api import problem
from tests.support.world import NOW, PRECONDITIONS, World, actor_of

API = "/api/v1"
# path -> the tool it reads through
ROUTES = {
    "/attendance": "attendance_history",
    "/leave-requests": "list_leave_requests",
    "/leave-balance": "leave_balance",
    "/reviews": "list_reviews",
    "/payslips": "list_payslips",
    "/employees": "list_employees",
}


pytestmark = pytest.mark.frozen_at(NOW)


@pytest.mark.parametrize("path", [*ROUTES, "/notifications"])
def test_anonymous_callers_get_401(client: TestClient, session: Session, path: str) -> None:
    problem(client.get(API + path), 401, "unauthenticated")


@pytest.mark.parametrize("path", list(ROUTES))
def test_each_route_answers_like_its_tool(
    client: TestClient, session: Session, world: World, path: str
) -> None:
    if ROUTES[path] in PRECONDITIONS:
        PRECONDITIONS[ROUTES[path]](session, world)
    response = client.get(API + path, headers=bearer(world.team.hr))
    assert response.status_code == 200, response.text
    tool = client.post(f"{API}/tools/{ROUTES[path]}", json={}, headers=bearer(world.team.hr))
    assert response.json() == tool.json()


@pytest.mark.parametrize("path", ["/attendance", "/leave-requests", "/leave-balance", "/reviews"])
def test_another_employers_employee_is_not_found(
    client: TestClient, world: World, path: str
) -> None:
    response = client.get(
        API + path, params={"employee_id": world.other.employee.id}, headers=bearer(world.team.hr)
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "employee_not_found"


def test_attendance_lists_the_callers_shifts_with_filters(
    client: TestClient, session: Session, world: World
) -> None:
    john = world.team.employee
    record = attendance.clock_in(session, actor_of(john))
    response = client.get(
        f"{API}/attendance",
        params={"start": "2026-11-23", "end": "2026-11-23", "limit": 5},
        headers=bearer(john),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["record_id"] for s in body["shifts"]] == [record.id]
    assert body["summary"].startswith("1 shift. Latest: Clocked in at 09:00")
    earlier = client.get(
        f"{API}/attendance", params={"end": "2026-11-22"}, headers=bearer(john)
    ).json()
    assert earlier["shifts"] == []


def test_an_employee_may_not_read_a_colleagues_attendance(client: TestClient, world: World) -> None:
    response = client.get(
        f"{API}/attendance",
        params={"employee_id": world.team.teammate.id},
        headers=bearer(world.team.employee),
    )
    problem(response, 403, "outside_scope")


def test_a_supervisor_reads_a_reports_leave_requests(client: TestClient, world: World) -> None:
    response = client.get(
        f"{API}/leave-requests",
        params={"employee_id": world.team.employee.id, "status": "pending"},
        headers=bearer(world.team.supervisor),
    )
    assert response.status_code == 200, response.text
    assert [r["request_id"] for r in response.json()["requests"]] == [world.request_id]


def test_leave_balance_for_one_type(client: TestClient, world: World) -> None:
    response = client.get(
        f"{API}/leave-balance", params={"leave_type": "annual"}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["employee_id"] == world.team.employee.id
    assert [b["leave_type"] for b in body["balances"]] == ["annual"]


def test_employees_are_scoped_by_role(client: TestClient, world: World) -> None:
    def ids(user: object) -> set[int]:
        response = client.get(f"{API}/employees", headers=bearer(user))  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return {e["employee_id"] for e in response.json()["employees"]}

    team = world.team
    assert ids(team.employee) == {team.employee.id}
    assert ids(team.supervisor) == {team.supervisor.id, team.employee.id, team.teammate.id}
    everyone = {u.id for u in (team.admin, team.hr, team.supervisor, team.employee)}
    assert everyone | {team.teammate.id, team.outsider.id} == ids(team.hr)
    assert world.other.employee.id not in ids(team.hr)


def test_reviews_list_what_the_supervisor_wrote(
    client: TestClient, session: Session, world: World
) -> None:
    body = {
        "employee_id": world.team.employee.id,
        "period": "2026-Q3",
        "overall_score": 4,
        "feedback": "Reliable all quarter.",
    }
    written = client.post(
        f"{API}/tools/submit_review", json=body, headers=bearer(world.team.supervisor)
    )
    assert written.status_code == 200, written.text
    response = client.get(
        f"{API}/reviews", params={"period": "2026-Q3"}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["reviews"]) == 1
    assert session.scalar(select(func.count()).select_from(Review)) == 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/attendance", {"limit": 0}, "limit"),
        ("/attendance", {"start": "yesterday"}, "start"),
        ("/leave-requests", {"status": "maybe"}, "status"),
        ("/employees", {"user_id": 1}, "user_id"),
        ("/notifications", {"limit": 1000}, "limit"),
    ],
)
def test_bad_query_parameters_are_422_naming_them_and_audit_nothing(
    client: TestClient,
    session: Session,
    world: World,
    path: str,
    params: dict[str, object],
    field: str,
) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.get(API + path, params=params, headers=bearer(world.team.employee))
    body = problem(response, 422, "validation_error")
    assert [(e["field"], e["location"]) for e in body["errors"]] == [(field, "query")]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_notifications_are_the_callers_own_newest_first(
    client: TestClient, session: Session, world: World
) -> None:
    john, amina = world.team.employee, world.team.teammate
    notify(session, john, kind="test.first", text="First", channel=Channel.SMS)
    session.flush()
    with frozen(NOW):
        notify(session, john, kind="test.second", text="Second", channel=Channel.WEB)
        notify(session, amina, kind="test.other", text="Not John's")
        session.flush()
    response = client.get(f"{API}/notifications", headers=bearer(john))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["limit"], body["offset"]) == (20, 0)
    mine = [n for n in body["items"] if n["kind"].startswith("test.")]
    assert {n["kind"] for n in mine} == {"test.first", "test.second"}
    assert all(n["status"] == NotificationStatus.PENDING for n in mine)
    assert {n["channel"] for n in mine} == {"sms", "web"}
    own_ids = set(
        session.scalars(select(Notification.id).where(Notification.recipient_id == john.id))
    )
    assert {n["id"] for n in body["items"]} == own_ids
    page = client.get(f"{API}/notifications", params={"limit": 1}, headers=bearer(john)).json()
    assert len(page["items"]) == 1
    assert page["items"][0]["id"] == body["items"][0]["id"]


def test_openapi_types_the_read_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    attendance_get = schema["paths"][f"{API}/attendance"]["get"]
    assert {p["name"] for p in attendance_get["parameters"]} == {
        "employee_id",
        "start",
        "end",
        "limit",
        "offset",
    }
    ok = attendance_get["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/AttendanceHistory"}
    notifications = schema["paths"][f"{API}/notifications"]["get"]["responses"]["200"]
    assert notifications["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotificationPage"
    }
