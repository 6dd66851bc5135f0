"""Retrieval eval: the demo handbook's question set, scored in dense, full-text and hybrid modes.

Each question names the passage that answers it by document filename, heading path and
a phrase the passage contains, never by chunk id, so the labels survive re-chunking.
The handbook is ingested into a throwaway organization inside a transaction that is
rolled back, so the eval never leaves anything behind.

    ajira eval-retrieval            # or: python -m knowledge.evaluate
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk
from hrcore.people.models import Organization
from hrcore.people.service import create_organization
from knowledge.embeddings import CachedEmbedder
from knowledge.handbook import HANDBOOK_DIR, seed_handbook
from knowledge.search import Embedder, Mode, SearchHit, get_embedder, search

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

QUESTIONS_PATH = Path(__file__).parent / "eval" / "questions.jsonl"
MODES: tuple[Mode, ...] = ("dense", "fts", "hybrid")
GROUPS = ("all", "en", "sw", "paraphrase")
#: Hits fetched per question: recall@5 needs five, MRR looks a little further.
DEPTH = 10

_MARKUP = re.compile(r"[*_`]")
_SPACE = re.compile(r"\s+")


# -- questions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A passage that answers a question: its file, heading path and a phrase in it."""

    file: str
    heading_path: tuple[str, ...]
    phrase: str


@dataclass(frozen=True)
class Question:
    """One labelled question; any of its answers counts as found."""

    id: str
    lang: str
    kind: str
    question: str
    answers: tuple[Answer, ...]

    def in_group(self, group: str) -> bool:
        """Whether the question counts toward a row of the table ("all", a language, a kind)."""
        return group == "all" or group in (self.lang, self.kind)


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """Read the question set (JSON lines)."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        answers = tuple(
            Answer(a["file"], tuple(a["heading_path"]), a["phrase"]) for a in item["answers"]
        )
        questions.append(
            Question(item["id"], item["lang"], item["kind"], item["question"], answers)
        )
    return questions


def normalise(text: str) -> str:
    """Lower case, Markdown emphasis dropped, whitespace collapsed: how labels are compared."""
    return _SPACE.sub(" ", _MARKUP.sub("", text.replace("’", "'"))).strip().lower()


def answers_chunk(answer: Answer, *, filename: str, heading_path: Sequence[str], text: str) -> bool:
    """Whether a stored chunk is (part of) the passage an answer names.

    The chunk must come from the answer's file, contain its phrase, and sit in its
    section: the chunk's heading path and the answer's must agree as far as both go,
    so a chunker that merges or splits sections differently still matches.
    """
    if filename != answer.file or normalise(answer.phrase) not in normalise(text):
        return False
    expected = [normalise(h) for h in answer.heading_path]
    found = [normalise(h) for h in heading_path]
    # The document title (the single # heading) may or may not start a chunk's path.
    if expected and found and found[0] == expected[0]:
        found = found[1:]
    expected = expected[1:]
    common = min(len(found), len(expected))
    return found[:common] == expected[:common]


# -- the eval ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Recall@1, recall@5 and mean reciprocal rank (over the top 10) of a set of questions."""

    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float


@dataclass(frozen=True)
class QuestionResult:
    """Where the first answering passage ranked for one question in one mode (None: not found)."""

    question_id: str
    mode: str
    rank: int | None


