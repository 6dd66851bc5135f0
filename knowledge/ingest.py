"""Ingest: bytes to parsed blocks, chunks, embeddings and stored rows, replaced atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hrcore.documents.models import DocumentStatus, PolicyChunk, PolicyDocument
from hrcore.errors import Invalid
from knowledge.chunk import Chunk, chunk_blocks
from knowledge.embeddings import Embedder, get_embedder
from knowledge.parse import MIME_TYPES, Kind, parse
from knowledge.settings import get_knowledge_settings

EMBED_BATCH = 16
HEADING_SEPARATOR = " › "

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed and chunked file, ready to embed."""

    kind: Kind
    mime_type: str
    chunks: list[Chunk]


def content_hash(content: bytes) -> str:
    """The sha256 hex digest that identifies one version of a file."""
    return hashlib.sha256(content).hexdigest()


def check_size(filename: str, content: bytes) -> None:
    """Refuse files over the configured size limit (`document_too_large`)."""
    limit = get_knowledge_settings().max_document_bytes
    if len(content) > limit:
        raise Invalid(
            f"{filename} is {len(content) / 2**20:.1f} MiB; the limit is {limit / 2**20:.0f} MiB.",
            code="document_too_large",
            limit_bytes=limit,
        )


def prepare(filename: str, content: bytes, mime: str | None = None) -> Prepared:
    """Check, parse and chunk a file; raise `Invalid` with a stable code if it cannot be used."""
    check_size(filename, content)
    kind, blocks = parse(filename, content, mime)
    chunks = chunk_blocks(blocks)
    if not chunks:
        raise Invalid(f"{filename} has no text to search.", code="empty_document")
    return Prepared(kind=kind, mime_type=MIME_TYPES[kind], chunks=chunks)


def passage_text(chunk_heading: tuple[str, ...] | list[str], text: str) -> str:
    """What is embedded for a chunk: its heading path, then its text."""
    heading = HEADING_SEPARATOR.join(chunk_heading)
    return f"{heading}\n{text}" if heading else text


def embed_chunks(
    chunks: list[Chunk], embedder: Embedder, on_progress: Progress | None = None
) -> list[list[float]]:
    """Embed chunks in batches, reporting (done, total) after each batch."""
    vectors: list[list[float]] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors.extend(
            embedder.embed_documents([passage_text(c.heading_path, c.text) for c in batch])
        )
        if on_progress is not None:
            on_progress(len(vectors), len(chunks))
    return vectors


def replace_chunks(
    session: Session,
    document: PolicyDocument,
    chunks: list[Chunk],
    vectors: list[list[float]],
    embedder: Embedder,
) -> None:
    """Swap a document's chunks for new ones inside the caller's transaction."""
    session.execute(delete(PolicyChunk).where(PolicyChunk.document_id == document.id))
    if chunks:
        session.execute(
            insert(PolicyChunk),
            [
                {
                    "organization_id": document.organization_id,
                    "document_id": document.id,
                    "ordinal": chunk.ordinal,
                    "heading_path": list(chunk.heading_path),
                    "heading": HEADING_SEPARATOR.join(chunk.heading_path),
                    "text": chunk.text,
                    "quote": chunk.quote,
                    "embedding": vector,
                    "embedding_model": embedder.model_name,
                    "embedding_dim": embedder.dimension,
                }
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
        )
    # The bulk statements bypass the identity map: a loaded `document.chunks` is stale now.
    session.expire(document, ["chunks"])


def find_document(
    session: Session, *, organization_id: int, filename: str, lock: bool = False
) -> PolicyDocument | None:
    """The organization's document stored under `filename`, if any."""
    stmt = select(PolicyDocument).where(
        PolicyDocument.organization_id == organization_id, PolicyDocument.filename == filename
    )
    if lock:
        # Locked rows are re-read: the identity map may hold a stale copy.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def ingest_text(
    session: Session,
    *,
    organization_id: int,
    title: str,
    filename: str,
    content: bytes,
    mime: str | None = None,
    embedder: Embedder | None = None,
    uploaded_by: int | None = None,
    on_progress: Progress | None = None,
) -> PolicyDocument:
    """Parse, chunk, embed and store a file synchronously; flush, never commit.

    An unchanged file (same organization, filename and sha256) is skipped. A changed
    one replaces its chunks in one savepoint, so readers see the old set or the new
    one. Bad input raises `Invalid` before anything is written.
    """
    digest = content_hash(content)
    existing = find_document(session, organization_id=organization_id, filename=filename)
    if (
        existing is not None
        and existing.indexed_hash == digest
        and existing.status == DocumentStatus.READY
    ):
        return existing
    prepared = prepare(filename, content, mime)
    embedder = embedder or get_embedder()
    vectors = embed_chunks(prepared.chunks, embedder, on_progress)
    with session.begin_nested():
        document = find_document(
            session, organization_id=organization_id, filename=filename, lock=True
        )
        if document is None:
            document = PolicyDocument(organization_id=organization_id, filename=filename)
            session.add(document)
        document.title = title
        document.mime_type = prepared.mime_type
        document.size_bytes = len(content)
        document.content_hash = digest
        document.indexed_hash = digest
        document.content = content
        document.status = DocumentStatus.READY
        document.error_code = None
        document.error_message = None
        document.chunks_total = len(prepared.chunks)
        document.chunks_done = len(prepared.chunks)
        if uploaded_by is not None:
            document.uploaded_by = uploaded_by
        session.flush()
        replace_chunks(session, document, prepared.chunks, vectors, embedder)
        session.flush()
    return document
