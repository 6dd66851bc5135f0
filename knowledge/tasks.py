"""Background ingest: parse, chunk and embed an uploaded document, with progress."""

from __future__ import annotations

import structlog

from hrcore.db import unit_of_work
from hrcore.documents.models import DocumentStatus, PolicyDocument
from hrcore.errors import Invalid
from hrcore.tenancy import act_as_owner_of
from hrcore.worker import celery_app
from knowledge.chunk import Chunk
from knowledge.embeddings import Embedder, get_embedder
from knowledge.ingest import EMBED_BATCH, passage_text, prepare, replace_chunks
from knowledge.search import forget_chunk_count

log = structlog.get_logger("ajira.knowledge")


def run_ingest(document_id: int, *, embedder: Embedder | None = None) -> DocumentStatus | None:
    """Build the chunks of an uploaded document; return its final status (None if gone).

    Each step commits on its own, so `chunks_done` is visible while embedding runs;
    the chunks themselves are swapped in one final transaction. A newer upload of
    the same file that arrives meanwhile wins: this run then stops without writing.
    """
    with unit_of_work() as session:
        act_as_owner_of(session, PolicyDocument, document_id)
        document = session.get(PolicyDocument, document_id, with_for_update=True)
        if document is None or document.status not in (
            DocumentStatus.PENDING,
            DocumentStatus.PROCESSING,
        ):
            return None if document is None else document.status
        content = document.content or b""
        digest, filename, mime = document.content_hash, document.filename, document.mime_type
        document.status = DocumentStatus.PROCESSING
        document.chunks_done = 0
    try:
        prepared = prepare(filename, content, mime)
    except Invalid as exc:
        return _finish(document_id, digest, error=(exc.code, exc.message))
    chunks = prepared.chunks
    if not _progress(document_id, digest, 0, len(chunks), mime_type=prepared.mime_type):
        return None
    embedder = embedder or get_embedder()
    try:
        vectors = _embed_with_progress(document_id, digest, chunks, embedder)
    except Exception as exc:  # a model or endpoint failure must not leave "processing" behind
        log.exception("ingest_embed_failed", document_id=document_id)
        return _finish(
            document_id,
            digest,
            error=(
                "embedding_failed",
                f"The document could not be embedded ({type(exc).__name__}).",
            ),
        )
    if vectors is None:
        return None
    return _finish(document_id, digest, chunks=chunks, vectors=vectors, embedder=embedder)


def _embed_with_progress(
    document_id: int, digest: str, chunks: list[Chunk], embedder: Embedder
) -> list[list[float]] | None:
    vectors: list[list[float]] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors.extend(
            embedder.embed_documents([passage_text(c.heading_path, c.text) for c in batch])
        )
        if not _progress(document_id, digest, len(vectors), len(chunks)):
            return None
    return vectors


def _progress(
    document_id: int, digest: str, done: int, total: int, *, mime_type: str | None = None
) -> bool:
    """Record progress; False when the document was deleted or replaced meanwhile."""
    with unit_of_work() as session:
        act_as_owner_of(session, PolicyDocument, document_id)
        document = session.get(PolicyDocument, document_id)
        if document is None or document.content_hash != digest:
            return False
        document.chunks_total = total
        document.chunks_done = done
        if mime_type is not None:
            document.mime_type = mime_type
        return True


def _finish(
    document_id: int,
    digest: str,
    *,
    error: tuple[str, str] | None = None,
    chunks: list[Chunk] | None = None,
    vectors: list[list[float]] | None = None,
    embedder: Embedder | None = None,
) -> DocumentStatus | None:
    with unit_of_work() as session:
        act_as_owner_of(session, PolicyDocument, document_id)
        document = session.get(PolicyDocument, document_id, with_for_update=True)
        if document is None or document.content_hash != digest:
            return None
        if error is not None:
            # The chunks of the previous version stay: a bad upload never empties search.
            document.status = DocumentStatus.FAILED
            document.error_code, document.error_message = error
            document.chunks_done = 0
            log.info("ingest_failed", document_id=document_id, code=error[0])
            return document.status
        assert chunks is not None
        assert vectors is not None
        assert embedder is not None
        replace_chunks(session, document, chunks, vectors, embedder)
        document.status = DocumentStatus.READY
        document.indexed_hash = digest
        document.error_code = document.error_message = None
        document.chunks_total = document.chunks_done = len(chunks)
        organization_id = document.organization_id
        status = document.status
    forget_chunk_count(organization_id)
    log.info("ingest_done", document_id=document_id, chunks=len(chunks))
    return status


@celery_app.task(name="knowledge.ingest_document")
def ingest_document(document_id: int) -> str | None:
    """Celery entry point: ingest one uploaded document by id."""
    status = run_ingest(document_id)
    return None if status is None else str(status)
