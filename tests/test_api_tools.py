"""The tools over REST: generated routes, the permission matrix, and idempotency keys.

The matrix and the ladders are generated from the registry, so a tool added later is
covered without touching this file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from hrcore import idempotency, tenancy
from hrcore.actor import Actor, Role
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Invalid
from hrcore.idempotency import IdempotencyKey
from hrcore.leave.models import LeaveRequest
from hrcore.people.models import Organization, User
from hrcore.people.service import get_organization
from tests.factories import arranging, bearer, make_org, make_user
from tests.support.api import problem
from tests.support.world import NOW, PRECONDITIONS, World, actor_of
from tools.registry import ToolSpec, all_tools, get_tool

TOOLS = "/api/v1/tools"
ROLES = ("employee", "supervisor", "hr", "admin")
TOOL_NAMES = [spec.name for spec in all_tools()]
# The fixture has no payroll set up; the payroll tools say so instead of answering.
LEAVE_BODY = {
    "leave_type": "annual",
    "start_date": "2026-12-07",
    "end_date": "2026-12-08",
    "reason": "Family visit upcountry",
}


def first_allowed(spec: ToolSpec, order: tuple[str, ...] = ROLES) -> str | None:
    """The first role in `order` whose permissions include the tool's."""
    return next((role for role in order if Actor(1, 1, Role(role)).can(spec.permission)), None)


def body_for(spec: ToolSpec, world: World, *, foreign: bool = False) -> dict[str, Any]:
    """The tool's example, with its ids pointing into the caller's (or the other) employer."""
    body = spec.example
    ids = {
        "employee_id": (world.other if foreign else world.team).employee.id,
        "request_id": world.other_request_id if foreign else world.request_id,
    }
    for name, field in spec.args_model.model_fields.items():
        if not name.endswith("_id"):
            continue
        if name in ids and (foreign or name in body):
            body[name] = ids[name]
        elif foreign and (name in body or field.is_required()):
            body[name] = 2**40  # an id nobody has: as unknown as another employer's
    return body


def id_fields(spec: ToolSpec) -> list[str]:
    return [name for name in spec.args_model.model_fields if name.endswith("_id")]


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    with frozen(NOW):
        yield TestClient(app, raise_server_exceptions=False)


def call(
    client: TestClient,
    name: str,
    body: dict[str, Any] | None,
    user: User | None,
    **headers: str,
) -> Response:
    all_headers = {**(bearer(user) if user else {}), **headers}
    return client.post(f"{TOOLS}/{name}", json=body, headers=all_headers)


# ------------------------------------------------------------------ the list


def test_the_list_shows_an_employee_only_their_tools(client: TestClient, world: World) -> None:
    response = client.get(TOOLS, headers=bearer(world.team.employee))
    assert response.status_code == 200
    listed = {tool["name"]: tool for tool in response.json()}
    expected = {s.name for s in all_tools() if actor_of(world.team.employee).can(s.permission)}
    assert set(listed) == expected
    assert {"clock_in", "request_leave", "leave_balance"} <= set(listed)
    assert not {"approve_leave", "run_payroll", "wellness_summary"} & set(listed)
    clock_in = listed["clock_in"]
    spec = get_tool("clock_in")
    assert clock_in["description"] == spec.description
    assert (clock_in["changes_state"], clock_in["confirm"]) == (True, False)
    assert clock_in["input_schema"] == spec.args_model.model_json_schema()
    assert "record_id" in clock_in["output_schema"]["properties"]
    assert listed["request_leave"]["confirm"] is True


def test_the_list_shows_hr_the_people_team_tools(client: TestClient, world: World) -> None:
    response = client.get(TOOLS, headers=bearer(world.team.hr))
    names = {tool["name"] for tool in response.json()}
    assert names == {s.name for s in all_tools() if actor_of(world.team.hr).can(s.permission)}
    assert {"approve_leave", "run_payroll", "wellness_summary"} <= names
    employee_names = {
        t["name"] for t in client.get(TOOLS, headers=bearer(world.team.employee)).json()
    }
    assert employee_names < names


