import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import DbSession
from hrcore.actor import Role
from hrcore.audit import AuditEntry, record
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.errors import Invalid
from hrcore.people.models import Organization, User
from tests.factories import make_org, make_user

PASSWORD = "correct horse battery"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


@pytest.fixture
def app(session: Session) -> FastAPI:
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def org(session: Session) -> Organization:
    return make_org(session, slug="jua-kali", name="Jua Kali Foods Ltd")


@pytest.fixture
def user(session: Session, org: Organization) -> User:
    return make_user(session, org, password=PASSWORD)


def _problem(response: Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["type"] in (f"https://ajira.app/problems/{code}", "about:blank")
    return body


def _login(client: TestClient, login: str, password: str = PASSWORD) -> Response:
    return client.post(LOGIN, json={"login": login, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_with_json_returns_a_token_pair_that_is_not_cached(
    client: TestClient, user: User
) -> None:
    response = _login(client, user.email)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    me = client.get(ME, headers=_bearer(body["access_token"]))
    assert me.json()["id"] == user.id


def test_login_with_the_oauth2_form_as_docs_sends_it(client: TestClient, user: User) -> None:
    response = client.post(
        LOGIN, data={"grant_type": "password", "username": user.phone, "password": PASSWORD}
    )
    assert response.status_code == 200
    me = client.get(ME, headers=_bearer(response.json()["access_token"]))
    assert me.json()["id"] == user.id


def test_wrong_password_is_a_401_problem(client: TestClient, user: User) -> None:
    body = _problem(_login(client, user.email, "nope"), 401, "invalid_credentials")
    assert body["type"] == "https://ajira.app/problems/invalid_credentials"
    assert "nope" not in str(body)


def test_a_login_holding_nul_is_a_401_not_a_server_error(client: TestClient, user: User) -> None:
    _problem(_login(client, user.email + "\x00", PASSWORD), 401, "invalid_credentials")


def test_five_failures_pause_that_login_from_that_address_with_retry_after(
    client: TestClient, session: Session, user: User
) -> None:
    for _ in range(5):
        assert _login(client, user.email, "nope").status_code == 401
    response = _login(client, user.email)
    body = _problem(response, 429, "rate_limited")
    assert 14 * 60 <= int(response.headers["retry-after"]) <= 15 * 60
    assert body["details"]["retry_after_s"] == int(response.headers["retry-after"])
    # Every failure was recorded, each in a transaction of its own.
    outcomes = session.scalars(
        select(AuditEntry.outcome).where(AuditEntry.action == "auth.login")
    ).all()
    assert outcomes == ["invalid_credentials"] * 5


def test_an_access_token_stops_working_at_logout(client: TestClient, user: User) -> None:
    pair = _login(client, user.email).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]}).status_code == 204
    _problem(client.get(ME, headers=headers), 401, "session_ended")


def test_an_access_token_stops_working_when_its_refresh_token_is_replayed(
    client: TestClient, user: User
) -> None:
    first = _login(client, user.email).json()
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert client.get(ME, headers=headers).status_code == 200
    # The first refresh token again: a copy is in use, so the whole sign-in ends.
    replay = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    _problem(replay, 401, "refresh_token_reused")
    _problem(client.get(ME, headers=headers), 401, "session_ended")


def test_refresh_rotates_and_replay_signs_the_session_out(client: TestClient, user: User) -> None:
    first = _login(client, user.email).json()
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]

    replay = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    _problem(replay, 401, "refresh_token_reused")
    assert replay.headers["www-authenticate"] == "Bearer"
    _problem(
        client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]}),
        401,
        "refresh_token_reused",
    )


def test_logout_revokes_and_can_be_repeated(client: TestClient, user: User) -> None:
    tokens = _login(client, user.email).json()
    response = client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    _problem(
        client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}),
        401,
        "refresh_token_reused",
    )
    assert client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    _problem(client.post(LOGOUT, json={"refresh_token": "garbage"}), 401, "invalid_token")


def test_me_for_a_user_of_each_organization(client: TestClient, session: Session) -> None:
    ke = make_org(session, country="KE", slug="demo", name="Jua Kali Foods Ltd")
    tz = make_org(session, country="TZ", slug="acme-tz", name="Acme TZ")
    boss = make_user(session, ke, role=Role.SUPERVISOR)
    john = make_user(session, ke, reports_to=boss, password=PASSWORD, full_name="John Kamau")
    neema = make_user(session, tz, role=Role.ADMIN, password=PASSWORD, language="sw")

    john_token = _login(client, john.email).json()["access_token"]
    me = client.get(ME, headers=_bearer(john_token))
    assert me.status_code == 200
    assert me.json() == {
        "id": john.id,
        "full_name": "John Kamau",
        "email": john.email,
        "phone": john.phone,
        "role": "employee",
        "language": "en",
        "organization": {
            "id": ke.id,
            "slug": "demo",
            "name": "Jua Kali Foods Ltd",
            "country": "KE",
            "timezone": "Africa/Nairobi",
        },
        "reports_to_id": boss.id,
    }

    neema_token = _login(client, neema.phone).json()["access_token"]
    body = client.get(ME, headers=_bearer(neema_token)).json()
    assert (body["id"], body["role"], body["language"], body["reports_to_id"]) == (
        neema.id,
        "admin",
        "sw",
        None,
    )
    assert body["organization"] == {
        "id": tz.id,
        "slug": "acme-tz",
        "name": "Acme TZ",
        "country": "TZ",
        "timezone": "Africa/Dar_es_Salaam",
    }


