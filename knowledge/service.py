"""Policy documents as the REST API and the CLI manage them: upload, list, read, delete."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.documents.models import DocumentStatus, PolicyDocument
from hrcore.errors import Invalid
from hrcore.tenancy import get_for_org
from knowledge.background import schedule_ingest
from knowledge.ingest import check_size, content_hash
from knowledge.parse import MIME_TYPES, detect_kind
from knowledge.search import forget_chunk_count

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """A page of an organization's documents, newest first."""

    items: list[PolicyDocument]
    total: int
    limit: int
    offset: int


def clean_filename(filename: str) -> str:
    """The file's own name, without any directories a client sent along."""
    name = PurePath(filename.replace("\\", "/")).name.strip()
    if not name or name in {".", ".."}:
        raise Invalid("The file needs a name.", code="filename_required")
    return name[:255]


def title_from_filename(filename: str) -> str:
    """A readable default title: "leave-policy_2026.pdf" becomes "Leave policy 2026"."""
    stem = PurePath(filename).stem.replace("_", " ").replace("-", " ").strip()
    return (stem[:1].upper() + stem[1:])[:200] or filename[:200]


@audited("knowledge.upload", target_type="policy_document")
def upload_document(
    session: Session,
    actor: Actor,
    *,
    filename: str,
    content: bytes,
    title: str | None = None,
    mime: str | None = None,
) -> PolicyDocument:
    """Store an uploaded file and queue its ingest; an unchanged re-upload is a no-op.

    Cheap checks (size, emptiness, type) answer at once; parsing and embedding run in
    the background and end in status `ready` or `failed` with an error code.
    """
    actor.require(Permission.POLICY_MANAGE)
    filename = clean_filename(filename)
    check_size(filename, content)
    if not content.strip():
        raise Invalid(f"{filename} is empty.", code="empty_document")
    kind = detect_kind(filename, content, mime)
    title = (title or "").strip()[:200] or None
    digest = content_hash(content)
    document = session.scalars(
        select(PolicyDocument)
        .where(
            PolicyDocument.organization_id == actor.organization_id,
            PolicyDocument.filename == filename,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if (
        document is not None
        and document.content_hash == digest
        and (document.status != DocumentStatus.FAILED)
    ):
        if title and title != document.title:
            document.title = title
            session.flush()
        return document
    if document is None:
        document = PolicyDocument(organization_id=actor.organization_id, filename=filename)
        session.add(document)
    # Existing chunks stay searchable until the new version's chunks replace them.
    document.title = title or document.title or title_from_filename(filename)
    document.mime_type = MIME_TYPES[kind]
    document.size_bytes = len(content)
    document.content_hash = digest
    document.content = content
    document.status = DocumentStatus.PENDING
    document.error_code = None
    document.error_message = None
    document.chunks_total = 0
    document.chunks_done = 0
    document.uploaded_by = actor.user_id
    session.flush()
    schedule_ingest(session, document.id)
    return document


def list_documents(
    session: Session, actor: Actor, *, limit: int = 20, offset: int = 0
) -> DocumentPage:
    """The organization's documents with status and progress, newest first."""
    actor.require(Permission.POLICY_MANAGE)
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    scope = PolicyDocument.organization_id == actor.organization_id
    total = session.scalar(select(func.count()).select_from(PolicyDocument).where(scope)) or 0
    items = list(
        session.scalars(
            select(PolicyDocument)
            .where(scope)
            .order_by(PolicyDocument.created_at.desc(), PolicyDocument.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return DocumentPage(items=items, total=total, limit=limit, offset=offset)


def get_document(session: Session, actor: Actor, *, document_id: int) -> PolicyDocument:
    """One of the organization's documents."""
    actor.require(Permission.POLICY_MANAGE)
    return get_for_org(session, actor, PolicyDocument, document_id, what="document")


@audited("knowledge.delete", target_type="policy_document", target_arg="document_id")
def delete_document(session: Session, actor: Actor, *, document_id: int) -> None:
    """Delete a document and its chunks."""
    actor.require(Permission.POLICY_MANAGE)
    document = get_for_org(session, actor, PolicyDocument, document_id, what="document", lock=True)
    session.delete(document)
    session.flush()
    forget_chunk_count(actor.organization_id)


def has_ready_documents(session: Session, *, organization_id: int) -> bool:
    """Whether the organization has any searchable document."""
    return (
        session.scalar(
            select(PolicyDocument.id)
            .where(
                PolicyDocument.organization_id == organization_id,
                PolicyDocument.indexed_hash.is_not(None),
            )
            .limit(1)
        )
        is not None
    )
