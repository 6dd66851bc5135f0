"""Operator jobs over stored documents: ingest files from disk, re-embed after a model change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.errors import HRError, NotFound
from hrcore.people.models import Organization
from hrcore.tenancy import Crossing, act_as, system
from knowledge.embeddings import Embedder, get_embedder
from knowledge.ingest import EMBED_BATCH, Progress, passage_text
from knowledge.parse import EXTENSIONS
from knowledge.search import forget_chunk_count

SUPPORTED_SUFFIXES = frozenset(EXTENSIONS)


def organization_by_slug(session: Session, slug: str) -> Organization:
    """The organization called `slug` (operator commands name employers by slug).

    The session then acts for it.
    """
    with system(session, Crossing.OPERATIONS):
        organization = session.scalar(select(Organization).where(Organization.slug == slug))
    if organization is None:
        raise NotFound(f"No organization {slug!r}.", code="organization_not_found")
    act_as(session, organization.id)
    return organization


def policy_files(path: Path) -> Iterator[Path]:
    """`path` itself, or the supported files under a directory, in name order."""
    if path.is_file():
        yield path
        return
    for candidate in sorted(path.rglob("*")):
        if (
            candidate.is_file()
            and candidate.suffix.lower() in SUPPORTED_SUFFIXES
            and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
        ):
            yield candidate


def outdated_documents(
    session: Session, *, embedder: Embedder, organization_id: int | None = None
) -> list[int]:
    """Ids of the documents with chunks embedded by another model than `embedder`."""
    stmt = (
        select(PolicyChunk.document_id)
        .where(PolicyChunk.embedding_model != embedder.model_name)
        .distinct()
        .order_by(PolicyChunk.document_id)
    )
    if organization_id is not None:
        stmt = stmt.where(PolicyChunk.organization_id == organization_id)
    return list(session.scalars(stmt))


def reembed_document(
    session: Session,
    document_id: int,
    *,
    embedder: Embedder | None = None,
    on_progress: Progress | None = None,
) -> int:
    """Re-embed every chunk of one document with `embedder` in the caller's transaction."""
    embedder = embedder or get_embedder()
    document = session.get(PolicyDocument, document_id, with_for_update=True)
    if document is None:
        return 0
    chunks = session.execute(
        select(PolicyChunk.id, PolicyChunk.heading_path, PolicyChunk.text)
        .where(PolicyChunk.document_id == document_id)
        .order_by(PolicyChunk.ordinal)
    ).all()
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = embedder.embed_documents([passage_text(c.heading_path, c.text) for c in batch])
        for chunk, vector in zip(batch, vectors, strict=True):
            session.execute(
                update(PolicyChunk)
                .where(PolicyChunk.id == chunk.id)
                .values(
                    embedding=vector,
                    embedding_model=embedder.model_name,
                    embedding_dim=embedder.dimension,
                )
            )
        if on_progress is not None:
            on_progress(start + len(batch), len(chunks))
    session.flush()
    forget_chunk_count(document.organization_id)
    return len(chunks)


def guess_title(filename: str, content: bytes) -> str:
    """A document's title: its first top-level heading, else one made from the file name."""
    from knowledge.parse import parse
    from knowledge.service import title_from_filename

    try:
        _kind, blocks = parse(filename, content)
    except HRError:
        return title_from_filename(filename)
    first = blocks[0].heading_path if blocks else ()
    return first[0][:200] if first else title_from_filename(filename)
