"""Blocks to chunks: sections by heading path, cut at sentence ends, with a little overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from knowledge.parse import Block

MIN_WORDS = 120
MAX_WORDS = 220
OVERLAP_WORDS = 40
QUOTE_WORDS = 25

# A sentence ends at . ! ? (or ;) followed by space and a capital, digit or quote;
# common abbreviations (e.g., i.e., No.) do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'“‘(\[]?[A-Z0-9ÀÁÂÄÉÈÊËÍÎÏÓÔÖÚÛÜ])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "No.", "Mr.", "Mrs.", "Ms.", "Dr.", "Cap.", "Art.", "s.")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage to embed and store, with its place in the document."""

    ordinal: int
    heading_path: tuple[str, ...]
    text: str

    @property
    def quote(self) -> str:
        """The first words of the passage, for citations."""
        return make_quote(self.text)


def make_quote(text: str, words: int = QUOTE_WORDS) -> str:
    """The first `words` words of `text`, with an ellipsis when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping abbreviations whole."""
    pieces = _SENTENCE_END.split(text.strip())
    sentences: list[str] = []
    for piece in pieces:
        if sentences and sentences[-1].endswith(_ABBREVIATIONS):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    out: list[str] = []
    for sentence in sentences:
        out.extend(_split_long(sentence))
    return [s for s in out if s]


def _split_long(sentence: str) -> list[str]:
    # A run-on "sentence" longer than a chunk (a table, a list without stops) is cut by words.
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return [sentence]
    step = MAX_WORDS - OVERLAP_WORDS
    return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]


def _words(text: str) -> int:
    return len(text.split())


def chunk_blocks(
    blocks: list[Block],
    *,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
    overlap_words: int = OVERLAP_WORDS,
) -> list[Chunk]:
    """Chunks of at most `max_words` words that never cross a heading.

    A section that fits stays whole. A longer one is cut at a paragraph end once a
    chunk has `min_words`, otherwise at a sentence end, and the next chunk repeats
    the last sentence or two (up to `overlap_words`) so no answer is cut in half.
    """
    chunks: list[Chunk] = []
    for path, group in groupby(blocks, key=lambda b: b.heading_path):
        paragraphs = [split_sentences(b.text) for b in group]
        for text in _chunk_section(paragraphs, min_words, max_words, overlap_words):
            chunks.append(Chunk(len(chunks), path, text))
    return chunks


def _chunk_section(
    paragraphs: list[list[str]], min_words: int, max_words: int, overlap_words: int
) -> list[str]:
    # Each sentence carries whether it closes its paragraph: the preferred cut points.
    sentences = [
        (sentence, i == len(para) - 1) for para in paragraphs for i, sentence in enumerate(para)
    ]
    if sum(_words(s) for s, _ in sentences) <= max_words:
        return [" ".join(s for s, _ in sentences)] if sentences else []
    out: list[str] = []
    current: list[tuple[str, bool]] = []
    fresh = 0  # sentences in `current` that are not overlap from the previous chunk
    size = 0
    for sentence, ends_paragraph in sentences:
        n = _words(sentence)
        if current and fresh and size + n > max_words:
            out.append(" ".join(s for s, _ in current))
            current = _overlap(current, overlap_words, n, max_words)
            size = sum(_words(s) for s, _ in current)
            fresh = 0
        current.append((sentence, ends_paragraph))
        size += n
        fresh += 1
        if ends_paragraph and size >= min_words:
            out.append(" ".join(s for s, _ in current))
            current = _overlap(current, overlap_words, 0, max_words)
            size = sum(_words(s) for s, _ in current)
            fresh = 0
    if fresh:
        out.append(" ".join(s for s, _ in current))
    return out


def _overlap(
    current: list[tuple[str, bool]], overlap_words: int, incoming: int, max_words: int
) -> list[tuple[str, bool]]:
    """The last one or two sentences of a chunk, if they fit beside what comes next."""
    kept: list[tuple[str, bool]] = []
    size = 0
    for sentence, ends in reversed(current[-2:]):
        n = _words(sentence)
        if size + n > overlap_words or size + n + incoming > max_words:
            break
        kept.insert(0, (sentence, ends))
        size += n
    return kept
