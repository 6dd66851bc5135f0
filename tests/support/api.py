"""What every test of the HTTP surface checks the same way."""

from __future__ import annotations

from typing import Any

from httpx import Response


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Assert `response` is a problem+json with `status` and `code`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body
