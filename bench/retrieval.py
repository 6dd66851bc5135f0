"""Policy search beside langchain-postgres' PGVector: ingest throughput, query latency, recall.

Runs against a fresh embedded PostgreSQL in a temporary directory, in two parts:

(a) Ingest of the demo handbook with the bundled e5 model, for our pipeline (parse,
    chunk, embed, store) and for `PGVector.add_texts` on the same chunk texts. Each
    rate is also shown as a ratio to the model's raw encode rate measured in the same
    run, and the time spent outside the model is measured directly, so the pipeline's
    own overhead shows apart from the model's speed.
(b) A 100,000-chunk corpus across 50 organizations of very different sizes (Zipf),
    bulk-loaded with COPY: clustered, normalised synthetic passage vectors and
    synthetic text. Queries are held-out vectors near a cluster with words of that
    cluster, spread evenly over the organizations (so small ones count as much as the
    big one). Our hybrid and dense search are timed and compared with exact search;
    PGVector (one collection per organization, HNSW index) with exact dense search.

    python bench/retrieval.py [--chunks 100000] [--orgs 50] [--queries 200] [--skip-ingest]
    python bench/retrieval.py --quick     # 30,000 chunks, 100 queries, no ingest: ~1-2 min

Latency and recall are also broken down by organization size (large ≥ 5,000 chunks,
medium 1,000–4,999, small < 1,000), and the previous search plan (exact scan up to
20,000 chunks, full text filtered by organization after the GIN scan) is timed in the
same run as `previous hybrid`, so before/after ratios do not depend on the machine's load.

Prints a table and writes bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import Result, percentile, quick_flag, write_results
from langchain_core.embeddings import Embeddings
from langchain_postgres import PGVector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hrcore import db, tenancy
from hrcore.documents.models import EMBEDDING_DIM, DocumentStatus, PolicyDocument
from hrcore.migrate import upgrade
from hrcore.people.models import Organization
from knowledge.embeddings import E5Embedder, Embedder
from knowledge.handbook import handbook_documents
from knowledge.ingest import passage_text, prepare
from knowledge.search import (
    CANDIDATES_PER_RESULT,
    FTS_WEIGHT,
    MIN_CANDIDATES,
    _vector_literal,
    fts_plan,
    ingest_text,
    reciprocal_rank_fusion,
    search,
    to_tsquery_text,
)

RESULTS = Path(__file__).parent / "results" / "retrieval.json"
SYNTHETIC_MODEL = "bench/synthetic-clustered"
K = 5
HYBRID_P95_AIM_MS = 30.0
CLUSTERS = 400
WORDS_PER_CLUSTER = 6
COMMON_WORDS = [
    "employee",
    "employer",
    "leave",
    "days",
    "pay",
    "salary",
    "work",
    "policy",
    "company",
    "supervisor",
    "hr",
    "month",
    "year",
    "request",
    "approval",
    "notice",
    "time",
    "staff",
    "office",
    "factory",
    "shift",
    "rules",
    "procedure",
]


# -- embeddings wrappers -------------------------------------------------------------------


class TimedEmbedder:
    """Our embedder with a stopwatch: how long the model itself ran."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - t0

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class LangChainEmbeddings(Embeddings):
    """The same model behind LangChain's `Embeddings` interface, for PGVector."""

    def __init__(self, inner: TimedEmbedder) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query."""
        return self.inner.embed_query(text)


class QueryVectors:
    """Held-out synthetic query vectors, looked up by query text."""

    model_name = SYNTHETIC_MODEL
    dimension = EMBEDDING_DIM

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError("the synthetic corpus is bulk-loaded")

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text].tolist()


# -- part (a): ingest throughput ------------------------------------------------------------


def bench_ingest(engine: Engine, console: Console) -> dict[str, Any]:
    """Chunks/s of our pipeline and PGVector.add_texts, each against the raw encode rate."""
    documents = handbook_documents()
    passages: list[str] = []
    for _, path in documents:
        prepared = prepare(path.name, path.read_bytes(), "text/markdown")
        passages.extend(passage_text(c.heading_path, c.text) for c in prepared.chunks)
    n = len(passages)
    model = E5Embedder()
    model.embed_documents(["warm up the model: the first call loads it"])

    console.print(f"(a) raw encode of {n} handbook passages…")
    t0 = time.perf_counter()
    for start in range(0, n, 16):
        model.embed_documents(passages[start : start + 16])
    raw_seconds = time.perf_counter() - t0

    console.print("(a) our ingest pipeline…")
    ours = TimedEmbedder(model)
    t0 = time.perf_counter()
    with Session(engine) as session:
        org = _organization(session, "bench-ingest")
        for title, path in documents:
            ingest_text(
                session,
                organization_id=org.id,
                title=title,
                filename=path.name,
                content=path.read_bytes(),
                mime="text/markdown",
                embedder=ours,
            )
        session.commit()
    ours_seconds = time.perf_counter() - t0

    console.print("(a) PGVector.add_texts…")
    peer = TimedEmbedder(model)
    store = PGVector(
        LangChainEmbeddings(peer),
        connection=engine,
        embedding_length=EMBEDDING_DIM,
        collection_name="bench-ingest",
        use_jsonb=True,
    )
    t0 = time.perf_counter()
    for start in range(0, n, 16):
        batch = passages[start : start + 16]
        store.add_texts(batch, metadatas=[{"ordinal": start + i} for i in range(len(batch))])
    peer_seconds = time.perf_counter() - t0
    raw_rate = n / raw_seconds

    def row(seconds: float, timed: TimedEmbedder) -> dict[str, float]:
        return {
            "seconds": round(seconds, 2),
            "chunks_per_s": round(n / seconds, 2),
            "ratio_to_raw_encode": round((n / seconds) / raw_rate, 3),
            "encode_seconds": round(timed.seconds, 2),
            "overhead_seconds": round(seconds - timed.seconds, 3),
            "overhead_share_of_encode": round((seconds - timed.seconds) / timed.seconds, 4),
        }

    return {
        "chunks": n,
        "documents": len(documents),
        "model": model.model_name,
        "raw_encode": {"seconds": round(raw_seconds, 2), "chunks_per_s": round(raw_rate, 2)},
        "ours": row(ours_seconds, ours),
        "pgvector": row(peer_seconds, peer),
    }


# -- part (b): the 100k corpus ------------------------------------------------------------


@dataclass
class Corpus:
    sizes: list[int]
    org_ids: list[int]
    vectors: np.ndarray  # (n, dim) float32, normalised
    clusters: np.ndarray  # (n,) cluster of each chunk
    owner: np.ndarray  # (n,) index into org_ids
    chunk_ids: np.ndarray  # (n,) policy_chunks.id
    centers: np.ndarray
    cluster_words: list[list[str]]
    load: dict[str, float]


def org_sizes(total: int, orgs: int) -> list[int]:
    """Zipf-like sizes from one big employer down to a few dozen chunks."""
    weights = np.array([1.0 / (i + 1) ** 1.15 for i in range(orgs)])
    sizes = np.maximum(20, np.floor(weights / weights.sum() * total)).astype(int)
    sizes[0] += total - int(sizes.sum())
    return [int(s) for s in sizes]


def _organization(session: Session, slug: str) -> Organization:
    org = Organization(
        slug=f"{slug}-{uuid.uuid4().hex[:6]}",
        name=slug,
        country="KE",
        timezone="Africa/Nairobi",
        currency="KES",
    )
    session.add(org)
    session.flush()
    return org


def _words(rng: np.random.Generator, cluster_words: list[str], n: int) -> str:
    topic = rng.choice(cluster_words, size=4)
    common = rng.choice(COMMON_WORDS, size=n - 4)
    words = np.concatenate([topic, common])
    rng.shuffle(words)
    return " ".join(words)


def load_corpus(engine: Engine, total: int, orgs: int, console: Console) -> Corpus:
    """Bulk-load the synthetic corpus into our tables with COPY, then build the indexes once."""
    rng = np.random.default_rng(2026)
    centers = rng.standard_normal((CLUSTERS, EMBEDDING_DIM)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    vocabulary = [f"w{c}x{j}" for c in range(CLUSTERS) for j in range(WORDS_PER_CLUSTER)]
    cluster_words = [
        vocabulary[c * WORDS_PER_CLUSTER : (c + 1) * WORDS_PER_CLUSTER] for c in range(CLUSTERS)
    ]
    sizes = org_sizes(total, orgs)
    owner = np.repeat(np.arange(orgs), sizes)
    clusters = rng.integers(0, CLUSTERS, size=total)
    vectors = centers[clusters] + 0.06 * rng.standard_normal((total, EMBEDDING_DIM)).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    with Session(engine) as session:
        org_ids = [_organization(session, f"bench-{i}").id for i in range(orgs)]
        documents = [
            PolicyDocument(
                organization_id=org_id,
                title="Synthetic policies",
                filename="synthetic.md",
                mime_type="text/markdown",
                size_bytes=0,
                content_hash="synthetic",
                indexed_hash="synthetic",
                status=DocumentStatus.READY,
                chunks_total=size,
                chunks_done=size,
            )
            for org_id, size in zip(org_ids, sizes, strict=True)
        ]
        session.add_all(documents)
        session.flush()
        doc_ids = [d.id for d in documents]
        session.commit()

    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        register_vector(conn)
        with conn.cursor() as cur:
            cur.execute("DROP INDEX IF EXISTS ix_policy_chunks_embedding_hnsw")
            cur.execute("DROP INDEX IF EXISTS ix_policy_chunks_tsv")
            with cur.copy(
                "COPY policy_chunks (organization_id, document_id, ordinal, heading_path,"
                " heading, text, quote, embedding, embedding_model, embedding_dim)"
                " FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(
                    [
                        "int8",
                        "int8",
                        "int4",
                        "text[]",
                        "text",
                        "text",
                        "text",
                        "vector",
                        "varchar",
                        "int4",
                    ]
                )
                ordinal = [0] * orgs
                for i in range(total):
                    o = int(owner[i])
                    body = _words(rng, cluster_words[int(clusters[i])], 40)
                    heading = f"Section {int(clusters[i])}"
                    copy.write_row(
                        (
                            org_ids[o],
                            doc_ids[o],
                            ordinal[o],
                            ["Synthetic policies", heading],
                            f"Synthetic policies › {heading}",
                            body,
                            body[:80],
                            vectors[i],
                            SYNTHETIC_MODEL,
                            EMBEDDING_DIM,
                        )
                    )
                    ordinal[o] += 1
        conn.commit()
        load_seconds = time.perf_counter() - t0
        console.print(f"(b) COPY {total} chunks: {load_seconds:.1f} s; building indexes…")
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute(
                "CREATE INDEX ix_policy_chunks_embedding_hnsw ON policy_chunks USING hnsw"
                " (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
            hnsw_seconds = time.perf_counter() - t0
            cur.execute("CREATE INDEX ix_policy_chunks_tsv ON policy_chunks USING gin (tsv)")
            cur.execute("ANALYZE policy_chunks")
        conn.commit()
        console.print(f"(b) HNSW index {hnsw_seconds:.1f} s")
        with conn.cursor() as cur:
            cur.execute(
                "SELECT organization_id, ordinal, id FROM policy_chunks WHERE embedding_model = %s",
                (SYNTHETIC_MODEL,),
            )
            position = {org_id: i for i, org_id in enumerate(org_ids)}
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            chunk_ids = np.zeros(total, dtype=np.int64)
            for org_id, ordinal_, chunk_id in cur.fetchall():
                chunk_ids[starts[position[org_id]] + ordinal_] = chunk_id
    finally:
        raw.close()
    load = {"copy_seconds": round(load_seconds, 1), "hnsw_seconds": round(hnsw_seconds, 1)}
    return Corpus(sizes, org_ids, vectors, clusters, owner, chunk_ids, centers, cluster_words, load)


def load_peer(
    engine: Engine, corpus: Corpus, console: Console
) -> tuple[dict[int, PGVector], float]:
    """The same vectors and texts in PGVector: one collection per organization, HNSW index."""
    # QueryVectors looks up held-out vectors by text: an Embedder by shape, not by type.
    dummy = LangChainEmbeddings(TimedEmbedder(QueryVectors({})))  # type: ignore[arg-type]
    stores: dict[int, PGVector] = {}
    for i, org_id in enumerate(corpus.org_ids):
        stores[i] = PGVector(
            dummy,
            connection=engine,
            embedding_length=EMBEDDING_DIM,
            collection_name=f"org-{org_id}",
            use_jsonb=True,
        )
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        register_vector(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT name, uuid FROM langchain_pg_collection")
            collections = dict(cur.fetchall())
            with cur.copy(
                "COPY langchain_pg_embedding (id, collection_id, embedding, document, cmetadata)"
                " FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["varchar", "uuid", "vector", "varchar", "jsonb"])
                for i in range(len(corpus.vectors)):
                    org_id = corpus.org_ids[int(corpus.owner[i])]
                    copy.write_row(
                        (
                            str(int(corpus.chunk_ids[i])),
                            collections[f"org-{org_id}"],
                            corpus.vectors[i],
                            f"chunk {int(corpus.chunk_ids[i])}",
                            Jsonb({"chunk_id": int(corpus.chunk_ids[i])}),
                        )
                    )
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute(
                "CREATE INDEX ix_langchain_pg_embedding_hnsw ON langchain_pg_embedding"
                " USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
            cur.execute("ANALYZE langchain_pg_embedding")
        conn.commit()
        seconds = time.perf_counter() - t0
        console.print(f"(b) PGVector COPY + HNSW index {seconds:.1f} s")
    finally:
        raw.close()
    return stores, seconds


def make_queries(corpus: Corpus, n: int) -> list[tuple[int, str, np.ndarray]]:
    """(org index, text, vector) spread evenly over the organizations, near their clusters."""
    rng = np.random.default_rng(7)
    queries = []
    orgs = len(corpus.org_ids)
    for q in range(n):
        o = q % orgs
        own = np.flatnonzero(corpus.owner == o)
        cluster = int(corpus.clusters[rng.choice(own)])
        vector = corpus.centers[cluster] + 0.06 * rng.standard_normal(EMBEDDING_DIM).astype(
            np.float32
        )
        vector /= np.linalg.norm(vector)
        words = " ".join(rng.choice(corpus.cluster_words[cluster], size=2, replace=False))
        queries.append((o, f"q{q} {words} leave", vector))
    return queries


def exact_dense(corpus: Corpus, o: int, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The organization's k nearest chunks by brute force (ties broken by id, as search does)."""
    own = np.flatnonzero(corpus.owner == o)
    similarity = corpus.vectors[own] @ vector
    order = np.lexsort((corpus.chunk_ids[own], -similarity))[:k]
    return [(int(corpus.chunk_ids[own[i]]), float(similarity[i])) for i in order]


