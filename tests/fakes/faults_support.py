"""The fault tests' stack: `ajira serve` as its own process in front of a PostgreSQL to stop
and start, a Redis to stop and start at the same address, an OpenAI-compatible model and
Africa's Talking, the last two loopback stand-ins of tests/fakes.

The PostgreSQL is a second pgserver cluster in a temporary home, so stopping it never
disturbs the suite's shared one; `ajira serve` reaches it through `DATABASE_URL`, as it
would reach a managed PostgreSQL, and has nothing of its own that restarts it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from hrcore.actor import Role
from hrcore.auth.service import open_session
from hrcore.leave import service as leave
from hrcore.migrate import upgrade
from tests.factories import make_org, make_user
from tests.fakes import africastalking_server as at
from tests.fakes import openai_server
from tests.fakes.needs import REDIS_HINT, in_ci
from tests.fakes.outbox_support import ROOT, at_env, free_port, redis_server_on

if TYPE_CHECKING:
    from pgserver import PostgresServer

TOOLS = "/api/v1/tools"
CHAT = "/api/v1/chat"
#: Any answer comes within this, outage or not: a request that takes longer is a hang.
REQUEST_TIMEOUT_S = 15.0
#: How long `ajira serve` waits for the model (AJIRA_LLM_TIMEOUT).
LLM_TIMEOUT_S = 1.0
#: hr's password (the others sign in without one: `open_session`).
PASSWORD = "faults-pass-2026"


def postgres_of(pgdata: Path) -> list[psutil.Process]:
    """Live PostgreSQL processes of `pgdata`: its postmaster and every backend."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if str(pgdata) in process.cmdline() or Path(process.cwd()) == pgdata:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class StandalonePostgres:
    """A pgserver cluster this test process started, to be stopped and started at will."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.pgdata: Path = server.pgdata

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its `postgres` database (a Unix socket in the data dir)."""
        return self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m <mode>`: "fast" ends every session, "immediate" is a crash."""
        # pgserver makes one function per bundled program when it is imported.
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-t", "20", "-m", mode, "stop"],
            pgdata=self.pgdata,
            user=self.server.system_user,
            timeout=30,
        )

    def start(self) -> None:
        """Start it again on the same data directory and socket (what pgserver does)."""
        with self.server._lock:
            self.server.ensure_postgres_running()

    def running(self) -> bool:
        return any(str(self.pgdata) in p.cmdline() for p in postgres_of(self.pgdata))


@contextmanager
def standalone_postgres() -> Iterator[StandalonePostgres]:
    """A fresh PostgreSQL with pgvector in a home of its own; deleted afterwards.

    Not under pytest's tmp_path: every pytest session makes its base directory private
    again, and PostgreSQL (run as the `pgserver` user under root) must traverse it.
    """
    import pgserver  # the suite's conftest chose its lock directory already

    home = Path(tempfile.mkdtemp(prefix="ajira-faults-")).resolve()
    pgdata = home / "pg"
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield StandalonePostgres(server)
    finally:
        try:
            server.cleanup()
        finally:
            processes = postgres_of(pgdata)
            for process in processes:
                process.send_signal(signal.SIGQUIT)
            _, alive = psutil.wait_procs(processes, timeout=3)
            for process in alive:
                process.kill()
            shutil.rmtree(home, ignore_errors=True)


class RestartableRedis:
    """A `redis-server` on one loopback port that can be stopped and started again there.

    Each start is empty, as after a crash of a Redis without persistence.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._running: ExitStack | None = None

    def start(self) -> None:
        assert self._running is None, "already running"
        stack = ExitStack()
        stack.enter_context(redis_server_on(self.port))
        self._running = stack

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


def redis_installed() -> bool:
    """Whether `redis-server` is here; under CI=true a missing one fails the test instead."""
    if shutil.which("redis-server") is not None:
        return True
    if in_ci():
        pytest.fail(REDIS_HINT)
    return False


@contextmanager
def optional_redis() -> Iterator[RestartableRedis | None]:
    """A running `RestartableRedis`, or None where `redis-server` is not installed (and CI
    is not set); stopped at the end whatever state it is in."""
    if not redis_installed():
        yield None
        return
    redis = RestartableRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def serve_environment(**values: str) -> dict[str, str]:
    """This process's environment without the suite's own database, plus `values`."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The test run's database and its pgserver lock directory are not for `ajira serve`.
        if key not in {"DATABASE_URL", "AJIRA_TEST_DATABASE_URL", "XDG_RUNTIME_DIR", "REDIS_URL"}
    }
    env.update(
        AJIRA_ENV="development",  # logs to stderr, one readable line per request
        AJIRA_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(values)
    return env


@contextmanager
def ajira_serve(
    env: Mapping[str, str], log_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ajira serve` on a free loopback port until its database answers; its base URL."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=dict(env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    pytest.fail(f"ajira serve exited:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"ajira serve was not ready in 60 s:\n{log_path.read_text()}")
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