def test_me_without_a_token_is_a_401_problem_with_a_bearer_challenge(
    client: TestClient,
) -> None:
    response = client.get(ME)
    _problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_access_token_is_a_401_token_expired(client: TestClient, user: User) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=30)
    with frozen(issued):
        token = _login(client, user.email).json()["access_token"]
    response = client.get(ME, headers=_bearer(token))
    _problem(response, 401, "token_expired")
    assert response.headers["www-authenticate"] == "Bearer"


def test_tampered_access_token_is_a_401(client: TestClient, user: User) -> None:
    token = _login(client, user.email).json()["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"
    _problem(client.get(ME, headers=_bearer(tampered)), 401, "invalid_token")


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    body = _problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.get(LOGIN)
    _problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_invalid_body_is_a_422_problem_naming_each_field_without_echoing_it(
    client: TestClient, session: Session
) -> None:
    response = client.post(LOGIN, json={"password": "s3cret-value", "extra": 1})
    body = _problem(response, 422, "validation_error")
    assert {(e["field"], e["location"]) for e in body["errors"]} == {
        ("login", "body"),
        ("extra", "body"),
    }
    assert "s3cret-value" not in response.text
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).all() == []


def test_invalid_form_names_the_oauth2_field(client: TestClient) -> None:
    body = _problem(client.post(LOGIN, data={"password": "x"}), 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["username"]


def test_malformed_json_is_a_422_problem(client: TestClient) -> None:
    response = client.post(LOGIN, content=b"{", headers={"content-type": "application/json"})
    _problem(response, 422, "validation_error")


def test_refresh_without_a_token_is_a_422_problem(client: TestClient) -> None:
    body = _problem(client.post(REFRESH, json={}), 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["refresh_token"]


def test_unexpected_errors_are_a_500_problem_without_internals(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("connection string postgres://secret@db")

    app.add_api_route("/test/explode", explode)
    response = TestClient(app, raise_server_exceptions=False).get("/test/explode")
    body = _problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert body["detail"] == "Something went wrong on our side."


def _audit_targets(session: Session, action: str) -> list[str | None]:
    return list(
        session.scalars(select(AuditEntry.target_id).where(AuditEntry.action == action)).all()
    )


def test_an_error_rolls_back_every_write_and_keeps_only_its_own_record(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    def write(db: DbSession, outcome: str) -> dict[str, str]:
        record(db, None, "test.write", target_id=outcome)
        db.flush()
        if outcome != "ok":
            error = Invalid("No.", code="test_refused")
            if outcome == "kept":
                error.keep(lambda side: record(side, None, "test.failure", target_id=outcome))
            raise error
        return {"outcome": outcome}

    app.add_api_route("/test/write", write, methods=["POST"])
    assert client.post("/test/write", params={"outcome": "ok"}).status_code == 200
    _problem(client.post("/test/write", params={"outcome": "kept"}), 422, "test_refused")
    _problem(client.post("/test/write", params={"outcome": "dropped"}), 422, "test_refused")
    assert _audit_targets(session, "test.write") == ["ok"]
    assert _audit_targets(session, "test.failure") == ["kept"]


def test_openapi_documents_both_login_bodies_and_problem_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Ajira"
    login = schema["paths"][LOGIN]["post"]
    assert set(login["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert login["responses"]["401"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    me = schema["paths"][ME]["get"]
    assert me["security"] == [{"OAuth2PasswordBearer": []}]
    assert schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"][
        "tokenUrl"
    ] == (LOGIN)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_a_refused_sign_in_is_answered_after_a_pause_known_login_or_not(
    client: TestClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "login_failure_delay_s", 1.0)
    for login in (user.email, "nobody@nowhere.test"):
        started = time.perf_counter()
        _problem(_login(client, login, "nope"), 401, "invalid_credentials")
        assert time.perf_counter() - started >= 1.0
    started = time.perf_counter()
    assert _login(client, user.email).status_code == 200
    assert time.perf_counter() - started < 1.0