SIZE_CLASSES = (("large", 5_000), ("medium", 1_000), ("small", 0))
MODES = ("hybrid", "dense", "fts", "previous", "pgvector", "hybrid_rls", "dense_rls")
PREVIOUS_EXACT_MAX_CHUNKS = 20_000


def size_class(chunks: int) -> str:
    """large (≥ 5,000 chunks), medium (1,000–4,999) or small."""
    return next(name for name, floor in SIZE_CLASSES if chunks >= floor)


def exact_fts(
    session: Session, org_id: int, query: str, pool: int, *, full_or: bool = False
) -> list[tuple[int, float]]:
    """Every full-text match of the organization ranked by ts_rank_cd: no cap.

    By default the matches are those of search's plan (the query's selective words) ranked
    by all its words; `full_or` matches every word, as the previous plan did.
    """
    if full_or:
        tsquery = to_tsquery_text(query)
        match = rank = tsquery
    else:
        plan = fts_plan(session, query)
        match, rank = (plan.match, plan.rank) if plan is not None else (None, None)
    if match is None:
        return []
    rows = session.execute(
        text(
            "SELECT id, ts_rank_cd(tsv, to_tsquery('simple', :rank), 1) AS rank"
            " FROM policy_chunks WHERE organization_id = :org"
            " AND tsv @@ to_tsquery('simple', :match)"
            " ORDER BY rank DESC, id LIMIT :k"
        ),
        {"match": match, "rank": rank, "org": org_id, "k": pool},
    ).all()
    return [(int(r.id), float(r.rank)) for r in rows]