def test_the_list_needs_a_token(client: TestClient) -> None:
    response = client.get(TOOLS)
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


# ------------------------------------------------------------------ the ladder, per tool


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_anonymous_callers_get_401(client: TestClient, session: Session, name: str) -> None:
    response = call(client, name, get_tool(name).example, None)
    problem(response, 401, "unauthenticated")


@pytest.mark.parametrize(("name", "role"), [(n, r) for n in TOOL_NAMES for r in ROLES])
def test_permission_matrix(client: TestClient, world: World, name: str, role: str) -> None:
    """Roles the tool's permission allows are never refused for their role; others always are."""
    spec = get_tool(name)
    response = call(client, name, body_for(spec, world), world.user(role))
    assert response.status_code < 500, response.text
    assert response.status_code != 401, response.text
    refused_for_role = response.status_code == 403 and response.json().get("details") == {
        "permission": str(spec.permission)
    }
    if actor_of(world.user(role)).can(spec.permission):
        assert not refused_for_role, response.text
    else:
        body = problem(response, 403, "forbidden")
        assert refused_for_role, body


@pytest.mark.parametrize("name", [n for n in TOOL_NAMES if id_fields(get_tool(n))])
def test_another_employers_ids_are_not_found(
    client: TestClient, session: Session, world: World, name: str
) -> None:
    spec = get_tool(name)
    role = first_allowed(spec, ("hr", "admin", "supervisor", "employee"))
    assert role is not None
    writes_before = session.scalar(select(func.count()).select_from(LeaveRequest))
    response = call(client, name, body_for(spec, world, foreign=True), world.user(role))
    assert response.status_code == 404, response.text
    assert response.json()["code"].endswith("not_found")
    assert str(world.other.employee.full_name) not in response.text
    assert session.scalar(select(func.count()).select_from(LeaveRequest)) == writes_before


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_a_valid_call_answers_with_the_typed_result(
    client: TestClient, session: Session, world: World, name: str
) -> None:
    spec = get_tool(name)
    role = first_allowed(spec)
    assert role is not None
    body = body_for(spec, world)
    if name in PRECONDITIONS:
        body.update(PRECONDITIONS[name](session, world) or {})
    response = call(client, name, body, world.user(role))
    assert response.status_code == 200, response.text
    result = spec.result_model.model_validate(response.json())
    assert result.summary.strip()


# ------------------------------------------------------------------ specific behaviour


def test_clock_in_writes_the_shift_and_answers_with_the_service_wording(
    client: TestClient, session: Session, world: World
) -> None:
    john = world.team.employee
    response = call(client, "clock_in", {"latitude": -1.2925, "longitude": 36.822}, john)
    assert response.status_code == 200, response.text
    body = response.json()
    record = session.get(AttendanceRecord, body["record_id"])
    assert record is not None
    assert (record.employee_id, record.latitude_in, record.method_in) == (john.id, -1.2925, "api")
    assert (body["late_minutes"], body["geofence_status"]) == (60, "inside")
    org = get_organization(session, actor_of(john))
    assert body["summary"] == attendance.describe_clock_in(record, org)
    assert body["clock_in_at"] == "2026-11-23T06:00:00Z"


def test_a_tool_with_only_optional_arguments_needs_no_body(
    client: TestClient, session: Session, world: World
) -> None:
    response = client.post(f"{TOOLS}/clock_in", headers=bearer(world.team.employee))
    assert response.status_code == 200, response.text
    assert session.get(AttendanceRecord, response.json()["record_id"]) is not None


def test_request_leave_files_a_pending_request(
    client: TestClient, session: Session, world: World
) -> None:
    response = call(client, "request_leave", LEAVE_BODY, world.team.teammate)
    assert response.status_code == 200, response.text
    filed = session.get(LeaveRequest, response.json()["request_id"])
    assert filed is not None
    assert (filed.employee_id, filed.start_date, filed.status) == (
        world.team.teammate.id,
        date(2026, 12, 7),
        "pending",
    )
    assert response.json()["summary"].startswith("Annual leave 7–8 Dec 2026")


