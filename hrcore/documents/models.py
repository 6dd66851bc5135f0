"""Policy documents an employer uploads, and the chunks that search reads."""

from __future__ import annotations

import enum
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from hrcore.db import Base
from hrcore.types import Created, IntPK, OrgScoped

EMBEDDING_DIM = 384


class DocumentStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class PolicyDocument(OrgScoped, Created, Base):
    """One uploaded file. Its chunks always belong to one whole version of it."""

    __tablename__ = "policy_documents"

    id: Mapped[IntPK]
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # sha256 of the latest upload; `indexed_hash` is the version the chunks were built from.
    content_hash: Mapped[str] = mapped_column(String(64))
    indexed_hash: Mapped[str | None] = mapped_column(String(64))
    # The uploaded bytes, kept so a worker (or a re-embed) can rebuild the chunks.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, native_enum=False, length=16), default=DocumentStatus.PENDING
    )
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    chunks: Mapped[list[PolicyChunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("organization_id", "filename"),
        CheckConstraint("size_bytes >= 0", name="size_positive"),
        CheckConstraint("chunks_done >= 0 AND chunks_done <= chunks_total", name="progress_range"),
    )


class PolicyChunk(Base):
    """A passage of a document: text, heading path, embedding and full-text vector."""

    __tablename__ = "policy_chunks"

    id: Mapped[IntPK]
    # Repeated from the document so that search filters by employer without a join.
    organization_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    document_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("policy_documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    heading_path: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # The heading path joined with " › "; arrays cannot feed a generated column directly.
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    # Kept in the row (STORAGE MAIN, toast_tuple_target 4080: migration 0012), where an
    # exact search of the employer's chunks reads it without a TOAST lookup per chunk.
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIM))
    embedding_model: Mapped[str] = mapped_column(String(128))
    embedding_dim: Mapped[int] = mapped_column(Integer)
    # 'simple' keeps words as written: English stemming would mangle Swahili.
    tsv: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple'::regconfig, heading), 'A') || "
            "setweight(to_tsvector('simple'::regconfig, text), 'B')",
            persisted=True,
        ),
    )

    document: Mapped[PolicyDocument] = relationship(back_populates="chunks")

    __table_args__ = (
        UniqueConstraint("document_id", "ordinal"),
        # Per-organization counts and the model check are index-only scans on this.
        Index("ix_policy_chunks_org_model", "organization_id", "embedding_model"),
        Index(
            "ix_policy_chunks_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_policy_chunks_tsv", "tsv", postgresql_using="gin"),
    )
