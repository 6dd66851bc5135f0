"""Text helpers for the offline model: normalising, tokens, tolerant keyword matching."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Lower case, accents and curly quotes removed, dashes unified, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    return _SPACES.sub(" ", text.lower()).strip()


def tokens(text: str) -> list[str]:
    """Words of an already normalised text, apostrophes kept inside words ("i'm")."""
    return _TOKEN.findall(text)


def _within_one(a: str, b: str) -> bool:
    """True when `a` and `b` differ by at most one edit (insert, delete, swap or substitute)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        # A transposition of neighbours is one typo, not two.
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def word_matches(token: str, word: str) -> bool:
    """Exact for short words; one typo allowed from five letters on."""
    if len(word) < 5:
        return token == word
    return _within_one(token, word)


def phrase_at(words: list[str], phrase: str) -> int | None:
    """Where the consecutive words of `phrase` first occur in `words` (typos tolerated per
    word), or None."""
    parts = phrase.split()
    n = len(parts)
    for start in range(len(words) - n + 1):
        if all(word_matches(words[start + k], parts[k]) for k in range(n)):
            return start
    return None


def has_phrase(words: list[str], phrase: str) -> bool:
    """Whether the consecutive words of `phrase` occur in `words`, typos tolerated per word."""
    return phrase_at(words, phrase) is not None


def has_any(words: list[str], phrases: tuple[str, ...] | list[str]) -> bool:
    """Whether any of `phrases` occurs in `words`."""
    return any(has_phrase(words, phrase) for phrase in phrases)