def previous_search(
    session: Session, org_id: int, own: int, query: str, vector: np.ndarray, pool: int
) -> list[int]:
    """The search plan before this benchmark's tuning, for a same-run comparison.

    Two statements: exact dense scan up to 20,000 chunks (HNSW with ef_search raised
    above), and full text filtered by organization after a GIN scan of every employer.
    """
    literal = _vector_literal(vector.tolist())
    if own <= PREVIOUS_EXACT_MAX_CHUNKS:
        dense = session.execute(
            text(
                "WITH own AS MATERIALIZED ("
                " SELECT id, embedding <=> CAST(:q AS vector) AS distance"
                " FROM policy_chunks WHERE organization_id = :org)"
                " SELECT id, distance FROM own ORDER BY distance, id LIMIT :k"
            ),
            {"q": literal, "org": org_id, "k": pool},
        ).all()
    else:
        total = session.scalar(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'policy_chunks'::regclass")
        )
        ef = min(1000, max(100, math.ceil(2 * pool / (own / max(int(total or 1), own)))))
        session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)})
        dense = session.execute(
            text(
                "SELECT id, embedding <=> CAST(:q AS vector) AS distance FROM policy_chunks"
                " WHERE organization_id = :org ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
            ),
            {"q": literal, "org": org_id, "k": pool},
        ).all()
    fts = exact_fts(session, org_id, query, pool, full_or=True)
    fused = reciprocal_rank_fusion([[(int(r.id), 1.0 - float(r.distance)) for r in dense], fts])
    ids = [chunk_id for chunk_id, _ in fused[:K]]
    # The citation fetch that search also does, so the timings compare like with like.
    session.execute(
        text(
            "SELECT c.id, c.text, d.title FROM policy_chunks c"
            " JOIN policy_documents d ON d.id = c.document_id"
            " WHERE c.id = ANY(:ids) AND c.organization_id = :org"
        ),
        {"ids": ids, "org": org_id},
    ).all()
    return ids