def test_a_supervisor_approves_their_reports_request(
    client: TestClient, session: Session, world: World
) -> None:
    body = {"request_id": world.request_id, "decision": "approve", "comment": "Enjoy"}
    response = call(client, "approve_leave", body, world.team.supervisor)
    assert response.status_code == 200, response.text
    decided = session.get(LeaveRequest, world.request_id)
    assert decided is not None
    session.refresh(decided)
    assert (decided.status, decided.decided_by_id) == ("approved", world.team.supervisor.id)


def test_object_level_refusals_keep_their_own_code(client: TestClient, world: World) -> None:
    # hr may use cancel_leave, but only on their own requests.
    body = {"request_id": world.request_id}
    problem(call(client, "cancel_leave", body, world.team.hr), 403, "not_your_request")


@pytest.mark.parametrize("request_id", [2**63, 2**70])
def test_an_id_beyond_the_database_range_is_not_found(
    client: TestClient, world: World, request_id: int
) -> None:
    body = {"request_id": request_id}
    problem(call(client, "cancel_leave", body, world.team.employee), 404, "leave_request_not_found")


def test_unknown_tool_is_a_404_problem(client: TestClient, world: World) -> None:
    body = problem(call(client, "fly_to_the_moon", {}, world.team.hr), 404, "tool_not_found")
    assert "fly_to_the_moon" in body["detail"]


def test_unknown_tool_still_needs_a_token(client: TestClient, session: Session) -> None:
    problem(call(client, "fly_to_the_moon", {}, None), 401, "unauthenticated")


def test_schema_violations_are_422_naming_the_field_and_write_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    before = session.scalar(select(func.count()).select_from(LeaveRequest))
    bad = {**LEAVE_BODY, "start_date": "next tuesday", "user_id": world.team.hr.id}
    body = problem(call(client, "request_leave", bad, world.team.employee), 422, "validation_error")
    assert {(e["field"], e["location"]) for e in body["errors"]} == {
        ("start_date", "body"),
        ("user_id", "body"),
    }
    assert "start_date" in body["detail"]
    assert session.scalar(select(func.count()).select_from(LeaveRequest)) == before


def test_a_missing_required_body_is_a_422(client: TestClient, world: World) -> None:
    response = client.post(f"{TOOLS}/request_leave", headers=bearer(world.team.employee))
    problem(response, 422, "validation_error")


def test_a_forbidden_role_gets_403_even_with_an_invalid_body(
    client: TestClient, world: World
) -> None:
    response = call(client, "run_payroll", {"month": "soon"}, world.team.employee)
    assert problem(response, 403, "forbidden")["details"] == {"permission": "payroll.run"}


def test_the_actor_comes_from_the_token_not_the_body(
    client: TestClient, session: Session, world: World
) -> None:
    response = call(client, "clock_in", {"employee_id": world.team.hr.id}, world.team.employee)
    problem(response, 422, "validation_error")
    assert session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0


def test_openapi_types_every_tool(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for spec in all_tools():
        operation = schema["paths"][f"{TOOLS}/{spec.name}"]["post"]
        assert operation["operationId"] == spec.name
        assert operation["tags"] == [spec.fn.__module__.rsplit(".", 1)[-1]]
        body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert spec.args_model.__name__ in str(body_schema)
        result_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert spec.result_model.__name__ in result_ref["$ref"]
        assert operation["responses"]["403"]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        params = {p["name"] for p in operation.get("parameters", [])}
        assert ("Idempotency-Key" in params) is spec.changes_state


# ------------------------------------------------------------------ idempotency


def _records(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.employee_id == user.id)
        )
        or 0
    )


