"""Test helpers for the knowledge tests: a tiny bilingual handbook and a cached embedder."""

from __future__ import annotations

from knowledge.embeddings import E5Embedder

_cache: dict[tuple[bool, str], list[float]] = {}
_model = E5Embedder()


class CachedE5:
    """The real e5 model, each text embedded once per test run (the model is slow)."""

    model_name = _model.model_name
    dimension = _model.dimension

    def __init__(self) -> None:
        self.passages_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if (False, t) not in _cache]
        if missing:
            for text, vector in zip(missing, _model.embed_documents(missing), strict=True):
                _cache[(False, text)] = vector
        self.passages_embedded += len(texts)
        return [_cache[(False, t)] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if (True, text) not in _cache:
            _cache[(True, text)] = _model.embed_query(text)
        return _cache[(True, text)]


class FixedEmbedder:
    """A stand-in model for tests about storage, not meaning: vectors chosen by the test."""

    def __init__(
        self, model_name: str = "test/fixed", vectors: dict[str, list[float]] | None = None
    ) -> None:
        self.model_name = model_name
        self.dimension = 384
        self.vectors = vectors or {}

    def _vector(self, text: str) -> list[float]:
        if text in self.vectors:
            return self.vectors[text]
        # A deterministic unit vector per text, so different texts differ.
        seed = sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 383
        vector = [0.0] * 384
        vector[seed] = 1.0
        vector[383] = 0.5
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


HANDBOOK = """\
# Leave Policy

## Maternity leave

A female employee is entitled to three months of maternity leave with full pay, in
addition to her annual leave. She should give at least seven days' notice in writing
before proceeding on maternity leave.

## Paternity leave

A male employee is entitled to two weeks of paternity leave with full pay when his
child is born. He should apply through his supervisor.

## Annual leave

Every employee earns twenty-one working days of annual leave with full pay for each
year of service. Up to five unused days may be carried over to the next year.

## Sick leave

After two consecutive months of service, an employee is entitled to seven days of sick
leave with full pay and seven more days with half pay in each year, on production of a
medical certificate.

# Sera ya Likizo

## Likizo ya uzazi

Mfanyakazi mwanamke ana haki ya likizo ya uzazi ya miezi mitatu yenye malipo kamili.
Anapaswa kutoa taarifa ya maandishi angalau siku saba kabla ya kuanza likizo.

## Saa za kazi

Saa za kazi ni kuanzia saa mbili asubuhi hadi saa kumi na moja jioni, Jumatatu hadi
Ijumaa. Mfanyakazi anayechelewa zaidi ya dakika kumi atarekodiwa kuwa amechelewa.

# Pay and expenses

## Overtime

Hours worked beyond the normal working week are paid at one and a half times the
hourly rate on weekdays and twice the hourly rate on Sundays and public holidays.

## Travel expenses

Employees travelling on company business are reimbursed for bus fares and meals on
presentation of receipts within thirty days of the trip.
"""


class CountingEmbedder:
    """Cheap deterministic vectors; counts how many passages it was asked to embed."""

    model_name = "test/counting"
    dimension = 384

    def __init__(self) -> None:
        self.passages = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.passages += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> list[float]:
        vector = [0.0] * 384
        vector[sum(map(ord, text)) % 384] = 1.0
        return vector


#: A two-section leave policy, as an HR officer would upload it.
LEAVE_POLICY = b"""# Leave policy

## Maternity leave

Female employees get 90 calendar days of maternity leave on full pay.

## Paternity leave

Male employees get 14 calendar days of paternity leave on full pay.
"""
