"""Alembic, driven from code: `ajira migrate` and the test fixtures both come here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.pool import NullPool

from hrcore.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs on `engine`'s database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def owner_engine(engine: Engine) -> Iterator[Engine]:
    """`engine`'s database as its login role, which owns the schema.

    The application's connections switch to the role the row-level-security policies
    bind, which may not create tables (and does not exist before migration 0011).
    """
    owner = make_engine(engine.url, app_role=None, poolclass=NullPool)
    try:
        yield owner
    finally:
        owner.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    with owner_engine(engine) as owner:
        command.upgrade(alembic_config(owner), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with owner_engine(engine) as owner, owner.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
