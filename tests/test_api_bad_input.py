"""Hostile input over REST: far dates and months are a 422 with a stable code, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hrcore.clock import frozen
from tests.factories import Team, bearer

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


pytestmark = pytest.mark.frozen_at(NOW)


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("employee", "POST", "/api/v1/tools/attendance_history", {"end": "9999-12-31"}),
        ("employee", "GET", "/api/v1/attendance?end=9999-12-31", None),
        ("employee", "GET", "/api/v1/attendance?start=0001-01-01", None),
        ("employee", "POST", "/api/v1/tools/fetch_payslip", {"month": "0000-01"}),
        ("hr", "POST", "/api/v1/tools/run_payroll", {"month": "0000-01"}),
        ("hr", "POST", "/api/v1/tools/wellness_summary", {"end": "0001-01-01"}),
        ("hr", "POST", "/api/v1/tools/wellness_summary", {"start": "9999-12-31"}),
        ("employee", "POST", "/api/v1/tools/request_leave",
         {"leave_type": "annual", "start_date": "9999-12-30", "end_date": "9999-12-31"}),
        ("employee", "POST", "/api/v1/tools/leave_balance", {"year": 10000}),
        ("hr", "POST", "/api/v1/tools/submit_review",
         {"employee_id": 1, "period": "0000-Q1", "overall_score": 3}),
        ("employee", "POST", "/api/v1/tools/salary_preview",
         {"gross": 50000, "pay_date": "0001-01-01"}),
    ],
)  # fmt: skip
def test_far_dates_and_months_are_refused_plainly(
    app: FastAPI, team: Team, who: str, method: str, path: str, body: dict | None
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    with frozen(NOW):
        response = client.request(method, path, json=body, headers=bearer(getattr(team, who)))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] in ("validation_error", "invalid_arguments")
    assert "Traceback" not in response.text
