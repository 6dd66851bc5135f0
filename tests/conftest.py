"""Fixtures: one embedded PostgreSQL per run, migrated once; each test rolls back."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

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
from tests.factories import arranging
from tests.support.world import NOW, World, make_world


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
def committed_engine(engine: Engine) -> Iterator[Engine]:
    """A database of its own where every commit is real, for tests of concurrency.

    Threads each take their own connection from its pool (the `session` fixture's single
    rolled-back connection cannot serve two at once). Dropped after the test.
    """
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


@pytest.fixture
def inline_outbox() -> Iterator[None]:
    """In-process deliveries run in the committing thread, so a test can look right after."""
    outbox.run_inline(True)
    yield
    outbox.run_inline(False)


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    """Two employers with leave requests, for the tests of the REST surface."""
    with frozen(NOW):
        yield make_world(session)
