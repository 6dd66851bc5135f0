"""Policy tools: search the employer's own policy documents, with citations."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hrcore.actor import Permission
from hrcore.errors import Conflict
from knowledge.search import answers, search
from knowledge.service import has_ready_documents
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

NO_DOCUMENTS = (
    "No policy documents have been added yet; ask hr (the ask_hr tool) or try again later."
)

NOTHING_FOUND = (
    "No passage of the policy documents matches this question; "
    "say so and offer to ask hr (the ask_hr tool)."
)


class SearchPolicyArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"query": "How long is paternity leave?", "limit": 5}]}
    )

    query: str = Field(
        min_length=1,
        max_length=500,
        description="The question or keywords, in the user's words (English or Swahili).",
    )
    limit: int = Field(default=5, ge=1, le=10, description="At most this many passages.")


class PolicyPassage(BaseModel):
    document_title: str
    heading_path: list[str] = Field(
        description="The headings above the passage, outermost first, e.g. ['Leave', 'Paternity']."
    )
    quote: str = Field(description="The passage, word for word.")
    score: float = Field(description="Relevance, higher is better.")


class PolicyCitation(BaseModel):
    number: int = Field(description="The [n] marker to put after a sentence that uses it.")
    document_title: str
    heading_path: list[str]


class PolicySearchResult(ToolResult):
    results: list[PolicyPassage]
    citations: list[PolicyCitation]
    answers: bool = Field(
        default=False,
        description="Whether the best passage is close enough to the question to answer it. "
        "When false, say the policy documents do not cover it and offer to ask hr.",
    )


@tool_spec(name="search_policy", permission=Permission.POLICY_READ)
def search_policy(ctx: ToolContext, args: SearchPolicyArgs) -> PolicySearchResult:
    """Search the employer's policy documents (leave, pay, conduct, benefits...) for passages.

    Use it for any question about the employer's rules, e.g. "how long is paternity
    leave?". Answer only from the quotes returned and cite them; if nothing is found, or
    `answers` is false, say the documents do not cover it and offer to ask hr.
    """
    organization_id = ctx.actor.organization_id
    if not has_ready_documents(ctx.session, organization_id=organization_id):
        return PolicySearchResult(summary=NO_DOCUMENTS, results=[], citations=[])
    try:
        hits = search(
            ctx.session, organization_id=organization_id, query=args.query, limit=args.limit
        )
    except Conflict as exc:
        if exc.code != "embeddings_outdated":
            raise
        # Until `ajira reembed` has run, words still find passages; meaning does not.
        hits = search(
            ctx.session,
            organization_id=organization_id,
            query=args.query,
            limit=args.limit,
            mode="fts",
        )
    if not hits:
        return PolicySearchResult(summary=NOTHING_FOUND, results=[], citations=[])
    results = [
        PolicyPassage(
            document_title=hit.document_title,
            heading_path=hit.heading_path,
            quote=hit.text,
            score=round(hit.score, 4),
        )
        for hit in hits
    ]
    citations = [
        PolicyCitation(number=n, document_title=hit.document_title, heading_path=hit.heading_path)
        for n, hit in enumerate(hits, start=1)
    ]
    lines = [
        f'[{c.number}] {" › ".join([c.document_title, *c.heading_path])}: "{hit.quote}"'
        for c, hit in zip(citations, hits, strict=True)
    ]
    relevant = answers(hits)
    lead = (
        f"Found {len(hits)} passage(s) in the policy documents:\n"
        if relevant
        else "The policy documents do not seem to cover this; the nearest passages:\n"
    )
    summary = lead + "\n".join(lines)
    return PolicySearchResult(
        summary=summary, results=results, citations=citations, answers=relevant
    )
