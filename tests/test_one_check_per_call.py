"""One call, one permission check at each edge, one validation of its arguments.

A REST call once had its role checked by the route, the registry and the service, and
its body validated by FastAPI and again by the registry. These tests count, so that a
second copy cannot creep back in: the tool's coarse check is made once, before the
arguments are read; the service makes its own (its object-level rule); the arguments
are validated once, wherever they come from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.routes import resources
from hrcore.actor import Actor, Permission
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from tests.factories import bearer
from tests.support.world import NOW, World
from tools import registry
from tools.registry import ToolArgs, ToolContext, ToolResult, run_tool, tool_spec

#: The `word` of every validation of `ProbeArgs`, in order.
VALIDATIONS: list[str] = []
#: The arguments each run of the probe tool was handed.
RECEIVED: list[ToolArgs] = []
# A permission every role has and the probe's own body checks nowhere else.
PROBE_PERMISSION = Permission.POLICY_READ


class ProbeArgs(ToolArgs):
    word: str = Field(default="hello", max_length=20, description="Any word.")

    @model_validator(mode="after")
    def _counted(self) -> ProbeArgs:
        VALIDATIONS.append(self.word)
        return self


class ProbeResult(ToolResult):
    word: str


def _probe(ctx: ToolContext, args: ProbeArgs) -> ProbeResult:
    """Echo the word back: a tool that only counts how it was called."""
    RECEIVED.append(args)
    return ProbeResult(summary=f"You said {args.word}.", word=args.word)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every permission check made from now on, by permission."""
    counted: Counter[str] = Counter()
    require = Actor.require

    def counting(self: Actor, permission: Permission) -> None:
        counted[str(permission)] += 1
        require(self, permission)

    monkeypatch.setattr(Actor, "require", counting)
    return counted


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`probe` in a copy of the registry, and a GET route reading through it."""
    registry.all_tools()  # the real declarations first, then the copy that adds the probe
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    tool_spec(name="probe", permission=PROBE_PERMISSION)(_probe)
    # The same tool behind a permission an employee lacks.
    tool_spec(name="payroll_probe", permission=Permission.PAYROLL_RUN)(_probe)
    route = resources.ReadRoute("/probe", "probe", "The probe", "tests")
    monkeypatch.setattr(resources, "READ_ROUTES", (*resources.READ_ROUTES, route))
    VALIDATIONS.clear()
    RECEIVED.clear()
    yield
    VALIDATIONS.clear()
    RECEIVED.clear()


@pytest.fixture
def client(session: Session, probe: None) -> Iterator[TestClient]:
    # Built after the probe is declared, so the probe has its own typed routes.
    app = create_app()
    with frozen(NOW):
        yield TestClient(app, raise_server_exceptions=False)


def test_a_typed_tool_route_checks_once_and_validates_once(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    response = client.post(
        "/api/v1/tools/probe", json={"word": "jambo"}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 200, response.text
    assert response.json()["word"] == "jambo"
    assert VALIDATIONS == ["jambo"]
    assert checks == {str(PROBE_PERMISSION): 1}


def test_a_typed_tool_route_without_a_body_validates_the_defaults_once(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    response = client.post("/api/v1/tools/probe", headers=bearer(world.team.employee))
    assert response.status_code == 200, response.text
    assert VALIDATIONS == ["hello"]
    assert checks == {str(PROBE_PERMISSION): 1}


def test_a_read_route_checks_once_and_validates_once(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    response = client.get(
        "/api/v1/probe", params={"word": "habari"}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 200, response.text
    assert VALIDATIONS == ["habari"]
    assert [args.word for args in RECEIVED] == ["habari"]
    assert checks == {str(PROBE_PERMISSION): 1}


def test_a_tool_declared_after_the_app_checks_once_and_validates_once(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    # Served by the by-name fallback, which reads a plain JSON body: the registry validates.
    tool_spec(name="late_probe", permission=PROBE_PERMISSION)(_probe)
    response = client.post(
        "/api/v1/tools/late_probe", json={"word": "mambo"}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 200, response.text
    assert VALIDATIONS == ["mambo"]
    assert checks == {str(PROBE_PERMISSION): 1}


def test_the_assistants_path_checks_once_and_validates_once(
    session: Session, world: World, probe: None, checks: Counter[str]
) -> None:
    actor = world.team.actor("employee")
    assert run_tool(session, actor, "probe", {"word": "sawa"}).summary == "You said sawa."
    assert VALIDATIONS == ["sawa"]
    assert checks == {str(PROBE_PERMISSION): 1}


def test_a_forbidden_role_is_refused_before_any_validation(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    response = client.post(
        "/api/v1/tools/payroll_probe", json={"word": "x" * 50}, headers=bearer(world.team.employee)
    )
    assert response.status_code == 403, response.text
    assert response.json()["details"] == {"permission": str(Permission.PAYROLL_RUN)}
    assert VALIDATIONS == []
    assert checks == {str(Permission.PAYROLL_RUN): 1}


def test_clock_in_over_rest_checks_at_the_edge_and_in_the_service_only(
    client: TestClient, world: World, checks: Counter[str]
) -> None:
    # The route's check (may this role clock in at all), then the service's own rule.
    response = client.post(
        "/api/v1/tools/clock_in",
        json={"latitude": -1.2925, "longitude": 36.822},
        headers=bearer(world.team.employee),
    )
    assert response.status_code == 200, response.text
    assert checks == {str(Permission.ATTENDANCE_CLOCK): 2}


def test_the_wellness_chart_checks_and_audits_once_for_all_its_weeks(
    client: TestClient, session: Session, world: World, checks: Counter[str]
) -> None:
    hr = world.team.hr
    entries = select(AuditEntry.action).where(AuditEntry.actor_user_id == hr.id)
    before = Counter(session.scalars(entries))
    response = client.post("/api/v1/tools/wellness_chart", json={"weeks": 12}, headers=bearer(hr))
    assert response.status_code == 200, response.text
    # The tool's check, then the trend's: not one more for each of the twelve weeks.
    assert checks == {str(Permission.WELLNESS_SUMMARY): 2}
    assert Counter(session.scalars(entries)) - before == {"reports.wellness_trend": 1}
