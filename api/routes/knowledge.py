"""Policy documents over REST: upload (ingested in the background), list, read, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.deps import CurrentActor, DbSession
from api.errors import problem_responses
from hrcore.documents.models import DocumentStatus, PolicyDocument
from knowledge import service
from knowledge.settings import get_knowledge_settings

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])

DocumentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The document's id.")]


class DocumentRead(BaseModel):
    """A policy document and how far its ingest has come."""

    id: int
    title: str
    filename: str
    mime_type: str
    size_bytes: int
    content_hash: str = Field(description="sha256 of the uploaded file.")
    status: DocumentStatus = Field(
        description="pending → processing → ready, or failed (see error_code)."
    )
    error_code: str | None = Field(
        description="Why ingest failed: empty_document, no_text_layer, encrypted_document, "
        "corrupt_document..."
    )
    error_message: str | None
    chunks_total: int
    chunks_done: int
    progress: float = Field(description="Share of chunks embedded, 0 to 1.")
    searchable: bool = Field(
        description="Whether a version of this document is in search (a failed re-upload "
        "keeps the previous version searchable)."
    )
    uploaded_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, document: PolicyDocument) -> DocumentRead:
        if document.status == DocumentStatus.READY:
            progress = 1.0
        elif document.chunks_total:
            progress = round(document.chunks_done / document.chunks_total, 3)
        else:
            progress = 0.0
        return cls(
            id=document.id,
            title=document.title,
            filename=document.filename,
            mime_type=document.mime_type,
            size_bytes=document.size_bytes,
            content_hash=document.content_hash,
            status=document.status,
            error_code=document.error_code,
            error_message=document.error_message,
            chunks_total=document.chunks_total,
            chunks_done=document.chunks_done,
            progress=progress,
            searchable=document.indexed_hash is not None,
            uploaded_by=document.uploaded_by,
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


class DocumentPage(BaseModel):
    """A page of the organization's policy documents, newest first."""

    items: list[DocumentRead]
    total: int
    limit: int
    offset: int


@router.post(
    "/documents",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload a policy document (Markdown, text, PDF or .docx)",
    operation_id="upload_policy_document",
    responses=problem_responses(401, 403, 422),
)
def upload_document(
    session: DbSession,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="The policy file.")],
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> DocumentRead:
    """Store the file and return at once; it becomes searchable when `status` is `ready`.

    Uploading the same file name again replaces that document's passages once the new
    version is processed; an identical file is accepted without any work.
    """
    # Read one byte past the limit: enough to refuse an oversized file without holding it all.
    content = file.file.read(get_knowledge_settings().max_document_bytes + 1)
    document = service.upload_document(
        session,
        actor,
        filename=file.filename or "",
        content=content,
        title=title,
        mime=file.content_type,
    )
    return DocumentRead.of(document)


@router.get(
    "/documents",
    summary="The organization's policy documents, with status and progress",
    operation_id="list_policy_documents",
    responses=problem_responses(401, 403, 422),
)
def list_documents(
    session: DbSession,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentPage:
    """Newest first."""
    page = service.list_documents(session, actor, limit=limit, offset=offset)
    return DocumentPage(
        items=[DocumentRead.of(d) for d in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/documents/{document_id}",
    summary="One policy document, with status and progress",
    operation_id="get_policy_document",
    responses=problem_responses(401, 403, 404, 422),
)
def get_document(session: DbSession, actor: CurrentActor, document_id: DocumentId) -> DocumentRead:
    """Poll this while `status` is pending or processing."""
    return DocumentRead.of(service.get_document(session, actor, document_id=document_id))


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a policy document and its passages",
    operation_id="delete_policy_document",
    responses=problem_responses(401, 403, 404, 422),
)
def delete_document(session: DbSession, actor: CurrentActor, document_id: DocumentId) -> Response:
    """Search stops finding it at once."""
    service.delete_document(session, actor, document_id=document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
