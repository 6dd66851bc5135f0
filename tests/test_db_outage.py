"""A database outage is a 503 with Retry-After, and the embedded PostgreSQL comes back."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import psutil
import psycopg
import psycopg_pool
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from api.errors import install_error_handlers
from api.routes.health import Unavailable
from hrcore import db, embedded
from hrcore.embedded import EmbeddedSupervisor, NotRestarted, backoff, pgdata_dir
from hrcore.migrate import upgrade
from tests.factories import arranging, make_org, make_user
from tests.fakes.faults_support import postgres_of
from tests.fakes.outbox_support import free_port

STATEMENT = "SELECT users.id FROM users WHERE users.phone = %(phone)s"
PARAMS = {"phone": "+254700000004"}
REFUSED = 'connection to server on socket "/srv/ajira/pg/.s.PGSQL.5432" failed: Connection refused'

OUTAGES = {
    "connection refused": sa_exc.OperationalError(
        STATEMENT, PARAMS, psycopg.OperationalError(REFUSED)
    ),
    "connection closed": sa_exc.InterfaceError(
        STATEMENT, PARAMS, psycopg.InterfaceError("the connection is closed")
    ),
    "server killed mid-query": sa_exc.DBAPIError(
        STATEMENT,
        PARAMS,
        psycopg.errors.AdminShutdown("terminating connection due to unexpected postmaster exit"),
        connection_invalidated=True,
    ),
    "server starting up": sa_exc.OperationalError(
        STATEMENT, PARAMS, psycopg.errors.CannotConnectNow("the database system is starting up")
    ),
    "too many connections": sa_exc.OperationalError(
        STATEMENT, PARAMS, psycopg.errors.TooManyConnections("too many clients already")
    ),
    "pool exhausted": sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "psycopg pool timeout": psycopg_pool.PoolTimeout("couldn't get a connection after 30 sec"),
    "psycopg directly": psycopg.OperationalError(REFUSED),
}
BUGS = {
    "missing table": sa_exc.ProgrammingError(
        STATEMENT, PARAMS, psycopg.errors.UndefinedTable('relation "users" does not exist')
    ),
    "duplicate key": sa_exc.IntegrityError(
        STATEMENT, PARAMS, psycopg.errors.UniqueViolation("duplicate key value")
    ),
    "statement too complex": sa_exc.OperationalError(
        STATEMENT, PARAMS, psycopg.errors.StatementTooComplex("stack depth limit exceeded")
    ),
}


def _raising_app(errors: dict[str, Exception]) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail/{name}")
    def fail(name: str) -> None:
        raise errors[name]

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("name", OUTAGES)
def test_a_lost_database_is_a_503_with_retry_after(name: str) -> None:
    response = _raising_app(OUTAGES).get(f"/fail/{name}")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert "try again" in body["detail"]
    for leak in ("SELECT", "+2547", ".s.PGSQL", "/srv/ajira", "Traceback"):
        assert leak not in response.text


@pytest.mark.parametrize("name", BUGS)
def test_a_wrong_query_stays_a_500(name: str) -> None:
    response = _raising_app(BUGS).get(f"/fail/{name}")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "retry-after" not in response.headers
    assert "SELECT" not in response.text


def test_readiness_503_asks_to_retry_too() -> None:
    client = _raising_app({"unready": Unavailable("The database cannot be reached.")})

    response = client.get("/fail/unready")

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0


def test_restarts_back_off_doubling_up_to_a_bound() -> None:
    delays = backoff(0.5, 30.0)

    assert [next(delays) for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


class _Server:
    """Stands in for a pgserver server held by this process."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.global_process_id_list = SimpleNamespace(get=lambda: [os.getpid()])

    def get_pid(self) -> int:
        return 4242


@pytest.fixture
def supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedSupervisor]:
    """A supervisor of a server that has no postmaster, restarted by a scripted `_restart`."""
    supervisor = EmbeddedSupervisor(tmp_path, first_retry=0.01, max_retry=0.04)
    monkeypatch.setitem(embedded._servers, supervisor.pgdata, _Server(supervisor.pgdata))
    yield supervisor
    supervisor.stop()


def _script(
    supervisor: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch, *outcomes: str | Exception
) -> None:
    remaining = iter(outcomes)

    def restart(server: object) -> str:
        outcome = next(remaining)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(supervisor, "_restart", restart)