def test_a_retried_clock_in_replays_the_first_response(
    client: TestClient, session: Session, world: World
) -> None:
    john = world.team.employee
    key = {"Idempotency-Key": "clock-in-2026-11-23-a"}
    first = call(client, "clock_in", {"note": "gate B"}, john, **key)
    retry = call(client, "clock_in", {"note": "gate B"}, john, **key)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _records(session, john) == 1
    # Without the key the tool really runs again, and refuses a second open shift.
    problem(call(client, "clock_in", {"note": "gate B"}, john), 409, "already_clocked_in")


def test_a_retried_leave_request_files_one_request(
    client: TestClient, session: Session, world: World
) -> None:
    amina = world.team.teammate
    key = {"Idempotency-Key": "7f9c2ba4-e88f-11ee-a506-0242ac120002"}
    first = call(client, "request_leave", LEAVE_BODY, amina, **key)
    retry = call(client, "request_leave", LEAVE_BODY, amina, **key)
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json()["request_id"] == first.json()["request_id"]
    filed = session.scalars(select(LeaveRequest).where(LeaveRequest.employee_id == amina.id)).all()
    assert [r.id for r in filed] == [first.json()["request_id"]]


def test_the_same_key_with_another_body_or_tool_is_refused(
    client: TestClient, session: Session, world: World
) -> None:
    amina = world.team.teammate
    key = {"Idempotency-Key": "leave-1"}
    assert call(client, "request_leave", LEAVE_BODY, amina, **key).status_code == 200
    other_dates = {**LEAVE_BODY, "end_date": "2026-12-09"}
    problem(call(client, "request_leave", other_dates, amina, **key), 422, "idempotency_key_reused")
    problem(call(client, "clock_in", {}, amina, **key), 422, "idempotency_key_reused")
    assert _records(session, amina) == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(LeaveRequest)
            .where(LeaveRequest.employee_id == amina.id)
        )
        == 1
    )


def test_keys_belong_to_one_user(client: TestClient, session: Session, world: World) -> None:
    key = {"Idempotency-Key": "shared-looking-key"}
    john = call(client, "clock_in", {}, world.team.employee, **key)
    amina = call(client, "clock_in", {}, world.team.teammate, **key)
    assert john.status_code == amina.status_code == 200
    assert "idempotent-replayed" not in amina.headers
    assert john.json()["record_id"] != amina.json()["record_id"]


@pytest.mark.parametrize("key", ["", "has space", "é-accent".encode(), "x" * 256, "tab\there"])
def test_a_malformed_key_is_refused_before_anything_runs(
    client: TestClient, session: Session, world: World, key: str | bytes
) -> None:
    response = client.post(
        f"{TOOLS}/clock_in",
        json={},
        headers={**bearer(world.team.employee), "Idempotency-Key": key},
    )
    problem(response, 422, "invalid_idempotency_key")
    assert _records(session, world.team.employee) == 0
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_255_character_key_is_accepted(client: TestClient, world: World) -> None:
    response = call(client, "clock_in", {}, world.team.employee, **{"Idempotency-Key": "k" * 255})
    assert response.status_code == 200, response.text


def test_a_failed_call_keeps_no_key_so_a_corrected_retry_runs(
    client: TestClient, session: Session, world: World
) -> None:
    amina = world.team.teammate
    key = {"Idempotency-Key": "leave-typo"}
    typo = {**LEAVE_BODY, "leave_type": "anual"}
    problem(call(client, "request_leave", typo, amina, **key), 404, "leave_type_not_found")
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    fixed = call(client, "request_leave", LEAVE_BODY, amina, **key)
    assert fixed.status_code == 200, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    stored = session.scalars(select(IdempotencyKey)).one()
    assert (stored.user_id, stored.key, stored.status_code) == (amina.id, "leave-typo", 200)
    assert stored.response_body == fixed.json()


def test_read_only_tools_ignore_the_key(client: TestClient, world: World) -> None:
    headers = {"Idempotency-Key": "reads"}
    for _ in range(2):
        response = call(client, "my_profile", {}, world.team.employee, **headers)
        assert response.status_code == 200
        assert "idempotent-replayed" not in response.headers


