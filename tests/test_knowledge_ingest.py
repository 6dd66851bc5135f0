"""Ingest: storing chunks, skipping unchanged files, atomic replacement, background runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.documents.models import DocumentStatus, PolicyChunk, PolicyDocument
from hrcore.errors import Conflict, Invalid
from knowledge import background
from knowledge.maintenance import outdated_documents, reembed_document
from knowledge.search import ingest_text, search
from knowledge.service import upload_document
from knowledge.tasks import run_ingest
from tests.factories import Team, make_org
from tests.knowledge_fixtures import FixedEmbedder

POLICY_V1 = b"""# Leave Policy

## Maternity leave

Three months with full pay.

## Paternity leave

Two weeks with full pay.
"""
POLICY_V2 = b"""# Leave Policy

## Maternity leave

Four months with full pay, from 2027.
"""


class CountingEmbedder(FixedEmbedder):
    def __init__(self, model_name: str = "test/fixed") -> None:
        super().__init__(model_name)
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return super().embed_documents(texts)


def chunk_rows(session: Session, document_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(PolicyChunk.id, PolicyChunk.text)
        .where(PolicyChunk.document_id == document_id)
        .order_by(PolicyChunk.ordinal)
    ).all()
    return [(row.id, row.text) for row in rows]


def ingest(session: Session, org_id: int, content: bytes, **kw: object) -> PolicyDocument:
    return ingest_text(
        session,
        organization_id=org_id,
        title="Leave Policy",
        filename="leave.md",
        content=content,
        embedder=kw.pop("embedder", FixedEmbedder()),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_ingest_stores_chunks_with_headings_quotes_and_model(session: Session) -> None:
    org = make_org(session)
    document = ingest(session, org.id, POLICY_V1)
    chunks = session.scalars(
        select(PolicyChunk).where(PolicyChunk.document_id == document.id).order_by("ordinal")
    ).all()
    assert document.status == DocumentStatus.READY
    assert (document.chunks_total, document.chunks_done) == (2, 2)
    assert document.content_hash == document.indexed_hash
    assert len(document.content_hash) == 64
    assert [c.heading_path for c in chunks] == [
        ["Leave Policy", "Maternity leave"],
        ["Leave Policy", "Paternity leave"],
    ]
    assert chunks[0].quote == "Three months with full pay."
    assert {(c.embedding_model, c.embedding_dim) for c in chunks} == {("test/fixed", 384)}
    assert all(c.organization_id == org.id for c in chunks)


def test_an_unchanged_file_is_skipped(session: Session) -> None:
    org = make_org(session)
    embedder = CountingEmbedder()
    first = ingest(session, org.id, POLICY_V1, embedder=embedder)
    before = chunk_rows(session, first.id)
    again = ingest(session, org.id, POLICY_V1, embedder=embedder)
    assert again.id == first.id
    assert embedder.calls == 1
    assert chunk_rows(session, first.id) == before


def test_a_changed_file_replaces_its_chunks(session: Session) -> None:
    org = make_org(session)
    first = ingest(session, org.id, POLICY_V1)
    old_ids = {i for i, _ in chunk_rows(session, first.id)}
    second = ingest(session, org.id, POLICY_V2)
    rows = chunk_rows(session, second.id)
    assert second.id == first.id
    assert [t for _, t in rows] == ["Four months with full pay, from 2027."]
    assert old_ids.isdisjoint(i for i, _ in rows)
    assert session.scalar(select(func.count()).select_from(PolicyDocument)) >= 1


def test_a_replacement_that_fails_midway_leaves_the_old_chunks(session: Session) -> None:
    org = make_org(session)
    first = ingest(session, org.id, POLICY_V1)
    before = chunk_rows(session, first.id)

    class BrokenEmbedder(FixedEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[0.1] * 12 for _ in texts]  # the wrong dimension: the insert fails

    with pytest.raises(Exception, match="dimensions"):
        ingest(session, org.id, POLICY_V2, embedder=BrokenEmbedder())
    assert chunk_rows(session, first.id) == before
    session.refresh(first)
    assert first.indexed_hash == first.content_hash


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty_document"), (b"%PDF-1.4 broken", "corrupt_document")],
)
def test_bad_input_leaves_existing_chunks_untouched(
    session: Session, content: bytes, code: str
) -> None:
    org = make_org(session)
    first = ingest(session, org.id, POLICY_V1)
    before = chunk_rows(session, first.id)
    filename = "leave.md" if code == "empty_document" else "leave.pdf"
    with pytest.raises(Invalid) as caught:
        ingest_text(
            session,
            organization_id=org.id,
            title="x",
            filename=filename,
            content=content,
            embedder=FixedEmbedder(),
        )
    assert caught.value.code == code
    assert chunk_rows(session, first.id) == before
    assert session.scalar(select(func.count()).where(PolicyDocument.organization_id == org.id)) == 1


# --- background ingest ------------------------------------------------------------------


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the ingests handed to the background thread instead of running them."""
    calls: list[int] = []
    monkeypatch.setattr(background.thread_dispatch, "submit", calls.append)
    return calls


