"""The `ajira` command line: migrate, seed the demo, serve, and run the Celery worker and beat."""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from hrcore.config import Settings, get_settings
from hrcore.errors import HRError
from hrcore.observability import init_sentry

if TYPE_CHECKING:
    from celery import Celery

DEFAULT_DEMO_PASSWORD = Settings.model_fields["demo_password"].default

app = typer.Typer(
    name="ajira",
    help="Ajira, the chat-first HR assistant: run the server, the database and the workers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _logging() -> None:
    # Every command logs as the server does (to stderr, at AJIRA_LOG_LEVEL); unset, structlog
    # would print its debug lines on standard output, into `ajira chat`'s conversation.
    from api.logs import configure_logging

    try:
        settings = get_settings()
    except ValidationError:
        return  # the command itself says what is wrong with the settings
    configure_logging(settings)


def out() -> Console:
    """Standard output, built per use so it follows the current terminal (and test runners)."""
    return Console(highlight=False)


def err() -> Console:
    """Standard error, for the one-line failures."""
    return Console(stderr=True, highlight=False)


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


class Failure(Exception):
    """A command could not do its job; the message is shown as one line."""


@contextmanager
def failing() -> Iterator[None]:
    """Turn expected failures into a one-line error and exit code 1."""
    try:
        yield
    except Failure as exc:
        _fail(str(exc))
    except HRError as exc:
        _fail(f"{exc.message} ({exc.code})")
    except ValidationError as exc:
        # Settings refused the environment (e.g. no real secret key in production).
        first = exc.errors()[0]
        _fail(f"configuration: {first['msg']}")
    except SQLAlchemyError as exc:
        _fail(f"database: {_first_line(str(exc.orig if hasattr(exc, 'orig') else exc))}")
    except OSError as exc:
        _fail(_first_line(str(exc)))
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        # Anything unforeseen still ends in one line; the type says where to look.
        _fail(f"{type(exc).__name__}: {_first_line(str(exc))}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _fail(message: str) -> None:
    err().print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code=1)


def _migrate() -> str | None:
    from assistant.memory import setup_checkpointer
    from hrcore.db import get_engine
    from hrcore.migrate import current_revision, upgrade

    engine = get_engine()
    upgrade(engine)
    # The conversation memory's tables belong to LangGraph's checkpointer, not to Alembic.
    setup_checkpointer()
    return current_revision(engine)


def _seed_handbook() -> None:
    """Index the demo employer's policy handbook (the first run embeds ~80 passages)."""
    from sqlalchemy import select

    from hrcore.db import unit_of_work
    from hrcore.documents.models import PolicyDocument
    from hrcore.people.models import Organization
    from hrcore.tenancy import Crossing, act_as, system
    from knowledge.embeddings import CachedEmbedder, get_embedder
    from knowledge.handbook import handbook_documents, seed_handbook
    from knowledge.ingest import content_hash

    with unit_of_work() as session:
        with system(session, Crossing.OPERATIONS):
            org_id = session.scalar(select(Organization.id).where(Organization.slug == "demo"))
        if org_id is None:
            return
        act_as(session, org_id)
        indexed = dict(
            session.execute(
                select(PolicyDocument.filename, PolicyDocument.indexed_hash).where(
                    PolicyDocument.organization_id == org_id
                )
            ).all()
        )
        if all(
            indexed.get(path.name) == content_hash(path.read_bytes())
            for _, path in handbook_documents()
        ):
            return
        with out().status("Indexing the demo policy handbook (first run only, about a minute)..."):
            # Cached on disk: re-seeding a fresh database embeds nothing twice.
            documents = seed_handbook(session, org_id, embedder=CachedEmbedder(get_embedder()))
    out().print(f"Indexed {len(documents)} policy documents for the demo employer.")


def _seed() -> None:
    from hrcore.db import get_engine, unit_of_work
    from hrcore.migrate import current_revision
    from hrcore.seed import seed_demo

    settings = get_settings()
    if current_revision(get_engine()) is None:
        raise Failure("the database has no schema yet: run `ajira migrate` first")
    with unit_of_work() as session:
        report = seed_demo(session, password=settings.demo_password)
    _seed_handbook()
    if not report.created_anything:
        out().print("The demo data is already there; nothing was created.")
        return
    table = Table(title="Demo data created", show_header=True)
    table.add_column("what")
    table.add_column("created")
    if report.organizations:
        table.add_row("organizations", ", ".join(report.organizations))
    if report.users:
        table.add_row("people", str(len(report.users)))
    if report.sites:
        table.add_row("sites", str(report.sites))
    if report.departments:
        table.add_row("departments", str(report.departments))
    if report.leave_types:
        table.add_row("leave types", str(report.leave_types))
    if report.attendance_records:
        table.add_row("attendance records (last month)", str(report.attendance_records))
    out().print(table)


def _serve(host: str, port: int, *, reload: bool) -> None:
    import uvicorn

    settings = get_settings()  # refuse a bad configuration before the server starts
    # Uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler
    # that kills the process before atexit runs, leaving the embedded PostgreSQL behind.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with _supervised_database(settings, reload=reload):
            uvicorn.run(
                "api.app:create_app",
                factory=True,
                host=host,
                port=port,
                reload=reload,
                # h11 bounds the request head it buffers; httptools (uvicorn's pick when
                # installed) accepts headers of any size.
                http="h11",
                h11_max_incomplete_event_size=settings.max_header_bytes,
                # Live notification streams stay open until their client leaves: on
                # shutdown, whatever still runs after this many seconds is cancelled.
                timeout_graceful_shutdown=30,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _supervised_database(settings: Settings, *, reload: bool) -> AbstractContextManager[object]:
    """Restart the embedded PostgreSQL if its postmaster dies while the server runs.

    Only the embedded one (no DATABASE_URL), and only when the app runs in this process:
    with --reload it runs in a child process that uvicorn replaces at every change.
    """
    if settings.database_url or reload:
        return nullcontext()
    from hrcore.embedded import EmbeddedSupervisor

    return EmbeddedSupervisor(settings.data_dir)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _logins_tables() -> list[Table]:
    from hrcore.seed import ACME_ORG, ACME_PEOPLE, DEMO_ORG, DEMO_PEOPLE

    tables = []
    for org, people in ((DEMO_ORG, DEMO_PEOPLE), (ACME_ORG, ACME_PEOPLE)):
        table = Table(title=f"{org.name} ({org.slug}): log in with the email or the phone")
        table.add_column("name")
        table.add_column("email", no_wrap=True)
        table.add_column("phone", no_wrap=True)
        table.add_column("role")
        for person in people:
            table.add_row(person.full_name, person.email, person.phone, str(person.role))
        tables.append(table)
    return tables


def _require_redis() -> str:
    url = get_settings().redis_url
    if not url:
        raise Failure(
            "REDIS_URL is not set: the Celery worker and beat need a Redis broker "
            "(without it, tasks run in-process and no worker is needed)"
        )
    return url


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    with failing():
        revision = _migrate()
    out().print(f"[green]Database at revision[/] {revision}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo employers and their people (safe to run again)."""
    with failing():
        _seed()


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes.")] = False,
) -> None:
    """Serve the web app and the API."""
    with failing():
        _serve(host, port, reload=reload)


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate, seed the demo employer and serve it."""
    with failing():
        revision = _migrate()
        out().print(f"[green]Database at revision[/] {revision}")
        _seed()
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104 - a URL to print, not a bind  # nosec B104
        for table in _logins_tables():
            out().print(table)
        password = get_settings().demo_password
        if password == DEFAULT_DEMO_PASSWORD:
            out().print(f"Password for every demo login: [bold]{password}[/]")
        else:
            out().print("Password for every demo login: the value of AJIRA_DEMO_PASSWORD")
        out().print(f"Ajira is starting on [bold]{url}[/] (API docs at {url}/docs)", soft_wrap=True)
        _serve(host, port, reload=False)


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per CPU).", min=1)
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run a Celery worker (needs REDIS_URL)."""
    with failing():
        _require_redis()
        celery_app = celery_with_every_task()
        init_sentry("worker")
        argv = ["worker", f"--loglevel={loglevel}"]
        if concurrency:
            argv.append(f"--concurrency={concurrency}")
        celery_app.worker_main(argv)


#: Every module that declares a Celery task, from every layer: the worker imports them all.
#: They are listed here, at the top, because hrcore may not name the layers above it.
#: A test walks the packages and fails when a module with a task is missing.
TASK_MODULES = (
    "hrcore.automations.tasks",
    "hrcore.idempotency",
    "hrcore.leave.tasks",
    "hrcore.payroll.tasks",
    "knowledge.tasks",
    "channels.delivery",
)


def celery_with_every_task() -> Celery:
    """The Celery app with every task module imported, and set to be by a worker's start."""
    from hrcore.worker import celery_app

    celery_app.conf.include = list(TASK_MODULES)
    # Celery's loader keeps the module list it read first (an in-process worker may have
    # read an empty one already): importing them here registers every task either way.
    for name in TASK_MODULES:
        importlib.import_module(name)
    return celery_app


@app.command()
def beat(
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run the Celery beat scheduler for periodic jobs (needs REDIS_URL)."""
    with failing():
        _require_redis()
        celery_app = celery_with_every_task()
        data_dir = get_settings().data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        celery_app.Beat(loglevel=loglevel, schedule=str(data_dir / "celerybeat-schedule")).run()


#: The areas whose commands live beside their code (`api/commands/<name>.py`).
COMMAND_MODULES = (
    "automations",
    "chat",
    "eval",
    "knowledge",
    "outbox",
    "payroll",
    "retrieval_eval",
    "telegram",
)


def _register_command_groups() -> None:
    # The other areas' commands live beside their code and add themselves here.
    for name in COMMAND_MODULES:
        importlib.import_module(f"api.commands.{name}").register(app)


_register_command_groups()


def main() -> None:
    """Entry point of the `ajira` script."""
    init_sentry("cli")
    app()


if __name__ == "__main__":
    main()
