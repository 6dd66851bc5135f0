"""Hybrid search over an organization's policy chunks: dense + full text, fused by RRF.

This module is the contract the tool, the assistant, the eval and the benchmark use:
`search`, `SearchHit`, `ingest_text` and `get_embedder`.
"""

from __future__ import annotations

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
# Full text counts half as much as the dense ranking in the fusion. On the handbook eval
# (131 questions) equal weights gave recall@5 0.916, below dense alone (0.931), because
# keyword matches pulled paraphrased questions off; at 0.5 hybrid gives 0.947 (Swahili
# 0.971, paraphrased 0.829), and 0.35 or 0.2 change nothing more.
FTS_WEIGHT = 0.5
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
# The floor only binds for an employer holding over a fifth of all chunks (ef = 2 x pool /
# share). Since employers up to 10,000 chunks are searched exactly, only such big ones
# reach the HNSW scan: for the largest of the 100k benchmark (28%) ef 120-300 all gave
# recall@20 1.00 against exact, and 400 cost 2.5x the CPU of 200 (9.5 vs 3.8 ms).
MIN_EF_SEARCH = 200
MAX_EF_SEARCH = 1000  # pgvector's own ceiling for hnsw.ef_search
# Words in more than this share of all chunks (planner statistics) rank but do not select.
COMMON_WORD_SHARE = 0.3
# When a query has only common words, at most this many matches are ranked.
MAX_RANKED_MATCHES = 2000
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
#: The cosine similarity (multilingual-e5-small, query to passage) from which the best
#: passage is taken to answer a question. Measured with `bench/policy_relevance.py`: at
#: 0.81, 1.5% of the handbook's own questions fall below (the user is offered hr instead)
#: and 65% of the questions it does not cover still reach it (at 0.83: 7% and 30%); e5's
#: similarities overlap, and missing an answer the handbook has costs more than a quote
#: beside the point, which the reply shows as a quote with its source.
ANSWER_SIMILARITY = 0.81


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
    #: Cosine similarity of the passage to the question (None: not among the dense matches).
    similarity: float | None = None


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
    vector: list[float] | None = None
    if mode in ("hybrid", "dense"):
        embedder = embedder or get_embedder()
        check_embeddings_current(session, organization_id=organization_id, embedder=embedder)
        vector = embedder.embed_query(query)
    rankings = _rankings(session, organization_id, vector, query if mode != "dense" else None, pool)
    scored = (
        reciprocal_rank_fusion(rankings, weights=(1.0, FTS_WEIGHT))
        if mode == "hybrid"
        else rankings[0]
    )
    similarity = dict(rankings[0]) if vector is not None else {}
    return _hits(session, organization_id, query, scored[:limit], similarity)


def answers(hits: list[SearchHit]) -> bool:
    """Whether the best passage is close enough in meaning to answer the question.

    Below `ANSWER_SIMILARITY` the passages only share words with it: better to say the
    handbook does not cover it than to quote something beside the point.
    """
    best = max((h.similarity for h in hits if h.similarity is not None), default=None)
    return best is not None and best >= ANSWER_SIMILARITY


def reciprocal_rank_fusion(
    rankings: list[list[tuple[int, float]]],
    k: int = RRF_K,
    weights: tuple[float, ...] | None = None,
) -> list[tuple[int, float]]:
    """Fuse rankings of (id, score): each id scores the sum of weight / (k + rank)."""
    fused: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        weight = weights[i] if weights else 1.0
        for rank, (chunk_id, _score) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


# "Another model" as the two ranges of the (organization_id, embedding_model) index below
# and above it, each probed for one entry. `embedding_model != :model` is no index
# condition: it read every chunk of the employer from the heap, 9-20 ms for the largest
# employer of the 100k benchmark, the dearest statement of its search.
_OTHER_MODEL = text(
    "(SELECT embedding_model FROM policy_chunks"
    " WHERE organization_id = :org AND embedding_model < :model LIMIT 1)"
    " UNION ALL (SELECT embedding_model FROM policy_chunks"
    " WHERE organization_id = :org AND embedding_model > :model LIMIT 1)"
    " LIMIT 1"
)


def check_embeddings_current(session: Session, *, organization_id: int, embedder: Embedder) -> None:
    """Refuse to compare a query with chunks embedded by another model."""
    stale = session.scalar(_OTHER_MODEL, {"org": organization_id, "model": embedder.model_name})
    if stale is not None:
        raise Conflict(
            f"The policy documents were embedded with {stale}, but search uses "
            f"{embedder.model_name}; run `ajira reembed` first.",
            code="embeddings_outdated",
            stored_model=stale,
            configured_model=embedder.model_name,
        )


