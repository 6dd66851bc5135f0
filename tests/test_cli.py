import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from hrcore import db
from hrcore.config import get_settings
from hrcore.migrate import alembic_config
from hrcore.people.models import Organization, User
from tests.factories import make_org, make_user

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - only passed to a recording stand-in
COMMANDS = (
    "migrate",
    "seed-demo",
    "serve",
    "demo",
    "worker",
    "beat",
    "ingest",
    "reembed",
    "payroll",
    "eval-retrieval",
)


@pytest.fixture
def runner() -> CliRunner:
    # Wide enough that rich never wraps an email address in a table.
    return CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Let a test change the environment the settings are read from, then restore them."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what would be served instead of starting a real server."""
    calls: list[dict[str, Any]] = []

    def fake_run(target: str, **kwargs: Any) -> None:
        calls.append({"target": target, **kwargs})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_migrate_reports_the_head_revision(
    runner: CliRunner, engine: Engine, session: Session
) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 0, result.output
    assert f"revision {head}" in result.output


def test_seed_demo_creates_then_reports_already_there(runner: CliRunner, session: Session) -> None:
    first = runner.invoke(app, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data created" in first.output
    assert "demo, acme-tz" in first.output
    users = count(session, User)
    assert session.scalar(select(User).where(User.email == "john@demo.ajira.test")) is not None

    second = runner.invoke(app, ["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already" in second.output
    assert count(session, User) == users


def test_seed_demo_fails_in_one_line_and_writes_nothing_when_a_phone_is_taken(
    runner: CliRunner, session: Session
) -> None:
    other = make_org(session)
    make_user(session, other, email="someone@else.test", phone="+254700000004")
    orgs, users = count(session, Organization), count(session, User)

    result = runner.invoke(app, ["seed-demo"])

    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "error:" in result.stderr
    assert "contact_taken" in result.stderr
    assert "+254700000004" not in result.stderr
    assert (count(session, Organization), count(session, User)) == (orgs, users)


def test_demo_migrates_seeds_prints_logins_and_serves(
    runner: CliRunner, session: Session, served: list[dict[str, Any]], settings_env
) -> None:
    settings_env.delenv("AJIRA_DEMO_PASSWORD", raising=False)

    result = runner.invoke(app, ["demo", "--port", "8123"])

    assert result.exit_code == 0, result.output
    assert "john@demo.ajira.test" in result.output
    assert "+254700000004" in result.output
    assert "admin@acme-tz.ajira.test" in result.output
    assert "demo-pass-2026" in result.output
    assert "http://127.0.0.1:8123" in result.output
    assert served == [
        {
            "target": "api.app:create_app",
            "factory": True,
            "host": "127.0.0.1",
            "port": 8123,
            "reload": False,
            "http": "h11",
            "h11_max_incomplete_event_size": 16 * 1024,
            "timeout_graceful_shutdown": 30,
        }
    ]
    assert session.scalar(select(Organization).where(Organization.slug == "demo")) is not None


def test_demo_never_prints_a_custom_password(
    runner: CliRunner, session: Session, served: list[dict[str, Any]], settings_env
) -> None:
    settings_env.setenv("AJIRA_DEMO_PASSWORD", "my-own-secret-pass")

    result = runner.invoke(app, ["demo"])

    assert result.exit_code == 0, result.output
    assert "my-own-secret-pass" not in result.output
    assert "AJIRA_DEMO_PASSWORD" in result.output


def test_serve_passes_host_port_and_reload(runner: CliRunner, served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve", "--host", EVERY_INTERFACE, "--port", "9000", "--reload"])

    assert result.exit_code == 0, result.output
    assert served[0]["host"] == EVERY_INTERFACE
    assert served[0]["port"] == 9000
    assert served[0]["reload"] is True
    # h11 bounds the request head; httptools would take headers of any size.
    assert served[0]["http"] == "h11"


def test_serve_refuses_a_bad_port(runner: CliRunner, served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve", "--port", "70000"])

    assert result.exit_code != 0
    assert served == []


def test_serve_refuses_production_without_a_secret_key(
    runner: CliRunner, served: list[dict[str, Any]], settings_env
) -> None:
    settings_env.setenv("AJIRA_ENV", "production")
    settings_env.delenv("AJIRA_SECRET_KEY", raising=False)

    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 1
    assert "AJIRA_SECRET_KEY" in result.stderr
    assert served == []


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_need_redis(runner: CliRunner, settings_env, command: str) -> None:
    settings_env.delenv("REDIS_URL", raising=False)

    result = runner.invoke(app, [command])

    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_migrate_fails_in_one_line_when_the_database_is_unreachable(
    runner: CliRunner, engine: Engine
) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    db.configure_engine(db.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        result = runner.invoke(app, ["migrate"])
    finally:
        db.configure_engine(engine)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: database:")
    assert result.stderr.strip().count("\n") == 0


def test_seed_demo_indexes_the_policy_handbook_once(runner: CliRunner, session: Session) -> None:
    from sqlalchemy import func, select

    from hrcore.documents.models import PolicyChunk, PolicyDocument
    from knowledge.handbook import handbook_documents

    assert runner.invoke(app, ["seed-demo"]).exit_code == 0
    documents = session.scalars(select(PolicyDocument)).all()
    assert {d.filename for d in documents} == {p.name for _, p in handbook_documents()}
    assert all(d.indexed_hash == d.content_hash for d in documents)
    chunks = session.scalar(select(func.count()).select_from(PolicyChunk))
    assert chunks > 0
    again = runner.invoke(app, ["seed-demo"])
    assert "Indexing" not in again.output
    assert session.scalar(select(func.count()).select_from(PolicyChunk)) == chunks


def test_seed_demo_reindexes_a_handbook_document_that_changed(
    runner: CliRunner, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    import knowledge.handbook as handbook
    from hrcore.documents.models import PolicyDocument

    assert runner.invoke(app, ["seed-demo"]).exit_code == 0
    title, original = handbook.handbook_documents()[0]
    edited = tmp_path / original.name
    edited.write_bytes(original.read_bytes() + b"\n\n## Added section\n\nA new rule.\n")
    monkeypatch.setattr(handbook, "handbook_documents", lambda: [(title, edited)])

    result = runner.invoke(app, ["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.output
    document = session.scalars(
        select(PolicyDocument).where(PolicyDocument.filename == original.name)
    ).one()
    assert document.indexed_hash == hashlib.sha256(edited.read_bytes()).hexdigest()