def _summary(samples: list[float], recall: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "recall_at_5": round(statistics.fmean(recall), 4),
    }


def bench_queries(
    engine: Engine,
    corpus: Corpus,
    stores: dict[int, PGVector],
    n: int,
    console: Console,
    app: Engine,
) -> dict[str, Any]:
    """Latency and recall@5 against exact search, overall and per organization size.

    Ours (hybrid, dense, full text), the previous plan and PGVector, on the same queries;
    hybrid and the previous plan are compared with exact hybrid (exact dense fused with
    every full-text match ranked), dense and PGVector with exact dense, full text with
    exact full text. `engine` is the login role, which row-level security does not bind;
    hybrid and dense search run again on `app`, as the application runs them (its role,
    the transaction told its employer), so the policies' cost shows query by query.
    """
    queries = make_queries(corpus, n)
    embedder = QueryVectors({t: v for _, t, v in queries})
    pool = max(CANDIDATES_PER_RESULT * K, MIN_CANDIDATES)
    samples: dict[tuple[str, str], list[float]] = {}
    recall: dict[tuple[str, str], list[float]] = {}
    small = set(range(len(corpus.org_ids) - 10, len(corpus.org_ids)))  # the 10 smallest
    full_or_recall: list[float] = []  # hybrid against exact hybrid with every word matching

    def record(mode: str, o: int, ms: float, got: float) -> None:
        for key in ("all", size_class(corpus.sizes[o]), "smallest10" if o in small else None):
            if key is not None:
                samples.setdefault((mode, key), []).append(ms)
                recall.setdefault((mode, key), []).append(got)

    with Session(engine) as session, Session(app) as policed:
        for o, query, _ in queries[: len(corpus.org_ids)]:  # warm caches and the buffer pool
            search(session, organization_id=corpus.org_ids[o], query=query, embedder=embedder)
            session.rollback()
            tenancy.act_as(policed, corpus.org_ids[o])
            search(policed, organization_id=corpus.org_ids[o], query=query, embedder=embedder)
            policed.rollback()
        for o, query, vector in queries:
            org_id = corpus.org_ids[o]
            exact_top = exact_dense(corpus, o, vector, pool)
            fts_top = exact_fts(session, org_id, query, pool)
            full_or = exact_fts(session, org_id, query, pool, full_or=True)
            # Fused with search's own weights: equal ones would score a different ranking.
            weights = (1.0, FTS_WEIGHT)
            truths = {
                "full_or_hybrid": {
                    cid
                    for cid, _ in reciprocal_rank_fusion([exact_top, full_or], weights=weights)[:K]
                },
                "dense": {cid for cid, _ in exact_top[:K]},
                "fts": {cid for cid, _ in fts_top[:K]},
                "hybrid": {
                    cid
                    for cid, _ in reciprocal_rank_fusion([exact_top, fts_top], weights=weights)[:K]
                },
            }
            for mode in ("hybrid", "dense", "fts"):
                truth = truths[mode]
                # Under row-level security too (not full text alone): a request's
                # transaction, told its employer first. Which of the two goes first
                # alternates, so neither always finds the other's pages in the cache.
                runs = [(session, mode)] + ([] if mode == "fts" else [(policed, f"{mode}_rls")])
                for own, name in runs if len(samples.get((mode, "all"), [])) % 2 else runs[::-1]:
                    if own is policed:
                        tenancy.act_as(policed, org_id)
                    t0 = time.perf_counter()
                    hits = search(
                        own,
                        organization_id=org_id,
                        query=query,
                        limit=K,
                        mode=mode,  # type: ignore[arg-type]  # one of MODES' search modes
                        embedder=embedder,
                    )
                    ms = (time.perf_counter() - t0) * 1000
                    got = len({h.chunk_id for h in hits} & truth) / max(1, min(K, len(truth)))
                    record(name, o, ms, got)
                    if name == "hybrid":
                        full = truths["full_or_hybrid"]
                        full_or_recall.append(len({h.chunk_id for h in hits} & full) / K)
                    own.rollback()  # search sets ef_search per transaction
            t0 = time.perf_counter()
            ids = previous_search(session, org_id, corpus.sizes[o], query, vector, pool)
            record(
                "previous",
                o,
                (time.perf_counter() - t0) * 1000,
                len(set(ids) & truths["hybrid"]) / K,
            )
            session.rollback()
            t0 = time.perf_counter()
            docs = stores[o].similarity_search_with_score_by_vector(vector.tolist(), k=K)
            ms = (time.perf_counter() - t0) * 1000
            got = len({int(d.metadata["chunk_id"]) for d, _ in docs} & truths["dense"]) / K
            record("pgvector", o, ms, got)
    out: dict[str, Any] = {}
    for mode in MODES:
        out[mode] = _summary(samples[(mode, "all")], recall[(mode, "all")])
        out[mode]["recall_at_5_smallest_10_orgs"] = round(
            statistics.fmean(recall[(mode, "smallest10")]), 4
        )
        out[mode]["by_size"] = {
            name: _summary(samples[(mode, name)], recall[(mode, name)])
            for name, _ in SIZE_CLASSES
            if (mode, name) in samples
        }
    out["queries"] = n
    out["hybrid_recall_at_5_vs_full_or"] = round(statistics.fmean(full_or_recall), 4)
    out["orgs_by_size"] = {
        name: sum(1 for s in corpus.sizes if size_class(s) == name) for name, _ in SIZE_CLASSES
    }
    return out


