"""Fixtures: one embedded PostgreSQL per run, migrated once; each test rolls back.

Shared by every layer's tests: the demo `team` (shaped per module with
`pytest.mark.team(...)`), the two-employer `world` of the REST tests, and a clock frozen
with `pytest.mark.frozen_at(instant)`. Helpers that several modules import live in
`tests/factories.py`, `tests/support/`, `tests/fakes/` and `tests/knowledge_fixtures.py`:
a test module never imports another.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import nullcontext
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

os.environ.setdefault("AJIRA_ENV", "test")
# A fresh key per run: nothing in the repository may sign a token, not even in tests.
os.environ.setdefault("AJIRA_SECRET_KEY", secrets.token_urlsafe(48))
# Refused sign-ins answer at once here; tests/test_api_auth.py checks the pause itself.
os.environ.setdefault("AJIRA_LOGIN_FAILURE_DELAY", "0")

from hrcore import db, ratelimit
from hrcore.clock import frozen
from hrcore.migrate import owner_engine, upgrade
from hrcore.notifications import outbox
from tests.factories import Team, arranging
from tests.support.world import NOW, World, make_world

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "frozen_at(instant): the clock (`hrcore.clock`) stands at `instant` for the whole test",
    )
    config.addinivalue_line(
        "markers",
        "team(**options): how the `team` fixture is built: `Team`'s keyword arguments "
        "(`leave_types=True`, `grace_minutes=5`, ...), or `committed=True` for a team whose "
        "rows are committed, for tests whose workers or threads read them on other connections",
    )
    config.addinivalue_line(
        "markers",
        "one_committed_database: the module's tests share one `committed_engine` database "
        "(creating and migrating one takes about a second); each test removes its own rows",
    )


@pytest.fixture(autouse=True)
def _frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Freeze the clock where a test or its module is marked `frozen_at(instant)`."""
    marker = request.node.get_closest_marker("frozen_at")
    with frozen(marker.args[0]) if marker else nullcontext():
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with no attempts counted against anyone."""
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = os.environ.get("AJIRA_TEST_DATABASE_URL") or db.start_embedded_postgres(
        tmp_path_factory.mktemp("pg"), cleanup_mode="delete"
    )
    eng = db.make_engine(url)
    upgrade(eng)
    db.configure_engine(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Code under test that opens its own sessions (`db.unit_of_work`, the API)
    shares the same connection, so its commits are savepoints and vanish too.

    The test's own session arranges and inspects several employers' rows, so it crosses
    the row-level-security wall (`factories.arranging`); the sessions of the code
    under test do not, and see only the organization their actor names.
    """
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        db.use_session_factory(factory)
        # Deliveries after a commit share this one connection: never from another thread.
        outbox.run_inline(True)
        session = arranging(factory())
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
            outbox.run_inline(False)
            db.configure_engine(engine)


@pytest.fixture
def committed_engine(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of its own where every commit is real, for tests of concurrency.

    Threads each take their own connection from its pool (the `session` fixture's single
    rolled-back connection cannot serve two at once). Dropped after the test; in a module
    marked `one_committed_database`, shared by the module's tests instead.
    """
    if request.node.get_closest_marker("one_committed_database"):
        shared = request.getfixturevalue("module_database")
        db.configure_engine(shared)
        try:
            yield shared
        finally:
            db.configure_engine(engine)
        return
    name = f"ajira_commit_{secrets.token_hex(4)}"
    # Creating a database is the login role's right, not the application role's.
    with (
        owner_engine(engine) as owner,
        owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
    ):
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    own = db.make_engine(engine.url.set(database=name), pool_size=20, max_overflow=10)
    try:
        upgrade(own)
        db.configure_engine(own)
        yield own
    finally:
        own.dispose()
        db.configure_engine(engine)
        with (
            owner_engine(engine) as owner,
            owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def module_database(engine: Engine) -> Iterator[Engine]:
    """One database with real commits for a module marked `one_committed_database`."""
    # Imported here: the outbox helpers pull in Celery and the worker's settings.
    from tests.fakes.outbox_support import committed_database

    with committed_database(engine) as own:
        yield own


@pytest.fixture
def inline_outbox() -> Iterator[None]:
    """In-process deliveries run in the committing thread, so a test can look right after."""
    outbox.run_inline(True)
    yield
    outbox.run_inline(False)


@pytest.fixture
def team(request: pytest.FixtureRequest) -> Iterator[Team]:
    """The demo employer: an admin, hr, a supervisor with two reports, one outsider.

    A module (or test) marked `pytest.mark.team(...)` says how it wants it built; the
    session is asked for only when the team lives in it, since a committed team must not
    switch on the rolled-back session's inline deliveries.
    """
    marker = request.node.get_closest_marker("team")
    options = dict(marker.kwargs) if marker else {}
    if options.pop("committed", False):
        assert not options, "a committed team is the plain demo team with its leave types"
        # Imported here: the outbox helpers pull in Celery and the worker's settings.
        from tests.fakes.outbox_support import committed_team

        with committed_team(request.getfixturevalue("committed_engine")) as committed:
            yield committed
        return
    yield Team(request.getfixturevalue("session"), **options)


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    """Two employers with leave requests, for the tests of the REST surface."""
    with frozen(NOW):
        yield make_world(session)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The REST app, once per module: it keeps no database state (each test's `session`
    fixture binds the sessions it opens)."""
    # Imported here: most tests never start the web app.
    from api.app import create_app

    return create_app()


@pytest.fixture
def client(app: FastAPI, session: Session) -> TestClient:
    """A client of `app` that answers a server error as a response, as a real client sees it."""
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)
