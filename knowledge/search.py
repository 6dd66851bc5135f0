"""Hybrid search over an organization's policy chunks: dense + full text, fused by RRF.

This module is the contract the tool, the assistant, the eval and the benchmark use:
`search`, `SearchHit`, `ingest_text` and `get_embedder`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.errors import Conflict
from knowledge.chunk import make_quote, split_sentences
from knowledge.embeddings import Embedder, get_embedder
from knowledge.ingest import ingest_text
from knowledge.settings import get_knowledge_settings

__all__ = ["Embedder", "Mode", "SearchHit", "get_embedder", "ingest_text", "search"]

Mode = Literal["hybrid", "dense", "fts"]

RRF_K = 60
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
MIN_EF_SEARCH = 100
MAX_EF_SEARCH = 1000  # pgvector's own ceiling for hnsw.ef_search
# Shorter words match only whole: "time:*" would find "times" in every overtime rule.
PREFIX_MIN_LETTERS = 5
COUNT_TTL_SECONDS = 60.0
QUOTE_MAX_WORDS = 40

# Words that say nothing about a policy, in English and Swahili: dropped from the
# full-text query so that "how many days do I get" ranks by "days", not by "how".
_STOPWORD_TEXT = """
    a an and are as at be been but by can could did do does for from get gets got had has
    have how i if in is it its me my of on or our shall should so than that the their them
    then there these they this to us was we were what when where which who whom why will
    with would you your yours am any about after before into out up can't don't
    na ya wa za la kwa ni je gani ngapi nini mimi wewe yeye sisi ninyi wao yangu yako yake
    yetu yenu yao kama katika hii hiyo huu hili hizi au pia sana tu cha vya kwenye kuna
    nina una ana tuna mna wana ili lakini hapa pale nani lini wapi vipi kuhusu
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class SearchHit:
    """One passage found, with what a citation needs: title, heading path and a quote."""

    chunk_id: int
    document_id: int
    document_title: str
    heading_path: list[str]
    text: str
    quote: str
    score: float
    rank: int


def search(
    session: Session,
    *,
    organization_id: int,
    query: str,
    limit: int = 5,
    mode: Mode = "hybrid",
    embedder: Embedder | None = None,
) -> list[SearchHit]:
    """The organization's best `limit` passages for `query`, best first.

    `hybrid` fuses the dense and full-text rankings by reciprocal rank fusion; each
    ranking takes 4 x `limit` candidates. Raises `Conflict("embeddings_outdated")` when
    the organization's chunks were embedded by another model than `embedder`.
    """
    query = query.strip()
    if not query or limit < 1:
        return []
    pool = max(CANDIDATES_PER_RESULT * limit, MIN_CANDIDATES)
    rankings: list[list[tuple[int, float]]] = []
    if mode in ("hybrid", "dense"):
        embedder = embedder or get_embedder()
        check_embeddings_current(session, organization_id=organization_id, embedder=embedder)
        vector = embedder.embed_query(query)
        rankings.append(dense_ranking(session, organization_id, vector, pool))
    if mode in ("hybrid", "fts"):
        rankings.append(fts_ranking(session, organization_id, query, pool))
    scored = reciprocal_rank_fusion(rankings) if mode == "hybrid" else rankings[0]
    return _hits(session, organization_id, query, scored[:limit])


