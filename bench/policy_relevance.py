"""Where to cut: how close the best passage is for questions the handbook answers, and not.

The handbook's labelled questions (knowledge/eval/questions.jsonl) against questions it
does not cover (below: other HR topics it is silent on, and things that are not HR at
all). For each, the best passage's cosine similarity; then, for each candidate
threshold, how many answerable questions would be refused and how many unanswerable
ones would get a passage anyway.

    python bench/policy_relevance.py
"""

from __future__ import annotations

import statistics

from _common import fresh_database, percentile
from sqlalchemy.orm import Session

from knowledge.embeddings import CachedEmbedder, get_embedder
from knowledge.evaluate import ingest_handbook, load_questions, make_eval_organization
from knowledge.search import ANSWER_SIMILARITY, search

UNCOVERED = [
    "Can you lend me 2000 shillings until Friday?",
    "What is the weather in Nairobi tomorrow?",
    "Who won the football match last night?",
    "How do I buy airtime with M-Pesa?",
    "What is the capital of Tanzania?",
    "Can I bring my dog to the office?",
    "Does the company pay for gym membership?",
    "Is there a staff bus from Rongai?",
    "What is the company's policy on tattoos?",
    "Can I park my motorbike inside the compound?",
    "Does the canteen serve vegetarian food?",
    "Is there a bonus at the end of the year?",
    "Naweza kukopa pesa kutoka kwa kampuni?",
    "Hali ya hewa itakuwaje kesho?",
    "Kuna basi la wafanyakazi?",
    "Tunapata bonasi mwisho wa mwaka?",
    "Je, kampuni inalipia chakula cha mchana?",
    "Nani atashinda mechi ya leo?",
    "tell me a joke",
    "What is the stock price of Safaricom?",
]


def best_similarity(
    session: Session, org_id: int, question: str, embedder: CachedEmbedder
) -> float:
    hits = search(session, organization_id=org_id, query=question, limit=5, embedder=embedder)
    values = [h.similarity for h in hits if h.similarity is not None]
    return max(values, default=0.0)


def main() -> None:
    embedder = CachedEmbedder(get_embedder())
    with fresh_database() as engine, Session(engine) as session:
        org = make_eval_organization(session)
        ingest_handbook(session, org.id, embedder=embedder)
        covered = [best_similarity(session, org.id, q.question, embedder) for q in load_questions()]
        uncovered = [best_similarity(session, org.id, q, embedder) for q in UNCOVERED]
        session.rollback()
    print(
        f"covered:   n={len(covered)} min={min(covered):.3f} p5={percentile(covered, 5):.3f} "
        f"median={statistics.median(covered):.3f}"
    )
    print(
        f"uncovered: n={len(uncovered)} max={max(uncovered):.3f} "
        f"p95={percentile(uncovered, 95):.3f} median={statistics.median(uncovered):.3f}"
    )
    print("| threshold | covered refused | uncovered answered |")
    print("|---|---|---|")
    for step in range(76, 88):
        cut = step / 100
        refused = sum(1 for v in covered if v < cut) / len(covered)
        answered = sum(1 for v in uncovered if v >= cut) / len(uncovered)
        mark = " (used)" if abs(cut - ANSWER_SIMILARITY) < 1e-9 else ""
        print(f"| {cut:.2f}{mark} | {refused:.1%} | {answered:.1%} |")


if __name__ == "__main__":
    main()