def test_the_supervisor_retries_with_backoff_and_says_so(
    supervisor: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_yet = NotRestarted("the old postmaster is not reaped yet")
    _script(supervisor, monkeypatch, not_yet, not_yet, "started")

    with capture_logs() as logs:
        assert supervisor.check() is True

    assert [(e["event"], e.get("attempt"), e.get("retry_in_s")) for e in logs] == [
        ("embedded_postgres_down", None, 0.0),
        ("embedded_postgres_restart_failed", 1, 0.01),
        ("embedded_postgres_restart_failed", 2, 0.02),
        ("embedded_postgres_restarted", 3, None),
    ]
    assert supervisor.restarts == 1

    # Down again right after: no restart storm, the backoff goes on where it was.
    _script(supervisor, monkeypatch, "started")
    with capture_logs() as logs:
        assert supervisor.check() is True
    assert logs[0]["event"] == "embedded_postgres_down"
    assert logs[0]["retry_in_s"] == 0.04


def test_the_supervisor_leaves_a_server_this_process_let_go_of(
    supervisor: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(supervisor, monkeypatch, "released")

    assert supervisor.check() is False

    assert supervisor.pgdata not in embedded._servers
    assert supervisor.restarts == 0


def test_the_supervisor_never_starts_a_server_of_its_own(tmp_path: Path) -> None:
    with EmbeddedSupervisor(tmp_path, interval=0.01) as supervisor:
        time.sleep(0.05)
        assert supervisor.check() is True

    assert supervisor.restarts == 0
    assert not (tmp_path / "pg").exists()


# End to end: a real `ajira serve` on its own embedded PostgreSQL, whose postmaster is
# killed under it. The process is never restarted; the data directory is the test's own.

EMAIL = "outage@example.test"
PASSWORD = "outage-pass-2026"


def _prepare(data_dir: Path, runtime: Path) -> None:
    """Migrate a fresh embedded database in `data_dir`, add one user, and stop it again."""
    # pgserver's lock directory is chosen once per process: one that outlives this test,
    # as the session's own embedded database does (conftest).
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    engine = db.make_engine(db.start_embedded_postgres(data_dir))
    try:
        upgrade(engine)
        with arranging(Session(engine)) as session:
            make_user(session, make_org(session), email=EMAIL, password=PASSWORD)
            session.commit()
    finally:
        engine.dispose()
        import pgserver  # after start_embedded_postgres, which sets its lock directory

        # This process lets go, so the server stops and `ajira serve` starts it on its own.
        pgserver.get_server(pgdata_dir(data_dir)).cleanup()


def _stop_postgres_of(pgdata: Path) -> None:
    processes = postgres_of(pgdata)
    for process in processes:
        process.send_signal(signal.SIGQUIT)  # immediate shutdown
    _, alive = psutil.wait_procs(processes, timeout=3)
    for process in alive:
        process.kill()


def _gone(pgdata: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while postgres_of(pgdata):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def home() -> Iterator[Path]:
    """A home for Ajira whose PostgreSQL never outlives the test.

    Not under pytest's tmp_path: every pytest session makes its base directory private
    again, and PostgreSQL (run as the `pgserver` user under root) must traverse it.
    """
    home = Path(tempfile.mkdtemp(prefix="ajira-outage-")).resolve()
    try:
        yield home
    finally:
        _stop_postgres_of(home / "data" / "pg")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def environ(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The test run's own database and its pgserver lock directory are not for this one.
        if key not in {"DATABASE_URL", "AJIRA_TEST_DATABASE_URL", "XDG_RUNTIME_DIR"}
    }
    env.update(
        DATABASE_URL="",
        AJIRA_DATA_DIR=str(home / "data"),
        AJIRA_ENV="development",  # logs to stderr: the test reads them
        AJIRA_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def served(
    home: Path, environ: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ajira serve` on a free loopback port, with a migrated database and one user."""
    port = free_port()
    log = (home / "serve.log").open("wb")
    # Ajira opens the database on first use, so the database is prepared while it starts.
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=environ,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _prepare(home / "data", tmp_path_factory.mktemp("pgserver-run"))
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (home / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "ajira serve did not start"
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_killing_the_embedded_postmaster_gives_503s_then_service_again(
    home: Path, served: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, process = served
    pgdata = (home / "data" / "pg").resolve()
    with httpx.Client(base_url=base, timeout=10) as client:
        login = client.post("/api/v1/auth/login", json={"login": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert client.get("/api/v1/auth/me", headers=auth).status_code == 200

        postmaster = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(postmaster, signal.SIGKILL)

        # Until its backends notice the postmaster died, a request may still be served.
        answers: list[httpx.Response] = []
        deadline = time.monotonic() + 30
        while True:
            answers.append(client.get("/api/v1/auth/me", headers=auth))
            statuses = [answer.status_code for answer in answers]
            if statuses[-1] == 200 and 503 in statuses:
                break
            assert time.monotonic() < deadline, f"no service 30 s after the kill: {statuses}"
            time.sleep(0.05)
        assert set(statuses) == {200, 503}
        for down in answers:
            if down.status_code == 503:
                assert down.headers["content-type"] == "application/problem+json"
                assert int(down.headers["retry-after"]) > 0
                assert down.json()["code"] == "database_unavailable"
        # Served again, and the session the login wrote before the crash is still there.
        again = answers[-1]
        assert again.json()["email"] == EMAIL
        assert client.get("/readyz").status_code == 200

    assert process.poll() is None, "Ajira itself was never restarted"
    assert len([p for p in postgres_of(pgdata) if str(pgdata) in p.cmdline()]) == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    log = re.sub(r"\x1b\[[0-9;]*m", "", (home / "serve.log").read_text())  # no colours
    assert "embedded_postgres_down" in log
    assert "embedded_postgres_restarted" in log
    assert "attempt=" in log
    assert "status=500" not in log
    # Stopping Ajira stops the restarted server too: no postmaster is left behind.
    assert _gone(pgdata, timeout=5)
