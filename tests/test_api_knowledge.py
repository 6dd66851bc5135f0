"""Policy documents over REST: the ladder (401/403/404), upload, list, read and delete."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.people.models import User
from knowledge import background
from knowledge.tasks import run_ingest
from tests.factories import Team, bearer
from tests.knowledge_fixtures import FixedEmbedder

DOCS = "/api/v1/knowledge/documents"
POLICY = b"# Leave Policy\n\n## Maternity leave\n\nThree months with full pay.\n"


@pytest.fixture
def client(session: Session) -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(background.thread_dispatch, "submit", calls.append)
    return calls


def upload(client: TestClient, user: User, content: bytes = POLICY, name: str = "leave.md"):
    return client.post(
        DOCS,
        headers=bearer(user),
        files={"file": (name, content, "text/markdown")},
        data={"title": "Leave Policy"},
    )


def count_documents(session: Session, org_id: int) -> int:
    return session.scalar(select(func.count()).where(PolicyDocument.organization_id == org_id)) or 0


def test_the_ladder(client: TestClient, session: Session, scheduled: list[int]) -> None:
    team, other = Team(session), Team(session)
    assert client.get(DOCS).status_code == 401
    assert client.post(DOCS, files={"file": ("a.md", b"x")}).status_code == 401
    for who in ("employee", "supervisor"):
        response = upload(client, getattr(team, who))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert client.get(DOCS, headers=bearer(getattr(team, who))).status_code == 403
    assert count_documents(session, team.org.id) == 0
    theirs = upload(client, other.hr).json()["id"]
    for method in ("get", "delete"):
        response = client.request(method, f"{DOCS}/{theirs}", headers=bearer(team.hr))
        assert response.status_code == 404
        assert response.json()["code"] == "document_not_found"
    assert count_documents(session, other.org.id) == 1


def test_upload_then_ingest_list_read_and_delete(
    client: TestClient, session: Session, scheduled: list[int]
) -> None:
    team = Team(session)
    response = upload(client, team.hr)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["status"], body["progress"], body["searchable"]) == ("pending", 0.0, False)
    assert body["title"] == "Leave Policy"
    assert scheduled == [body["id"]]
    assert run_ingest(body["id"], embedder=FixedEmbedder()) == "ready"

    read = client.get(f"{DOCS}/{body['id']}", headers=bearer(team.admin)).json()
    assert (read["status"], read["chunks_done"], read["chunks_total"]) == ("ready", 1, 1)
    assert (read["progress"], read["searchable"]) == (1.0, True)
    page = client.get(DOCS, headers=bearer(team.admin), params={"limit": 1}).json()
    assert (page["total"], [d["id"] for d in page["items"]]) == (1, [body["id"]])

    assert client.delete(f"{DOCS}/{body['id']}", headers=bearer(team.hr)).status_code == 204
    assert count_documents(session, team.org.id) == 0
    assert session.scalar(select(func.count()).where(PolicyChunk.document_id == body["id"])) == 0


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("sheet.xlsx", b"PK\x03\x04 data", "unsupported_type"),
        ("empty.md", b"", "empty_document"),
        ("../", b"text", "filename_required"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client: TestClient,
    session: Session,
    scheduled: list[int],
    name: str,
    content: bytes,
    code: str,
) -> None:
    team = Team(session)
    response = upload(client, team.hr, content, name)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert count_documents(session, team.org.id) == 0
    assert scheduled == []


def test_oversized_uploads_are_refused(
    client: TestClient, session: Session, scheduled: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.settings import get_knowledge_settings

    monkeypatch.setattr(get_knowledge_settings(), "max_document_bytes", 100)
    team = Team(session)
    response = upload(client, team.hr, b"# Big\n\n" + b"word " * 100)
    assert response.status_code == 422
    assert response.json()["code"] == "document_too_large"
    assert count_documents(session, team.org.id) == 0