@dataclass
class RetrievalEval:
    """The eval's outcome: figures per (mode, group) and each question's rank."""

    model: str
    organization_id: int
    documents: int
    chunks: int
    figures: dict[tuple[str, str], Figures] = field(default_factory=dict)
    results: list[QuestionResult] = field(default_factory=list)

    def figure(self, mode: str, group: str = "all") -> Figures:
        """The figures of one mode for one group of questions."""
        return self.figures[(mode, group)]

    def rank(self, question_id: str, mode: str) -> int | None:
        """The rank of the first answering passage for a question in a mode."""
        for result in self.results:
            if result.question_id == question_id and result.mode == mode:
                return result.rank
        raise KeyError((question_id, mode))

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary (figures only)."""
        return {
            "model": self.model,
            "documents": self.documents,
            "chunks": self.chunks,
            "figures": [
                {"mode": mode, "group": group, **vars(fig)}
                for (mode, group), fig in self.figures.items()
            ],
        }


def score(ranks: Iterable[int | None]) -> Figures:
    """Recall@1, recall@5 and MRR from the ranks of the first relevant hit."""
    ranks = list(ranks)
    n = len(ranks)
    if n == 0:
        return Figures(0, 0.0, 0.0, 0.0)
    return Figures(
        questions=n,
        recall_at_1=sum(1 for r in ranks if r is not None and r <= 1) / n,
        recall_at_5=sum(1 for r in ranks if r is not None and r <= 5) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
    )


def first_relevant_rank(
    question: Question, hits: Sequence[SearchHit], filenames: dict[int, str]
) -> int | None:
    """The 1-based rank of the first hit that answers the question, or None."""
    for position, hit in enumerate(hits, start=1):
        filename = filenames.get(hit.document_id, "")
        if any(
            answers_chunk(a, filename=filename, heading_path=hit.heading_path, text=hit.text)
            for a in question.answers
        ):
            return position
    return None


def ingest_handbook(
    session: Session,
    organization_id: int,
    *,
    embedder: Embedder,
    files: Iterable[str] | None = None,
) -> dict[int, str]:
    """Ingest the handbook (or some of its files); return document id -> filename."""
    documents = seed_handbook(session, organization_id, embedder=embedder, files=files)
    return {document.id: document.filename for document in documents}


def make_eval_organization(session: Session) -> Organization:
    """A throwaway employer for the eval (the caller rolls it back); `session` acts for it,
    so the eval searches through the same row-level security as the assistant."""
    return create_organization(
        session,
        slug=f"retrieval-eval-{uuid.uuid4().hex[:12]}",
        name="Retrieval eval (Jua Kali Foods handbook)",
        country="KE",
        timezone="Africa/Nairobi",
        currency="KES",
    )


def run_eval(
    session: Session,
    *,
    questions: Sequence[Question] | None = None,
    modes: Sequence[Mode] = MODES,
    embedder: Embedder | None = None,
    files: Iterable[str] | None = None,
) -> RetrievalEval:
    """Ingest the handbook into a new organization in `session` and score every question.

    Writes to `session` without committing; callers roll it back. `files` limits the
    handbook to some documents (tests); questions answered only elsewhere then miss.
    """
    questions = list(questions if questions is not None else load_questions())
    embedder = embedder or CachedEmbedder(get_embedder())
    org = make_eval_organization(session)
    filenames = ingest_handbook(session, org.id, embedder=embedder, files=files)
    chunks = session.scalar(select(func.count()).where(PolicyChunk.organization_id == org.id))
    result = RetrievalEval(
        model=embedder.model_name,
        organization_id=org.id,
        documents=len(filenames),
        chunks=int(chunks or 0),
    )
    for mode in modes:
        for question in questions:
            hits = search(
                session,
                organization_id=org.id,
                query=question.question,
                limit=DEPTH,
                mode=mode,
                embedder=embedder,
            )
            rank = first_relevant_rank(question, hits, filenames)
            result.results.append(QuestionResult(question.id, mode, rank))
    by_id = {q.id: q for q in questions}
    for mode in modes:
        mode_results = [r for r in result.results if r.mode == mode]
        for group in GROUPS:
            ranks = [r.rank for r in mode_results if by_id[r.question_id].in_group(group)]
            if ranks:
                result.figures[(mode, group)] = score(ranks)
    return result


def render(result: RetrievalEval) -> Table:
    """The figures as a rich table: one row per mode and group of questions."""
    from rich.table import Table

    table = Table(
        title=(
            f"Retrieval eval: {result.documents} documents, {result.chunks} chunks, "
            f"model {result.model}"
        )
    )
    for column in ("mode", "questions", "n", "recall@1", "recall@5", "MRR"):
        table.add_column(column, justify="left" if column in ("mode", "questions") else "right")
    for (mode, group), fig in result.figures.items():
        table.add_row(
            mode,
            group,
            str(fig.questions),
            f"{fig.recall_at_1:.3f}",
            f"{fig.recall_at_5:.3f}",
            f"{fig.mrr:.3f}",
        )
    return table


def main(
    *, json_path: Path | None = None, cache_dir: Path | None = None, show_misses: bool = False
) -> RetrievalEval:
    """Run the eval on the configured database inside a rolled-back transaction; print it."""
    from rich.console import Console

    from hrcore.db import get_engine

    console = Console(highlight=False)
    embedder = CachedEmbedder(get_embedder(), cache_dir)
    engine = get_engine()
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            with console.status("Ingesting the handbook and asking the questions…"):
                result = run_eval(session, embedder=embedder)
        finally:
            session.close()
            transaction.rollback()
    console.print(render(result))
    console.print(
        f"{len(load_questions())} questions; passage embeddings from cache: "
        f"{embedder.hits} hits, {embedder.misses} computed ({embedder.directory})"
    )
    if show_misses:
        _print_misses(console, result)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    return result


def _print_misses(console: Console, result: RetrievalEval) -> None:
    by_id = {q.id: q for q in load_questions()}
    for item in result.results:
        if item.rank is None or item.rank > 5:
            question = by_id[item.question_id].question
            console.print(f"  {item.mode:6} {item.question_id} rank={item.rank}: {question}")


__all__ = [
    "HANDBOOK_DIR",
    "Answer",
    "CachedEmbedder",
    "Figures",
    "Question",
    "QuestionResult",
    "RetrievalEval",
    "answers_chunk",
    "load_questions",
    "main",
    "run_eval",
]


if __name__ == "__main__":
    main(show_misses=True)
