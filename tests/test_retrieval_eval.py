"""The retrieval eval: question labels stay valid, the figures are computed right."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk
from knowledge.embeddings import E5Embedder
from knowledge.evaluate import (
    Answer,
    CachedEmbedder,
    Question,
    answers_chunk,
    first_relevant_rank,
    load_questions,
    run_eval,
    score,
)
from knowledge.handbook import seed_handbook
from knowledge.search import SearchHit, search
from tests.factories import make_org
from tests.knowledge_fixtures import CountingEmbedder

MATERNITY_EN = "how many days of maternity leave do I get?"
MATERNITY_SW = "likizo ya uzazi ni siku ngapi?"
MATERNITY_SECTION = ["Leave Policy", "Maternity leave (Likizo ya uzazi)"]
SUBSET_FILES = ("leave-policy.md", "working-hours-and-attendance.md", "overtime-policy.md")
SUBSET_IDS = (
    "q001", "q098", "q002", "q007", "q009", "q018", "q031", "q034", "q044", "q100", "q103", "q111",
)  # fmt: skip


def test_the_question_set_is_large_bilingual_and_paraphrased() -> None:
    questions = load_questions()
    assert len(questions) >= 80
    assert len({q.id for q in questions}) == len(questions)
    assert sum(q.lang == "sw" for q in questions) >= len(questions) / 4
    assert sum(q.kind == "paraphrase" for q in questions) >= 20
    texts = {q.question for q in questions}
    assert {MATERNITY_EN, MATERNITY_SW} <= texts
    assert all(q.answers for q in questions)


def test_every_label_names_a_chunk_that_exists_after_ingest(session: Session) -> None:
    org = make_org(session)
    documents = seed_handbook(session, org.id, embedder=CountingEmbedder())
    filenames = {d.id: d.filename for d in documents}
    chunks = session.execute(
        select(PolicyChunk.document_id, PolicyChunk.heading_path, PolicyChunk.text).where(
            PolicyChunk.organization_id == org.id
        )
    ).all()

    missing = [
        (q.id, answer)
        for q in load_questions()
        for answer in q.answers
        if not any(
            answers_chunk(
                answer, filename=filenames[c.document_id], heading_path=c.heading_path, text=c.text
            )
            for c in chunks
        )
    ]
    assert missing == []


ANSWER = Answer("leave-policy.md", ("Leave Policy", "Maternity leave"), "90 calendar days")
TEXT = "A female employee is entitled to **three months (90 calendar\ndays) of maternity leave**."


@pytest.mark.parametrize(
    ("filename", "heading_path", "text", "expected"),
    [
        ("leave-policy.md", ["Leave Policy", "Maternity leave"], TEXT, True),
        # A chunker that leaves the title out of the path, or cuts deeper, still matches.
        ("leave-policy.md", ["Maternity leave"], TEXT, True),
        ("leave-policy.md", ["Leave Policy", "Maternity leave", "Notice"], TEXT, True),
        ("other.md", ["Leave Policy", "Maternity leave"], TEXT, False),
        ("leave-policy.md", ["Leave Policy", "Paternity leave"], TEXT, False),
        ("leave-policy.md", ["Leave Policy", "Maternity leave"], "Three months.", False),
    ],
)
def test_a_label_matches_only_its_own_passage(
    filename: str, heading_path: list[str], text: str, expected: bool
) -> None:
    assert (
        answers_chunk(ANSWER, filename=filename, heading_path=heading_path, text=text) is expected
    )


def _hit(rank: int, heading: str, text: str) -> SearchHit:
    return SearchHit(rank, 7, "Leave Policy", ["Leave Policy", heading], text, text, 0.5, rank)


def test_ranks_and_figures() -> None:
    question = Question("q", "en", "direct", "maternity?", (ANSWER,))
    hits = [_hit(1, "Sick leave", "14 days"), _hit(2, "Maternity leave", TEXT)]
    assert first_relevant_rank(question, hits, {7: "leave-policy.md"}) == 2
    assert first_relevant_rank(question, hits[:1], {7: "leave-policy.md"}) is None

    figures = score([1, 2, None, 6])
    assert figures.questions == 4
    assert figures.recall_at_1 == 0.25
    assert figures.recall_at_5 == 0.5
    assert figures.mrr == pytest.approx((1 + 1 / 2 + 1 / 6) / 4)


class _Counting(CountingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)


def test_the_embedding_cache_serves_repeats_from_disk(tmp_path: Path) -> None:
    inner = _Counting()
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.embed_documents(["a passage", "another one"])
    query = cached.embed_query("a question")

    again = CachedEmbedder(inner, tmp_path)  # a new process would see the same files
    assert again.embed_documents(["another one", "a passage"]) == [first[1], first[0]]
    assert again.embed_query("a question") == query
    assert (inner.passages, inner.queries) == (2, 1)
    assert (again.hits, again.misses) == (3, 0)
    # Another model never reads this one's vectors.
    other = _Counting()
    other.model_name = "test/other"
    CachedEmbedder(other, tmp_path).embed_documents(["a passage"])
    assert other.passages == 1


def test_the_eval_on_a_subset_gives_sane_figures_and_finds_maternity(session: Session) -> None:
    by_id = {q.id: q for q in load_questions()}
    questions = [by_id[i] for i in SUBSET_IDS]
    assert {MATERNITY_EN, MATERNITY_SW} <= {q.question for q in questions}
    # The real model, its vectors cached on disk: only a first run pays for embedding.
    embedder = CachedEmbedder(E5Embedder())

    result = run_eval(session, questions=questions, embedder=embedder, files=SUBSET_FILES)

    assert result.documents == 3
    assert result.chunks > 20
    for mode in ("dense", "fts", "hybrid"):
        fig = result.figure(mode)
        assert fig.questions == 12
        assert 0 <= fig.recall_at_1 <= fig.recall_at_5 <= 1
        assert fig.recall_at_1 <= fig.mrr <= fig.recall_at_5 + (1 - fig.recall_at_5) / 6
    assert result.figure("hybrid", "sw").questions == 4
    hybrid, dense, fts = (result.figure(m).recall_at_5 for m in ("hybrid", "dense", "fts"))
    assert hybrid >= min(dense, fts)
    assert hybrid >= 0.75
    maternity_ranks = [
        result.rank(q.id, "hybrid") for q in questions if q.question in (MATERNITY_EN, MATERNITY_SW)
    ]
    assert len(maternity_ranks) == 2
    assert all(rank is not None and rank <= 5 for rank in maternity_ranks)
    # Both languages reach the same passage, first: the maternity section.
    for query in (MATERNITY_EN, MATERNITY_SW):
        hits = search(
            session, organization_id=result.organization_id, query=query, embedder=embedder
        )
        assert hits[0].heading_path == MATERNITY_SECTION, (query, hits[0].heading_path)