def test_a_key_expires_after_a_day(client: TestClient, session: Session, world: World) -> None:
    john = world.team.employee
    key = {"Idempotency-Key": "daily"}
    first = call(client, "clock_in", {}, john, **key)
    assert call(client, "clock_out", {}, john).status_code == 200
    with frozen(NOW + timedelta(hours=25)):
        again = call(client, "clock_in", {}, john, **key)
    assert again.status_code == 200, again.text
    assert "idempotent-replayed" not in again.headers
    assert again.json()["record_id"] != first.json()["record_id"]
    assert _records(session, john) == 2


def test_purge_expired_deletes_keys_older_than_a_day(session: Session, world: World) -> None:
    actor = actor_of(world.team.employee)
    row = idempotency.claim(session, actor, key="old", fingerprint="f" * 64)
    idempotency.complete(session, row, status_code=200, body={"summary": "ok"})
    assert idempotency.purge_expired(session, now=NOW + timedelta(hours=23)) == 0
    assert idempotency.purge_expired(session, now=NOW + timedelta(hours=24)) == 1
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_the_scheduled_purge_task_runs_the_purge(session: Session, world: World) -> None:
    actor = actor_of(world.team.employee)
    row = idempotency.claim(session, actor, key="stale", fingerprint="e" * 64)
    idempotency.complete(session, row, status_code=200, body={"summary": "ok"})
    session.commit()
    with frozen(NOW + timedelta(days=2)):
        assert idempotency.purge_expired_task.delay().get() == 1
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_check_key_names_the_rule() -> None:
    with pytest.raises(Invalid) as err:
        idempotency.check_key("two words")
    assert err.value.code == "invalid_idempotency_key"
    assert idempotency.check_key("a-B_9:~") == "a-B_9:~"


def test_request_hash_ignores_key_order_but_not_values() -> None:
    a = idempotency.request_hash("clock_in", {"latitude": 1.0, "longitude": 2.0})
    b = idempotency.request_hash("clock_in", {"longitude": 2.0, "latitude": 1.0})
    assert a == b
    assert a != idempotency.request_hash("clock_out", {"latitude": 1.0, "longitude": 2.0})
    assert a != idempotency.request_hash("clock_in", {"latitude": 1.0, "longitude": 2.5})


@pytest.fixture
def committed_user(engine: Engine) -> Iterator[User]:
    """A user committed for real: concurrency needs two transactions that can see it."""
    with arranging(Session(engine, expire_on_commit=False)) as setup:
        org = make_org(setup)
        user = make_user(setup, org)
        setup.commit()
    try:
        yield user
    finally:
        with arranging(Session(engine)) as cleanup:
            # The audit trail has no foreign keys, so it is cleared by hand.
            cleanup.execute(delete(AuditEntry).where(AuditEntry.organization_id == org.id))
            cleanup.execute(delete(Organization).where(Organization.id == org.id))
            cleanup.commit()


def test_a_concurrent_duplicate_waits_for_the_first_and_replays_it(
    engine: Engine, committed_user: User
) -> None:
    actor = actor_of(committed_user)
    fingerprint = idempotency.request_hash("clock_in", {})
    outcome: dict[str, Any] = {}
    with Session(engine) as first:
        tenancy.act_as(first, actor)
        claimed = idempotency.claim(first, actor, key="race", fingerprint=fingerprint)
        assert not claimed.is_complete

        def duplicate() -> None:
            with Session(engine) as second:
                tenancy.act_as(second, actor)
                row = idempotency.claim(second, actor, key="race", fingerprint=fingerprint)
                outcome.update(complete=row.is_complete, body=row.response_body)
                second.commit()

        waiter = threading.Thread(target=duplicate)
        waiter.start()
        waiter.join(timeout=1)
        assert waiter.is_alive(), "the duplicate should wait on the unique index"
        idempotency.complete(first, claimed, status_code=200, body={"record_id": 7})
        first.commit()
        waiter.join(timeout=10)
    assert outcome == {"complete": True, "body": {"record_id": 7}}