# -- the two rankings, in one statement --------------------------------------------------


def _rankings(
    session: Session,
    organization_id: int,
    vector: list[float] | None,
    query: str | None,
    pool: int,
) -> list[list[tuple[int, float]]]:
    """The dense and/or full-text rankings of (chunk id, score), fetched in one round trip."""
    parts: list[tuple[str, str]] = []
    params: dict[str, object] = {"org": organization_id, "k": pool}
    own = organization_chunk_count(session, organization_id)
    exact = own <= get_knowledge_settings().exact_search_max_chunks
    if vector is not None and own > 0:
        params["q"] = _vector_literal(vector)
        if not exact:
            _raise_ef_search(session, own, pool)
        parts.append(("d", _EXACT_DENSE if exact else _HNSW_DENSE))
    if query is not None:
        plan = fts_plan(session, query)
        if plan is not None:
            params["match"], params["rank"] = plan.match, plan.rank
            params["cap"] = plan.cap
            parts.append(("f", _FTS_CAPPED if plan.cap else _FTS))
    by_kind: dict[str, list[tuple[int, float]]] = {kind: [] for kind, _ in parts}
    if parts:
        ctes = ", ".join(f"{kind} AS ({sql})" for kind, sql in parts)
        union = " UNION ALL ".join(
            f"SELECT '{kind}' AS kind, id, score, pos FROM {kind}"  # noqa: S608  # nosec B608
            for kind, _ in parts
        )
        # Only this module's constant SQL is joined; every value is a bound parameter.
        statement = text(f"WITH {ctes} {union} ORDER BY kind, pos")
        rows = session.execute(statement, params).all()
        for row in rows:
            by_kind[row.kind].append((int(row.id), float(row.score)))
    if "d" in by_kind and not exact and len(by_kind["d"]) < min(pool, own):
        # The HNSW scan filters after the fact: if too few of its candidates were the
        # employer's, scan its rows exactly rather than return a short list.
        by_kind["d"] = dense_ranking(session, organization_id, vector or [], pool, exact=True)
    out: list[list[tuple[int, float]]] = []
    if vector is not None:
        out.append(by_kind.get("d", []))
    if query is not None:
        out.append(by_kind.get("f", []))
    return out