# -- main ---------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> list[Table]:
    """The results as rich tables."""
    tables = []
    if "ingest" in results:
        ingest = results["ingest"]
        table = Table(
            title=(
                f"(a) Ingest of the handbook: {ingest['chunks']} chunks, {ingest['model']}, "
                f"raw encode {ingest['raw_encode']['chunks_per_s']} chunks/s"
            )
        )
        for column in ("", "chunks/s", "× raw encode", "encode s", "overhead s", "overhead/encode"):
            table.add_column(column, justify="right" if column else "left")
        for name, label in (("ours", "Ajira ingest_text"), ("pgvector", "PGVector.add_texts")):
            row = ingest[name]
            table.add_row(
                label,
                f"{row['chunks_per_s']:.2f}",
                f"{row['ratio_to_raw_encode']:.3f}",
                f"{row['encode_seconds']:.1f}",
                f"{row['overhead_seconds']:.2f}",
                f"{row['overhead_share_of_encode']:.1%}",
            )
        tables.append(table)
    query = results["query"]
    corpus = results["corpus"]
    table = Table(
        title=(
            f"(b) {corpus['chunks']:,} chunks, {corpus['organizations']} organizations "
            f"({corpus['largest']:,} down to {corpus['smallest']} chunks), "
            f"{query['queries']} queries, k={K}"
        )
    )
    for column in ("search", "p50 ms", "p95 ms", "recall@5 vs exact", "… 10 smallest orgs"):
        table.add_column(column, justify="right" if column != "search" else "left")
    for name, label in LABELS:
        row = query[name]
        table.add_row(
            label,
            f"{row['p50_ms']:.2f}",
            f"{row['p95_ms']:.2f}",
            f"{row['recall_at_5']:.3f}",
            f"{row['recall_at_5_smallest_10_orgs']:.3f}",
        )
    tables.append(table)
    counts = query["orgs_by_size"]
    table = Table(
        title=(
            "(b) by organization size: p50 / p95 ms, recall@5 — "
            f"large ≥ 5,000 chunks ({counts['large']} orgs), medium 1,000–4,999 "
            f"({counts['medium']}), small < 1,000 ({counts['small']})"
        )
    )
    table.add_column("search")
    for name, _ in SIZE_CLASSES:
        table.add_column(name, justify="right")
    for name, label in LABELS:
        cells = []
        for size, _ in SIZE_CLASSES:
            row = query[name]["by_size"].get(size)
            cells.append(
                "—"
                if row is None
                else f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}, {row['recall_at_5']:.2f}"
            )
        table.add_row(label, *cells)
    tables.append(table)
    return tables


