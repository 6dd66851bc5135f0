"""Fixtures: one embedded PostgreSQL per run, migrated once; each test rolls back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

os.environ.setdefault("AJIRA_ENV", "test")

from hrcore import db
from hrcore.migrate import upgrade


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
    """
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        db.use_session_factory(factory)
        session = factory()
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
            db.configure_engine(engine)
