from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from hrcore import db


@pytest.fixture
def client(session: Session) -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


@pytest.fixture
def database_down(session: Session) -> Iterator[None]:
    """Point new sessions at a port where no PostgreSQL listens."""
    previous = db.session_factory()
    unreachable = create_engine(
        "postgresql+psycopg://ajira@127.0.0.1:1/ajira", connect_args={"connect_timeout": 2}
    )
    db.use_session_factory(sessionmaker(unreachable))
    try:
        yield
    finally:
        db.use_session_factory(previous)
        unreachable.dispose()


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


@pytest.mark.usefixtures("database_down")
def test_readyz_is_a_503_problem_when_the_database_is_unreachable(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert "127.0.0.1" not in response.text
    # Liveness does not depend on the database.
    assert client.get("/healthz").status_code == 200
