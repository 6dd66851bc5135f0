"""Engine, sessions and the embedded PostgreSQL used when `DATABASE_URL` is unset."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import URL, CursorResult, Engine, MetaData, Result, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from hrcore import tenancy
from hrcore.actor import Actor
from hrcore.config import Settings, get_settings
from hrcore.errors import HRError

log = logging.getLogger("ajira.db")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every Ajira table."""

    metadata = MetaData(naming_convention=NAMING)


_lock = threading.Lock()
_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None


def start_embedded_postgres(data_dir: Path, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the pgserver PostgreSQL in `data_dir`; return a SQLAlchemy URL."""
    from hrcore import embedded

    data_dir = data_dir.resolve()
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    # pgserver keeps its lock files under XDG_RUNTIME_DIR, which must be private.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    # Imported late: starting postgres is only for the embedded case.
    from pgserver.postgres_server import get_server

    server = get_server(embedded.pgdata_dir(data_dir), cleanup_mode=cleanup_mode)
    # Known to `embedded.EmbeddedSupervisor`, which restarts it if its postmaster dies.
    embedded.register(server)
    return server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)


def database_url(settings: Settings | None = None) -> str:
    """The configured database URL, starting the embedded server when none is set."""
    settings = settings or get_settings()
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return start_embedded_postgres(settings.data_dir)


def make_engine(
    url: str | URL, *, app_role: str | None = tenancy.APP_ROLE, **kwargs: object
) -> Engine:
    """An engine with the pool settings Ajira uses everywhere.

    Its connections switch to `app_role`, the role the row-level-security policies bind
    (see `hrcore.tenancy`). None keeps the login role: migrations, and the benchmarks'
    "policies off" comparison; never the application.
    """
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
    if app_role is not None:
        tenancy.use_app_role(engine, app_role)
    return engine


def rowcount(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE matched (0 when the driver does not say)."""
    # `Session.execute` types every result as a `Result`; a DML statement's is a cursor's.
    return int(cast(CursorResult[Any], result).rowcount or 0)


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine, _session_factory
    with _lock:
        if _engine is None:
            _engine = make_engine(database_url())
            # A factory chosen with `use_session_factory` (a rolled-back test or eval
            # connection) stays: the engine is only asked for now, not a new home for data.
            if _session_factory is None:
                _session_factory = sessionmaker(_engine, expire_on_commit=False)
        return _engine


def configure_engine(engine: Engine) -> None:
    """Use `engine` for this process (tests, benchmarks, tools with their own database)."""
    global _engine, _session_factory
    with _lock:
        _engine = engine
        _session_factory = sessionmaker(engine, expire_on_commit=False)


def use_session_factory(factory: sessionmaker[Session]) -> None:
    """Hand out sessions from `factory` (tests bind them to one rolled-back connection)."""
    global _session_factory
    with _lock:
        _session_factory = factory


@contextmanager
def bound_to(engine: Engine, factory: sessionmaker[Session]) -> Iterator[None]:
    """Use `engine` and `factory` for the block, then whatever was configured before."""
    global _engine, _session_factory
    with _lock:
        previous = (_engine, _session_factory)
        _engine, _session_factory = engine, factory
    try:
        yield
    finally:
        with _lock:
            _engine, _session_factory = previous


def session_factory() -> sessionmaker[Session]:
    """The sessionmaker bound to the process engine."""
    if _session_factory is None:
        get_engine()
    assert _session_factory is not None
    return _session_factory


def keep_failure_writes(error: HRError, tenant: tenancy.Tenant = tenancy.NOBODY) -> None:
    """Run what `error` must leave behind (audit rows...) in a transaction of its own.

    Called after the failed caller's transaction was rolled back, so nothing it wrote
    survives; running twice is harmless because the writes are taken off the error.
    They act for `tenant`, the failed transaction's organization.
    """
    writes, error.afterwards = error.afterwards, []
    if not writes:
        return
    session = session_factory()()
    tenancy.bind(session, tenant)
    try:
        for write in writes:
            write(session)
        session.commit()
    except Exception:
        # The user still gets the original error; the lost trail is logged, not raised.
        session.rollback()
        log.exception("could not record the outcome of a failed call")
    finally:
        session.close()


@contextmanager
def unit_of_work(acting_for: Actor | int | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back whole on any failure.

    With `acting_for` (an actor or an organization id) it sees that organization's rows
    only; without, none until `tenancy.act_as` (or a `tenancy.system` block) says whose.
    An `HRError`'s own record (`HRError.keep`) is then written in a separate transaction.
    """
    session = session_factory()()
    if acting_for is not None:
        tenancy.act_as(session, acting_for)
    try:
        yield session
        session.commit()
    except HRError as exc:
        tenant = tenancy.tenant_of(session)
        _roll_back(session)
        session.close()
        keep_failure_writes(exc, tenant)
        raise
    except BaseException:
        _roll_back(session)
        raise
    finally:
        session.close()


def _roll_back(session: Session) -> None:
    """Roll back; a rollback that fails too (its connection died) never hides why."""
    try:
        session.rollback()
    except Exception:
        # The server ends a transaction whose connection is gone: nothing of it stays.
        # The error being handled says what happened (a lost database is a 503), not this.
        log.warning("rollback_failed", exc_info=True)


_lock_engines: dict[int, Engine] = {}


def _lock_engine() -> Engine:
    """A pool of its own for advisory locks: a held lock keeps its connection for a whole
    chat turn, which must not starve the requests that need the main pool."""
    main = get_engine()
    with _lock:
        engine = _lock_engines.get(id(main))
        if engine is None:
            engine = make_engine(main.url, pool_size=2, max_overflow=48, pool_timeout=60)
            _lock_engines.clear()
            _lock_engines[id(main)] = engine
        return engine


@contextmanager
def advisory_lock(key: str, *, timeout_s: float = 60) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock named `key` for the block, across every process.

    On a connection of its own, so the lock outlives the transactions inside the block
    (a chat turn commits several). Waiting longer than `timeout_s` raises `Conflict`.
    """
    from hrcore.errors import Conflict

    with _lock_engine().connect() as conn:
        conn.execute(
            text("SELECT set_config('lock_timeout', :t, false)"),
            {"t": f"{int(timeout_s * 1000)}ms"},
        )
        try:
            conn.execute(text("SELECT pg_advisory_lock(hashtextextended(:k, 0))"), {"k": key})
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            raise Conflict(
                "Still working on your previous message; send this one again in a moment.",
                code="conversation_busy",
            ) from None
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": key})
                conn.commit()
            except Exception:
                # The lock dies with its connection: make sure the pool does not keep it.
                conn.invalidate()
