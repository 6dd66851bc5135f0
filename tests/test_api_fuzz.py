"""Schemathesis against the app's own OpenAPI: every documented route.

Authenticated as hr in a demo-like employer, every generated request (valid and invalid)
must get an answer that is no server error and that matches what /openapi.json documents:
status code, content type, headers and body schema.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from tests.factories import bearer
from tests.support.world import World

# Every check is about the documented contract: business refusals (409, 404 for ids that
# do not exist) are fine when documented. `negative_data_rejection` is left out on purpose:
# tool arguments are parsed leniently (pydantic's lax mode: "5" for 5, false for 0), as a
# language model writes them, so some schema-violating inputs are rightly accepted.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The live notification stream never ends by itself (tests/test_widget.py reads it from a
# real server); every other route is called.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app()).exclude(
    path="/api/v1/notifications/stream"
)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_documented_contract(case: schemathesis.Case, world: World) -> None:
    case.call_and_validate(headers=bearer(world.team.hr), checks=CHECKS)
