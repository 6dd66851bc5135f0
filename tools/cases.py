"""Hand-off tools: pass a question to a person in hr, list the cases, and answer them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from hrcore.actor import Channel, Permission
from hrcore.cases import service as cases
from hrcore.cases.models import CaseStatus, HRCase
from hrcore.pagination import MAX_PAGE
from hrcore.people.service import names_of
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

CaseStatusName = Literal["open", "answered", "closed"]
QUOTE_CHARS = 80


class HRCaseItem(ToolResult):
    case_id: int
    employee_id: int = Field(description="Who asked.")
    employee_name: str
    channel: Channel = Field(description="Where the question was asked; the answer goes there.")
    question: str
    conversation_context: str | None = Field(
        description="The excerpt of the conversation sent with it."
    )
    status: CaseStatus = Field(description="open (waiting for hr), answered or closed.")
    answer: str | None = Field(description="hr's answer; null until answered.")
    answered_by_id: int | None
    answered_by_name: str | None
    answered_at: datetime | None = Field(description="When it was answered (UTC).")
    closed_at: datetime | None = Field(description="When it was closed (UTC).")
    created_at: datetime = Field(description="When it was asked (UTC).")


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def _describe(case: HRCase, asker: str) -> str:
    head = f"Case #{case.id} from {asker} ({case.status}): “{_quote(case.question)}”"
    if case.status == CaseStatus.ANSWERED and case.answer:
        head += f" Answer: “{_quote(case.answer)}”"
    return head


def _items(ctx: ToolContext, rows: list[HRCase]) -> list[HRCaseItem]:
    names = names_of(
        ctx.session, ctx.actor, [r.employee_id for r in rows] + [r.answered_by_id for r in rows]
    )
    return [
        HRCaseItem(
            summary=_describe(case, names.get(case.employee_id, "an employee")),
            case_id=case.id,
            employee_id=case.employee_id,
            employee_name=names.get(case.employee_id, ""),
            channel=case.channel,
            question=case.question,
            conversation_context=case.context,
            status=case.status,
            answer=case.answer,
            answered_by_id=case.answered_by_id,
            answered_by_name=names.get(case.answered_by_id) if case.answered_by_id else None,
            answered_at=case.answered_at,
            closed_at=case.closed_at,
            created_at=case.created_at,
        )
        for case in rows
    ]


def _item(ctx: ToolContext, case: HRCase) -> HRCaseItem:
    (item,) = _items(ctx, [case])
    return item


class AskHrArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "Can my contract be renewed for two years instead of one?",
                    "conversation_context": "The policy search found nothing on contract length.",
                }
            ]
        }
    )

    question: str = Field(
        min_length=1,
        max_length=cases.MAX_QUESTION,
        description="The user's question for hr, in their own words, complete enough to "
        "answer without the conversation.",
    )
    # Not called `context`: that is the agent runtime's name for the identity it injects.
    conversation_context: str | None = Field(
        default=None,
        max_length=cases.MAX_CONTEXT,
        description="A short gist of the conversation so far that helps hr answer (what was "
        "already looked up, what was unclear). Optional.",
    )


@tool_spec(name="ask_hr", permission=Permission.HR_CASE_OPEN, changes_state=True)
def ask_hr(ctx: ToolContext, args: AskHrArgs) -> HRCaseItem:
    """Pass the user's question to a person in hr, who answers on the same channel later.

    Use it when the policy documents do not answer a question, or when the user asks for
    a person. Offer it first; call it when the user agrees or asks for it.
    """
    case = cases.open_case(
        ctx.session, ctx.actor, question=args.question, context=args.conversation_context
    )
    item = _item(ctx, case)
    item.summary = (
        f"Your question is with hr (case #{case.id}). They will answer you here: "
        f"“{_quote(case.question)}”"
    )
    return item


class ListHrCasesArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "open", "limit": 10}]})

    status: CaseStatusName | None = Field(
        default=None, description="Only cases with this status; empty for all."
    )
    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description="At most this many.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many cases.")


class HRCaseList(ToolResult):
    cases: list[HRCaseItem]


@tool_spec(name="list_hr_cases", permission=Permission.HR_CASE_OPEN)
def list_hr_cases(ctx: ToolContext, args: ListHrCasesArgs) -> HRCaseList:
    """List questions handed to hr, newest first, with their status and answer.

    Employees see their own questions; hr and admin the whole organization's. Use status
    'open' to find the questions still waiting for an answer.
    """
    rows = cases.list_cases(ctx.session, ctx.actor, **args.model_dump())
    items = _items(ctx, rows)
    count = f"{len(items)} case{'' if len(items) == 1 else 's'}"
    summary = count + (":\n" + "\n".join(i.summary for i in items) if items else ".")
    return HRCaseList(summary=summary, cases=items)


class AnswerHrCaseArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"case_id": 1, "answer": "Yes: two-year renewals are possible. I'll call you."}
            ]
        }
    )

    case_id: int = Field(gt=0, description="The id of the open case to answer (list_hr_cases).")
    answer: str = Field(
        min_length=1,
        max_length=cases.MAX_ANSWER,
        description="The answer, written to the employee; it is sent to them as is.",
    )


@tool_spec(
    name="answer_hr_case", permission=Permission.HR_CASE_ANSWER, changes_state=True, confirm=True
)
def answer_hr_case(ctx: ToolContext, args: AnswerHrCaseArgs) -> HRCaseItem:
    """Answer an open question handed to hr (hr and admin); the employee gets it where they asked.

    Each case is answered once. Find open cases with list_hr_cases (status 'open').
    """
    case = cases.answer_case(ctx.session, ctx.actor, case_id=args.case_id, answer=args.answer)
    item = _item(ctx, case)
    item.summary = (
        f"Answer to case #{case.id} from {item.employee_name}, sent to them by "
        f"{cases.reply_channel(case.channel)}: “{_quote(args.answer)}”"
    )
    return item