LABELS = (
    ("hybrid", "Ajira hybrid (vs exact hybrid)"),
    ("dense", "Ajira dense (vs exact dense)"),
    ("fts", "Ajira full text (vs all matches ranked)"),
    ("previous", "previous hybrid plan (vs exact hybrid)"),
    ("pgvector", "PGVector HNSW (vs exact dense)"),
    ("hybrid_rls", "Ajira hybrid, row-level security on"),
    ("dense_rls", "Ajira dense, row-level security on"),
)


def main() -> None:
    """Run both parts on a fresh embedded database and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-ingest", action="store_true", help="Only part (b).")
    parser.add_argument("--json", type=Path, default=None)
    quick_flag(parser, "30,000 chunks, 100 queries, no ingest part")
    args = parser.parse_args()
    if args.quick:
        args.chunks, args.queries, args.skip_ingest = 30_000, 100, True
    if args.json is None:
        args.json = RESULTS.with_name("retrieval-quick.json") if args.quick else RESULTS
    console = Console(highlight=False, width=150)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ajira-bench-") as tmp:
        url = db.start_embedded_postgres(Path(tmp), cleanup_mode="delete")
        # The login role (the owner): it bulk-loads fifty employers and builds indexes,
        # and row-level security does not bind it. `app` is the application's role.
        engine = db.make_engine(url, app_role=None)
        upgrade(engine)
        db.configure_engine(engine)
        app = db.make_engine(url)
        results: dict[str, Any] = {}
        if not args.skip_ingest:
            results["ingest"] = bench_ingest(engine, console)
        corpus = load_corpus(engine, args.chunks, args.orgs, console)
        stores, peer_index_seconds = load_peer(engine, corpus, console)
        results["corpus"] = {
            "chunks": args.chunks,
            "organizations": args.orgs,
            "largest": corpus.sizes[0],
            "smallest": corpus.sizes[-1],
            **corpus.load,
            "pgvector_copy_and_index_seconds": round(peer_index_seconds, 1),
        }
        results["query"] = bench_queries(engine, corpus, stores, args.queries, console, app)
        app.dispose()
        engine.dispose()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    for table in render(results):
        console.print(table)
    console.print(
        "hybrid recall@5 vs exact hybrid with every query word selecting: "
        f"{results['query']['hybrid_recall_at_5_vs_full_or']:.3f}"
    )
    console.print(f"total {results['total_seconds']} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    console.print(f"written to {args.json}")
    write_results("retrieval", summary(results), quick=args.quick, params=results["corpus"])


def summary(results: dict[str, Any]) -> list[Result]:
    """The headline rows for bench/RESULTS.md: Ajira's hybrid search beside PGVector."""
    query, corpus = results["query"], results["corpus"]
    ours, peer = query["hybrid"], query["pgvector"]
    size = f"{corpus['chunks']:,} passages, {corpus['organizations']} employers"
    rows = [
        Result(
            "policy search (hybrid), p50",
            ours["p50_ms"],
            "ms",
            peer="PGVector (HNSW), same queries",
            peer_value=peer["p50_ms"],
            note=f"{size}, {query['queries']} queries",
        ),
        Result(
            "policy search (hybrid), p95",
            ours["p95_ms"],
            "ms",
            peer="aim",
            peer_value=HYBRID_P95_AIM_MS,
            limit=True,
            aim_below=1,
        ),
        Result(
            "policy search (hybrid), recall@5 vs exact",
            ours["recall_at_5"],
            "recall@5",
            peer="PGVector (HNSW), same queries",
            peer_value=peer["recall_at_5"],
        ),
        Result(
            "… in the 10 smallest employers",
            ours["recall_at_5_smallest_10_orgs"],
            "recall@5",
            peer="PGVector (HNSW), same queries",
            peer_value=peer["recall_at_5_smallest_10_orgs"],
        ),
    ]
    policed = query["hybrid_rls"]
    for stat in ("p50", "p95"):
        rows.append(
            Result(
                f"policy search (hybrid) with row-level security, {stat}",
                policed[f"{stat}_ms"],
                "ms",
                peer="the same search as the login role (no policies), same queries",
                peer_value=ours[f"{stat}_ms"],
                note="the policies' cost, with the per-transaction set_config",
            )
        )
    if "ingest" in results:
        ingest = results["ingest"]
        rows.append(
            Result(
                f"ingest of the demo handbook ({ingest['chunks']} passages)",
                ingest["ours"]["chunks_per_s"],
                "passages/s",
                peer="PGVector.add_texts, same passages and model",
                peer_value=ingest["pgvector"]["chunks_per_s"],
            )
        )
    return rows


if __name__ == "__main__":
    main()
