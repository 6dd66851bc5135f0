"""Search: isolation between employers, filtered vector search, hybrid fusion, both languages."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk, PolicyDocument
from knowledge.search import SearchHit, forget_chunk_count, ingest_text, search
from knowledge.settings import get_knowledge_settings
from tests.factories import Team, make_org
from tests.knowledge_fixtures import HANDBOOK, CachedE5, FixedEmbedder
from tools.policy import NO_DOCUMENTS, NOTHING_FOUND
from tools.registry import run_tool

E5 = CachedE5()


def add_handbook(session: Session, organization_id: int) -> PolicyDocument:
    return ingest_text(
        session,
        organization_id=organization_id,
        title="Staff Handbook",
        filename="handbook.md",
        content=HANDBOOK.encode(),
        embedder=E5,
    )


def sections(hits: list[SearchHit]) -> list[str]:
    return [hit.heading_path[-1] for hit in hits]


# --- meaning, languages and fusion (the real model, one tiny corpus) ---------------------


def test_english_and_swahili_questions_find_the_maternity_passages(session: Session) -> None:
    org = make_org(session)
    add_handbook(session, org.id)
    english = search(
        session,
        organization_id=org.id,
        query="how many days of maternity leave do I get?",
        embedder=E5,
    )
    swahili = search(
        session, organization_id=org.id, query="likizo ya uzazi ni siku ngapi?", embedder=E5
    )
    assert sections(english)[0] == "Maternity leave"
    assert sections(swahili)[0] == "Likizo ya uzazi"
    # Across languages, meaning still finds the English passage for a Swahili question.
    dense = search(
        session,
        organization_id=org.id,
        query="likizo ya uzazi ni siku ngapi?",
        mode="dense",
        limit=3,
        embedder=E5,
    )
    assert "Maternity leave" in sections(dense)
    top = english[0]
    assert top.document_title == "Staff Handbook"
    assert top.heading_path == ["Leave Policy", "Maternity leave"]
    assert "maternity leave" in top.quote
    assert top.rank == 1
    assert [h.rank for h in english] == list(range(1, len(english) + 1))


LABELLED = [
    ("how many days of maternity leave do I get?", "Maternity leave"),
    ("time off for a new father", "Paternity leave"),
    ("can I carry unused holiday into next year", "Annual leave"),
    ("medical certificate when I am ill", "Sick leave"),
    ("likizo ya uzazi ni siku ngapi?", "Likizo ya uzazi"),
    ("kazi inaanza saa ngapi?", "Saa za kazi"),
    ("what is the rate for extra hours on Sunday", "Overtime"),
    ("refund of bus fare receipts", "Travel expenses"),
]


def test_hybrid_finds_at_least_as_much_as_either_mode_alone(session: Session) -> None:
    org = make_org(session)
    add_handbook(session, org.id)

    def found(mode: str, k: int) -> int:
        return sum(
            expected
            in sections(
                search(session, organization_id=org.id, query=q, mode=mode, limit=k, embedder=E5)
            )  # type: ignore[arg-type]
            for q, expected in LABELLED
        )

    for k in (1, 3):
        hybrid, dense, fts = found("hybrid", k), found("dense", k), found("fts", k)
        assert hybrid >= dense, (k, hybrid, dense)
        assert hybrid >= fts, (k, hybrid, fts)
    assert found("hybrid", 3) == len(LABELLED)


def test_an_organization_never_retrieves_another_ones_chunks(session: Session) -> None:
    ours, theirs = make_org(session), make_org(session)
    add_handbook(session, theirs.id)
    ingest_text(
        session,
        organization_id=ours.id,
        title="Canteen",
        filename="canteen.md",
        content=b"# Canteen\n\nLunch is served at one o'clock.",
        embedder=E5,
    )
    for mode in ("hybrid", "dense", "fts"):
        hits = search(
            session,
            organization_id=ours.id,
            query="maternity leave three months full pay",
            mode=mode,
            limit=10,
            embedder=E5,  # type: ignore[arg-type]
        )
        assert {h.document_title for h in hits} <= {"Canteen"}, mode
    assert search(session, organization_id=make_org(session).id, query="leave", embedder=E5) == []


def test_search_policy_tool_answers_with_numbered_citations(session: Session) -> None:
    team, other = Team(session), Team(session)
    employee = team.actor("employee")
    result = run_tool(session, employee, "search_policy", {"query": "maternity leave"})
    assert result.summary == NO_DOCUMENTS
    add_handbook(session, team.org.id)
    result = run_tool(session, employee, "search_policy", {"query": "maternity leave", "limit": 2})
    data = result.model_dump()
    assert [c["number"] for c in data["citations"]] == [1, 2]
    assert data["citations"][0]["heading_path"] == ["Leave Policy", "Maternity leave"]
    assert data["results"][0]["quote"].startswith("A female employee is entitled to three months")
    assert "[1] Staff Handbook › Leave Policy › Maternity leave" in result.summary
    # Another employer's staff see none of it.
    theirs = run_tool(session, other.actor("employee"), "search_policy", {"query": "maternity"})
    assert theirs.summary == NO_DOCUMENTS
    nothing = run_tool(session, employee, "search_policy", {"query": "the of and"})
    assert nothing.summary in {NOTHING_FOUND} or nothing.results


# --- filtered vector search among 50 employers (synthetic vectors, no model) -------------

DIM = 384


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def fifty_organizations(session: Session) -> tuple[list[int], dict[int, np.ndarray], list[int]]:
    """50 employers from 3,000 chunks down to 4, all drawing on the same 8 topic clusters."""
    rng = np.random.default_rng(7)
    centers = _unit(rng.normal(size=(8, DIM)))
    sizes = [2000] + [150] * 4 + [40] * 15 + [4] * 30
    orgs, vectors, chunk_ids = [], {}, []
    # Indexes are the login role's (their owner's), not the application's: the rest of
    # this rolled-back setup runs as it.
    session.execute(text("SET LOCAL ROLE NONE"))
    session.execute(text("DROP INDEX ix_policy_chunks_embedding_hnsw"))
    for size in sizes:
        org = make_org(session)
        document = PolicyDocument(
            organization_id=org.id,
            title="Synthetic",
            filename="s.md",
            mime_type="text/markdown",
            size_bytes=1,
            content_hash="0" * 64,
            indexed_hash="0" * 64,
            status="ready",
        )
        session.add(document)
        session.flush()
        topics = rng.integers(0, 8, size=size)
        matrix = _unit(centers[topics] + rng.normal(scale=0.35, size=(size, DIM))).astype(
            np.float32
        )
        ids = session.scalars(
            insert(PolicyChunk).returning(PolicyChunk.id),
            [
                {
                    "organization_id": org.id,
                    "document_id": document.id,
                    "ordinal": i,
                    "heading_path": ["S"],
                    "heading": "S",
                    "text": f"chunk {i}",
                    "quote": "q",
                    "embedding": matrix[i],
                    "embedding_model": "test/fixed",
                    "embedding_dim": DIM,
                }
                for i in range(size)
            ],
        ).all()
        orgs.append(org.id)
        vectors[org.id] = matrix
        chunk_ids.extend(ids)
        forget_chunk_count(org.id)
    # One bulk build of the HNSW index is far quicker than growing it row by row
    # (the DDL is rolled back with the test).
    session.execute(
        text(
            "CREATE INDEX ix_policy_chunks_embedding_hnsw ON policy_chunks"
            " USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
    )
    session.execute(text("ANALYZE policy_chunks"))
    return orgs, vectors, centers  # type: ignore[return-value]


def _exact(
    session: Session, org_id: int, matrix: np.ndarray, query: np.ndarray, k: int
) -> list[int]:
    ids = session.scalars(
        select(PolicyChunk.id)
        .where(PolicyChunk.organization_id == org_id)
        .order_by(PolicyChunk.ordinal)
    ).all()
    order = np.argsort(-(matrix @ query), kind="stable")[:k]
    return [ids[i] for i in order]


def test_small_organizations_get_their_exact_best_chunks_among_fifty(
    session: Session, fifty_organizations: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs, vectors, centers = fifty_organizations
    rng = np.random.default_rng(11)
    big, small = orgs[0], orgs[-5:] + orgs[5:8]
    for org_id in small:
        query = _unit(centers[rng.integers(0, 8)][None, :] + rng.normal(scale=0.3, size=(1, DIM)))[
            0
        ]
        embedder = FixedEmbedder(vectors={"q": [float(x) for x in query]})
        k = min(5, len(vectors[org_id]))
        hits = search(
            session, organization_id=org_id, query="q", mode="dense", limit=k, embedder=embedder
        )
        assert [h.chunk_id for h in hits] == _exact(session, org_id, vectors[org_id], query, k)
    # The large one goes through the HNSW index (threshold lowered) and keeps its recall.
    monkeypatch.setattr(get_knowledge_settings(), "exact_search_max_chunks", 1000)
    recalls = []
    for _ in range(10):
        query = _unit(centers[rng.integers(0, 8)][None, :] + rng.normal(scale=0.3, size=(1, DIM)))[
            0
        ]
        embedder = FixedEmbedder(vectors={"q": [float(x) for x in query]})
        hits = search(
            session, organization_id=big, query="q", mode="dense", limit=5, embedder=embedder
        )
        exact = _exact(session, big, vectors[big], query, 5)
        recalls.append(len({h.chunk_id for h in hits} & set(exact)) / 5)
    assert len(hits) == 5
    assert sum(recalls) / len(recalls) >= 0.9


def test_fusion_weighs_full_text_at_half_the_dense_ranking() -> None:
    from knowledge.search import FTS_WEIGHT, reciprocal_rank_fusion

    dense = [(1, 0.9), (2, 0.8)]
    fts = [(2, 5.0), (3, 4.0)]
    fused = reciprocal_rank_fusion([dense, fts], weights=(1.0, FTS_WEIGHT))
    assert [chunk for chunk, _ in fused] == [2, 1, 3]  # both lists beat either alone
    # Top of the dense list alone outranks top of the full-text list alone.
    alone = reciprocal_rank_fusion([[(1, 0.9)], [(3, 4.0)]], weights=(1.0, FTS_WEIGHT))
    assert [chunk for chunk, _ in alone] == [1, 3]
    assert FTS_WEIGHT == 0.5