# A MATERIALIZED CTE over the organization's rows (via its index), so the planner
# cannot pick the HNSW scan, which would filter out a small employer's rows.
_EXACT_DENSE = (
    "SELECT id, 1 - distance AS score, row_number() OVER (ORDER BY distance, id) AS pos"
    " FROM (SELECT id, distance FROM ("
    " WITH own AS MATERIALIZED ("
    "  SELECT id, embedding <=> CAST(:q AS vector) AS distance"
    "  FROM policy_chunks WHERE organization_id = :org)"
    " SELECT id, distance FROM own ORDER BY distance, id LIMIT :k) AS top) AS ranked"
)
_HNSW_DENSE = (
    "SELECT id, 1 - distance AS score, row_number() OVER (ORDER BY distance, id) AS pos"
    " FROM (SELECT id, embedding <=> CAST(:q AS vector) AS distance FROM policy_chunks"
    " WHERE organization_id = :org ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k) AS top"
)
# Full text reads `policy_chunks_searchable` (migration 0011): the employer's rows by the
# row-level-security setting, without the policy that would keep `@@` off the GIN index.
_FTS = (
    "SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS pos FROM ("
    " SELECT id, ts_rank_cd(tsv, to_tsquery('simple', :rank), 1) AS score"
    " FROM policy_chunks_searchable WHERE organization_id = :org"
    " AND tsv @@ to_tsquery('simple', :match)"
    " ORDER BY score DESC, id LIMIT :k) AS top"
)
# Every word of this query is in over 30% of all chunks, so the employer's rows are walked
# until `cap` match: `ts_match_vq` is `@@` in a form the planner cannot take to the GIN
# index, whose posting lists for such words run to a third of the table or more. It
# chose them, with the organization's index, for large employers: 44 ms of server time
# for the 100k benchmark's largest and "leave days pay work", against 7.6 ms walking.
_FTS_CAPPED = (
    "SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS pos FROM ("
    " SELECT id, ts_rank_cd(tsv, to_tsquery('simple', :rank), 1) AS score FROM ("
    "  SELECT id, tsv FROM policy_chunks_searchable WHERE organization_id = :org"
    "  AND ts_match_vq(tsv, to_tsquery('simple', :match)) LIMIT :cap) AS matches"
    " ORDER BY score DESC, id LIMIT :k) AS top"
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
    session: Session,
    organization_id: int,
    vector: list[float],
    pool: int,
    *,
    exact: bool | None = None,
) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity) of the nearest chunks, exact for small organizations.

    pgvector 0.6 filters an HNSW scan after the fact: among many employers, a small
    one could get fewer than `pool` rows or miss its best ones. Up to the size
    threshold the organization's rows are scanned exactly; above it the HNSW scan
    runs with `ef_search` raised so that enough of its candidates belong to the employer.
    """
    own = organization_chunk_count(session, organization_id)
    if own == 0:
        return []
    if exact is None:
        exact = own <= get_knowledge_settings().exact_search_max_chunks
    if not exact:
        _raise_ef_search(session, own, pool)
    rows = session.execute(
        text(_EXACT_DENSE if exact else _HNSW_DENSE),
        {"q": _vector_literal(vector), "org": organization_id, "k": pool},
    ).all()
    return [(int(row.id), float(row.score)) for row in rows]


def _raise_ef_search(session: Session, own: int, pool: int) -> None:
    # ef = 2 x pool / (the employer's share of all chunks), within the bounds, so that about
    # 2 x pool of the scan's candidates are the employer's. The planner's row estimate is
    # free and close enough for the total; read in the same statement, one round trip.
    session.execute(
        text(
            "SELECT set_config('hnsw.ef_search', least(:hi, greatest(:lo,"
            " ceil(2.0 * :pool * greatest(reltuples, :own) / :own)))::int::text, true)"
            " FROM pg_class WHERE oid = 'policy_chunks'::regclass"
        ),
        {"own": own, "pool": pool, "lo": MIN_EF_SEARCH, "hi": MAX_EF_SEARCH},
    )


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


def _or_query(terms: list[str]) -> str:
    return " | ".join(f"{t}:*" if len(t) >= PREFIX_MIN_LETTERS else t for t in terms)


def to_tsquery_text(query: str) -> str | None:
    """An OR query for `to_tsquery('simple', ...)`; longer words also match as prefixes.

    OR, not AND: a question rarely repeats every word of the passage that answers it.
    Prefixes catch plurals and Swahili's suffixes ("likizo" also finds "likizoni").
    """
    terms = query_terms(query)
    return _or_query(terms) if terms else None


@dataclass(frozen=True)
class FtsPlan:
    """Which chunks a full-text query selects (`match`), how they rank (`rank`), and a cap."""

    match: str
    rank: str
    cap: int | None


def fts_plan(session: Session, query: str) -> FtsPlan | None:
    """Select by the query's selective words, rank by all of them.

    A word found in most chunks ("leave" in a leave handbook) matches nearly all of a
    large employer's rows and ranking them all dominated search time, yet it says
    nothing about which passage answers. Such words still add to the rank of the
    passages the other words select. When every word is common, at most
    `MAX_RANKED_MATCHES` matches are ranked.
    """
    terms = query_terms(query)
    if not terms:
        return None
    common = common_words(session)
    selective = [t for t in terms if t not in common]
    rank = _or_query(terms)
    if selective:
        return FtsPlan(match=_or_query(selective), rank=rank, cap=None)
    return FtsPlan(match=rank, rank=rank, cap=MAX_RANKED_MATCHES)


_common: tuple[float, frozenset[str]] | None = None


def common_words(session: Session) -> frozenset[str]:
    """Words in more than `COMMON_WORD_SHARE` of all chunks, from the planner's statistics.

    ANALYZE keeps the most frequent lexemes of `tsv` with their share of rows; cached
    for a minute. Without statistics (a fresh table) no word is common.
    """
    global _common
    now = time.monotonic()
    cached = _common
    if cached is not None and now - cached[0] < COUNT_TTL_SECONDS:
        return cached[1]
    # Through a function of migration 0011: `pg_stats` hides a table under row-level security.
    row = session.execute(text("SELECT words, shares FROM policy_chunk_common_lexemes()")).first()
    words: frozenset[str] = frozenset()
    if row is not None and row.words:
        # The shares list ends with three summary figures; zip stops at the words.
        words = frozenset(
            w for w, share in zip(row.words, row.shares, strict=False) if share > COMMON_WORD_SHARE
        )
    _common = (now, words)
    return words


def fts_ranking(
    session: Session, organization_id: int, query: str, pool: int
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank_cd) of the chunks the query's selective words match."""
    return _rankings(session, organization_id, None, query, pool)[0]


# -- hits and citations ------------------------------------------------------------------


def _hits(
    session: Session,
    organization_id: int,
    query: str,
    scored: list[tuple[int, float]],
    similarity: dict[int, float] | None = None,
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
                similarity=(similarity or {}).get(row.id),
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