# ------------------------------------------------------------------ the whole stack


@dataclass
class Person:
    user_id: int
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Stack:
    """`ajira serve` and everything it talks to, each of which a test may break."""

    base: str
    process: subprocess.Popen[bytes]
    log_path: Path
    workdir: Path
    postgres: StandalonePostgres
    engine: Engine
    redis: RestartableRedis | None
    llm: openai_server.FakeOpenAI
    sms: at.FakeAfricasTalking
    organization_id: int
    hr: Person
    employees: list[Person] = field(default_factory=list)

    def log(self) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", self.log_path.read_text())  # no colours

    def assert_healthy(self) -> None:
        """Still the same process, answering, and it never answered a 500."""
        assert self.process.poll() is None, "ajira serve died:\n" + self.log()
        assert httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200
        assert "status=500" not in self.log()


def _seed(engine: Engine, clients: int) -> tuple[int, Person, list[Person]]:
    """An employer with an admin, hr and `clients` employees, each signed in."""
    with Session(engine, expire_on_commit=False) as session:
        org = make_org(session)
        leave.ensure_default_leave_types(session, org)
        make_user(session, org, role=Role.ADMIN)
        hr = make_user(session, org, role=Role.HR, password=PASSWORD)
        staff = [make_user(session, org) for _ in range(clients)]
        people = [
            Person(user.id, user.email or "", open_session(session, user).access_token)
            for user in [hr, *staff]
        ]
        session.commit()
        return org.id, people[0], people[1:]


@contextmanager
def running_stack(
    workdir: Path, script: dict[str, openai_server.Step], *, clients: int
) -> Iterator[Stack]:
    """Everything started, an employer seeded, and `ajira serve` ready; all stopped after."""
    with (
        standalone_postgres() as postgres,
        openai_server.serve(script) as llm,
        at.running() as sms,
        optional_redis() as redis,
    ):
        # The login role: the tests arrange and inspect every row, as an operator would.
        engine = create_engine(postgres.url, pool_pre_ping=True)
        try:
            upgrade(engine)
            organization_id, hr, employees = _seed(engine, clients)
            env = serve_environment(
                DATABASE_URL=postgres.url,
                AJIRA_DATA_DIR=str(workdir / "data"),
                OPENAI_BASE_URL=llm.base_url,
                OPENAI_API_KEY="sk-test-only",
                AJIRA_EMBEDDINGS_BASE_URL=llm.base_url,
                AJIRA_LLM_TIMEOUT=str(LLM_TIMEOUT_S),
                **{k: v for k, v in at_env(sms.base_url).items() if v is not None},
                **({"REDIS_URL": redis.url} if redis else {}),
            )
            log_path = workdir / "serve.log"
            with ajira_serve(env, log_path) as (base, process):
                yield Stack(
                    base=base,
                    process=process,
                    log_path=log_path,
                    workdir=workdir,
                    postgres=postgres,
                    engine=engine,
                    redis=redis,
                    llm=llm,
                    sms=sms,
                    organization_id=organization_id,
                    hr=hr,
                    employees=employees,
                )
        finally:
            engine.dispose()


def chat(stack: Stack, person: Person, message: str, conversation: str) -> httpx.Response:
    """One chat turn of `person` through `ajira serve`."""
    return httpx.post(
        f"{stack.base}{CHAT}",
        json={"message": message, "conversation_id": conversation},
        headers=person.auth,
        timeout=REQUEST_TIMEOUT_S,
    )