def test_upload_returns_pending_and_schedules_ingest_after_commit(
    session: Session, scheduled: list[int]
) -> None:
    team = Team(session)
    document = upload_document(
        session, team.actor("hr"), filename="leave.md", content=POLICY_V1, title="Leave"
    )
    assert document.status == DocumentStatus.PENDING
    assert document.chunks_total == 0
    assert scheduled == []  # nothing runs before the upload is committed
    session.commit()
    assert scheduled == [document.id]
    again = upload_document(session, team.actor("hr"), filename="leave.md", content=POLICY_V1)
    session.commit()
    assert again.id == document.id
    assert scheduled == [document.id]  # the same bytes again: no new work


def test_background_ingest_reports_progress_and_finishes(
    session: Session, scheduled: list[int]
) -> None:
    team = Team(session)
    sections = "".join(f"## Rule {i}\n\nRule number {i} applies.\n\n" for i in range(20))
    content = f"# Handbook\n\n{sections}".encode()
    document = upload_document(session, team.actor("hr"), filename="rules.md", content=content)
    session.commit()
    seen: list[tuple[str, int, int]] = []

    class Spy(FixedEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            row = session.execute(
                select(
                    PolicyDocument.status, PolicyDocument.chunks_done, PolicyDocument.chunks_total
                ).where(PolicyDocument.id == document.id)
            ).one()
            seen.append((str(row.status), row.chunks_done, row.chunks_total))
            return super().embed_documents(texts)

    assert run_ingest(document.id, embedder=Spy()) == DocumentStatus.READY
    assert seen == [("processing", 0, 20), ("processing", 16, 20)]
    session.refresh(document)
    assert (document.status, document.chunks_done, document.chunks_total) == ("ready", 20, 20)
    assert len(chunk_rows(session, document.id)) == 20


def test_background_failure_keeps_the_previous_version_searchable(
    session: Session, scheduled: list[int]
) -> None:
    team = Team(session)
    good = upload_document(session, team.actor("hr"), filename="leave.md", content=POLICY_V1)
    session.commit()
    run_ingest(good.id, embedder=FixedEmbedder())
    before = chunk_rows(session, good.id)
    upload_document(session, team.actor("hr"), filename="leave.md", content=b"# Leave\n\n")
    session.commit()
    assert run_ingest(good.id, embedder=FixedEmbedder()) == DocumentStatus.FAILED
    session.refresh(good)
    assert (good.status, good.error_code) == ("failed", "empty_document")
    assert good.error_message
    assert chunk_rows(session, good.id) == before
    assert good.indexed_hash != good.content_hash


def test_upload_refuses_bad_files_at_once_and_writes_nothing(
    session: Session, scheduled: list[int]
) -> None:
    team = Team(session)
    for filename, content, code in [
        ("sheet.xlsx", b"PK\x03\x04", "unsupported_type"),
        ("empty.md", b"  ", "empty_document"),
    ]:
        with pytest.raises(Invalid) as caught:
            upload_document(session, team.actor("hr"), filename=filename, content=content)
        assert caught.value.code == code
    session.commit()
    assert scheduled == []
    assert (
        session.scalar(select(func.count()).where(PolicyDocument.organization_id == team.org.id))
        == 0
    )


# --- model changes ----------------------------------------------------------------------


def test_a_model_change_is_refused_until_reembedded(session: Session) -> None:
    org = make_org(session)
    document = ingest(session, org.id, POLICY_V1, embedder=FixedEmbedder("test/old"))
    new = FixedEmbedder("test/new")
    with pytest.raises(Conflict) as caught:
        search(session, organization_id=org.id, query="maternity", embedder=new)
    assert caught.value.code == "embeddings_outdated"
    # Full text needs no embeddings, so it keeps working meanwhile.
    assert search(session, organization_id=org.id, query="maternity", mode="fts", embedder=new)
    assert outdated_documents(session, embedder=new, organization_id=org.id) == [document.id]
    assert reembed_document(session, document.id, embedder=new) == 2
    assert outdated_documents(session, embedder=new, organization_id=org.id) == []
    hits = search(session, organization_id=org.id, query="maternity", embedder=new)
    assert hits[0].heading_path == ["Leave Policy", "Maternity leave"]


def test_without_redis_an_upload_is_ingested_on_the_background_thread(session: Session) -> None:
    """The real no-Redis path: after the commit, the ingest runs on the executor thread."""
    background._executor = None
    team = Team(session)
    document = upload_document(
        session, team.actor("hr"), filename="leave.md", content=POLICY_V1, title="Leave"
    )
    session.commit()
    executor = background._executor
    assert executor is not None, "the commit handed the ingest to the background thread"
    executor.shutdown(wait=True)  # wait for it; the test's connection is free meanwhile
    background._executor = None
    session.refresh(document)
    assert document.status == DocumentStatus.READY
    assert document.indexed_hash == document.content_hash
    assert chunk_rows(session, document.id)
