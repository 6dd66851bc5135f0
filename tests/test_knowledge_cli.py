"""`ajira ingest` and `ajira reembed` against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.commands import knowledge as commands
from hrcore.documents.models import PolicyChunk, PolicyDocument
from tests.factories import make_org
from tests.knowledge_fixtures import FixedEmbedder


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


def test_ingest_a_directory_skips_unchanged_and_reports_bad_files(
    cli: typer.Typer, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("knowledge.search.get_embedder", lambda: FixedEmbedder())
    org = make_org(session)
    (tmp_path / "leave.md").write_text("# Leave Policy\n\n## Sick leave\n\nSeven days.\n")
    (tmp_path / "conduct.txt").write_text("Code of conduct\n\nBe on time.\n")
    (tmp_path / "notes.xlsx").write_bytes(b"ignored: not a policy format")
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(tmp_path), "--org", org.slug])
    assert result.exit_code == 0, result.output
    titles = session.scalars(
        select(PolicyDocument.title)
        .where(PolicyDocument.organization_id == org.id)
        .order_by(PolicyDocument.filename)
    ).all()
    assert titles == ["Code of conduct", "Leave Policy"]
    again = runner.invoke(cli, ["ingest", str(tmp_path), "--org", org.slug])
    assert again.exit_code == 0
    assert again.output.count("unchanged, skipped") == 2

    (tmp_path / "empty.md").write_text("")
    failed = runner.invoke(cli, ["ingest", str(tmp_path / "empty.md"), "--org", org.slug])
    assert failed.exit_code == 1
    assert "empty_document" in failed.output
    unknown = runner.invoke(cli, ["ingest", str(tmp_path), "--org", "no-such-org"])
    assert unknown.exit_code == 1


def test_reembed_moves_every_chunk_to_the_configured_model(
    cli: typer.Typer, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(session)
    (tmp_path / "leave.md").write_text("# Leave\n\n## Sick\n\nSeven days.\n\n## Annual\n\n21 days.")
    monkeypatch.setattr("knowledge.search.get_embedder", lambda: FixedEmbedder("test/old"))
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(tmp_path), "--org", org.slug]).exit_code == 0
    monkeypatch.setattr("knowledge.search.get_embedder", lambda: FixedEmbedder("test/new"))
    result = runner.invoke(cli, ["reembed", "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert "Re-embedded 2 passages of 1 document(s)" in result.output
    models = session.scalars(
        select(PolicyChunk.embedding_model).where(PolicyChunk.organization_id == org.id)
    ).all()
    assert models == ["test/new", "test/new"]
    assert "nothing to do" in runner.invoke(cli, ["reembed"]).output