def reciprocal_rank_fusion(
    rankings: list[list[tuple[int, float]]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Fuse rankings of (id, score): each id scores the sum of 1 / (k + rank)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _score) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def check_embeddings_current(session: Session, *, organization_id: int, embedder: Embedder) -> None:
    """Refuse to compare a query with chunks embedded by another model."""
    stale = session.scalar(
        select(PolicyChunk.embedding_model)
        .where(
            PolicyChunk.organization_id == organization_id,
            PolicyChunk.embedding_model != embedder.model_name,
        )
        .limit(1)
    )
    if stale is not None:
        raise Conflict(
            f"The policy documents were embedded with {stale}, but search uses "
            f"{embedder.model_name}; run `ajira reembed` first.",
            code="embeddings_outdated",
            stored_model=stale,
            configured_model=embedder.model_name,
        )


# -- dense ranking -----------------------------------------------------------------------


_counts: dict[int, tuple[float, int]] = {}
_counts_lock = threading.Lock()


def organization_chunk_count(session: Session, organization_id: int) -> int:
    """How many chunks an organization has, cached for a minute (it picks the search plan)."""
    now = time.monotonic()
    with _counts_lock:
        cached = _counts.get(organization_id)
    if cached is not None and now - cached[0] < COUNT_TTL_SECONDS:
        return cached[1]
    count = session.scalar(
        select(func.count()).where(PolicyChunk.organization_id == organization_id)
    )
    with _counts_lock:
        _counts[organization_id] = (now, int(count or 0))
    return int(count or 0)


def forget_chunk_count(organization_id: int) -> None:
    """Drop a cached count after an organization's chunks changed."""
    with _counts_lock:
        _counts.pop(organization_id, None)


def dense_ranking(
    session: Session, organization_id: int, vector: list[float], pool: int
) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity) of the nearest chunks, exact for small organizations.

    pgvector 0.6 filters an HNSW scan after the fact: among many employers, a small
    one could get fewer than `pool` rows or miss its best ones. Below the size
    threshold the organization's rows are scanned exactly (its index on
    organization_id makes that a few milliseconds); above it the HNSW scan runs
    with `ef_search` raised so that enough of its candidates belong to the employer.
    """
    own = organization_chunk_count(session, organization_id)
    if own == 0:
        return []
    literal = _vector_literal(vector)
    if own <= get_knowledge_settings().exact_search_max_chunks:
        rows = session.execute(
            text(
                "WITH own AS MATERIALIZED ("
                " SELECT id, embedding <=> CAST(:q AS vector) AS distance"
                " FROM policy_chunks WHERE organization_id = :org)"
                " SELECT id, distance FROM own ORDER BY distance, id LIMIT :k"
            ),
            {"q": literal, "org": organization_id, "k": pool},
        ).all()
    else:
        total = _estimated_total(session)
        share = min(1.0, own / max(total, own))
        ef = min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, math.ceil(2 * pool / share)))
        session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)})
        rows = session.execute(
            text(
                "SELECT id, embedding <=> CAST(:q AS vector) AS distance FROM policy_chunks"
                " WHERE organization_id = :org ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
            ),
            {"q": literal, "org": organization_id, "k": pool},
        ).all()
    return [(int(row.id), 1.0 - float(row.distance)) for row in rows]


def _estimated_total(session: Session) -> int:
    # The planner's estimate is free and close enough to size ef_search.
    estimate = session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'policy_chunks'::regclass")
    )
    return max(int(estimate or 0), 1)


def _vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


# -- full-text ranking -------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """The words of a query that carry meaning (stopwords dropped unless nothing is left)."""
    words = [w for w in _WORD.findall(query.lower()) if not w.isdigit() or len(w) <= 4]
    words = [w.strip("_") for w in words if w.strip("_")]
    meaningful = [w for w in words if w not in STOPWORDS and len(w) > 1]
    return list(dict.fromkeys(meaningful or words))


def to_tsquery_text(query: str) -> str | None:
    """An OR query for `to_tsquery('simple', ...)`; longer words also match as prefixes.

    OR, not AND: a question rarely repeats every word of the passage that answers it.
    Prefixes catch plurals and Swahili's suffixes ("likizo" also finds "likizoni").
    """
    terms = query_terms(query)
    if not terms:
        return None
    return " | ".join(f"{t}:*" if len(t) >= PREFIX_MIN_LETTERS else t for t in terms)


def fts_ranking(
    session: Session, organization_id: int, query: str, pool: int
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank_cd) of the chunks matching the query's words."""
    tsquery = to_tsquery_text(query)
    if tsquery is None:
        return []
    rows = session.execute(
        text(
            "SELECT id, ts_rank_cd(tsv, q, 1) AS rank"
            " FROM policy_chunks, to_tsquery('simple', :tsq) AS q"
            " WHERE organization_id = :org AND tsv @@ q"
            " ORDER BY rank DESC, id LIMIT :k"
        ),
        {"tsq": tsquery, "org": organization_id, "k": pool},
    ).all()
    return [(int(row.id), float(row.rank)) for row in rows]


# -- hits and citations ------------------------------------------------------------------


def _hits(
    session: Session, organization_id: int, query: str, scored: list[tuple[int, float]]
) -> list[SearchHit]:
    if not scored:
        return []
    ids = [chunk_id for chunk_id, _ in scored]
    rows = session.execute(
        select(
            PolicyChunk.id,
            PolicyChunk.document_id,
            PolicyDocument.title,
            PolicyChunk.heading_path,
            PolicyChunk.text,
            PolicyChunk.quote,
        )
        .join(PolicyDocument, PolicyDocument.id == PolicyChunk.document_id)
        .where(PolicyChunk.id.in_(ids), PolicyChunk.organization_id == organization_id)
    ).all()
    by_id = {row.id: row for row in rows}
    terms = query_terms(query)
    hits: list[SearchHit] = []
    for chunk_id, score in scored:
        row = by_id.get(chunk_id)
        if row is None:  # deleted between the ranking and now
            continue
        hits.append(
            SearchHit(
                chunk_id=row.id,
                document_id=row.document_id,
                document_title=row.title,
                heading_path=list(row.heading_path),
                text=row.text,
                quote=best_quote(row.text, terms) or row.quote,
                score=score,
                rank=len(hits) + 1,
            )
        )
    return hits


def best_quote(passage: str, terms: list[str]) -> str | None:
    """The sentence of `passage` that shares the most words with the query, if any does."""
    if not terms:
        return None
    best: tuple[int, int] | None = None
    sentences = split_sentences(passage)
    for index, sentence in enumerate(sentences):
        words = _WORD.findall(sentence.lower())
        hits = sum(1 for t in terms if any(w.startswith(t) for w in words))
        if hits and (best is None or hits > best[0]):
            best = (hits, index)
    if best is None:
        return None
    return make_quote(sentences[best[1]], QUOTE_MAX_WORDS)
