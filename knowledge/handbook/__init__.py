"""The demo employer's handbook: Jua Kali Foods Ltd's policy documents, in Markdown."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyDocument
from knowledge.embeddings import Embedder
from knowledge.ingest import ingest_text

HANDBOOK_DIR = Path(__file__).parent


def handbook_documents() -> list[tuple[str, Path]]:
    """(title, path) of every handbook document, in filename order; the title is its # heading."""
    documents = []
    for path in sorted(HANDBOOK_DIR.glob("*.md")):
        first = path.read_text(encoding="utf-8").lstrip().splitlines()[0]
        documents.append((first.lstrip("#").strip(), path))
    return documents


def seed_handbook(
    session: Session,
    organization_id: int,
    *,
    embedder: Embedder | None = None,
    files: Iterable[str] | None = None,
) -> list[PolicyDocument]:
    """Ingest the handbook (or the named files of it) into an organization.

    Unchanged documents are skipped; nothing is committed (flush only).
    """
    wanted = set(files) if files is not None else None
    return [
        ingest_text(
            session,
            organization_id=organization_id,
            title=title,
            filename=path.name,
            content=path.read_bytes(),
            mime="text/markdown",
            embedder=embedder,
        )
        for title, path in handbook_documents()
        if wanted is None or path.name in wanted
    ]
