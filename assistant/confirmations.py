"""Actions waiting for the user's yes: the dry run, the answer, and what channels show.

LangChain's human-in-the-loop middleware stops a call that needs a yes. Each waiting
call is run once as a dry run (`tools.registry.preview_tool`), so the person sees what
will happen, in their language, and a call that would fail anyway is refused at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolMessage

from assistant.adapter import INTERNAL_ERROR
from assistant.catalog import in_every_language, say
from assistant.language import confirmation_answer
from assistant.offline.wording import word_preview
from assistant.prompt import REJECT_MOVED_ON, REJECT_NO, REJECT_PREVIEW
from assistant.transcript import State
from hrcore.actor import Actor
from hrcore.db import unit_of_work
from hrcore.errors import HRError
from tools.registry import preview_tool

log = logging.getLogger(__name__)

CONFIRM = in_every_language("confirm")
#: The question and its two answers, for channels that show buttons or menu options.
CONFIRM_CHOICES = {
    language: (say("confirm_question", language), say("yes", language), say("no", language))
    for language in CONFIRM
}
MOVED_ON_NOTE = in_every_language("moved_on")
#: How often a step's failing calls are handed back to the model to amend.
MAX_PREVIEW_ROUNDS = 3
#: The refusal of a call that would have worked, because another one of its step failed.
_SIBLING_FAILED = "Not carried out, because another action in the same step failed."

#: How a message answers what waits: a yes, a no, or something else altogether.
Answer = Literal["yes", "no", "other"]


@dataclass
class PendingAction:
    """An action waiting for the user's yes, as data every channel can render its own way."""

    tool: str
    args: dict[str, Any]
    summary: str
    question: str = "Confirm?"
    yes: str = "Yes"
    no: str = "No"


@dataclass
class Preview:
    """A waiting call's dry run: what it would do, or why it would fail."""

    tool: str
    args: dict[str, Any]
    summary: str | None
    error: HRError | None
    data: dict[str, Any] | None = None


def answer_of(message: str) -> Answer:
    """How `message` answers the question that waits."""
    answer = confirmation_answer(message)
    return "other" if answer is None else "yes" if answer else "no"


def decisions(answer: Answer, count: int) -> list[dict[str, Any]]:
    """The middleware's decisions for `count` waiting calls: all approved or all refused.

    A refusal tells the model why, so that it neither retries a no nor loses track of a
    person who moved on to something else.
    """
    decision: dict[str, Any] = (
        {"type": "approve"}
        if answer == "yes"
        else {"type": "reject", "message": REJECT_NO if answer == "no" else REJECT_MOVED_ON}
    )
    return [decision] * count


def was_dropped(dropped: list[dict[str, Any]], pending: PendingAction | None) -> bool:
    """Whether calls left unanswered are gone, rather than asked again (amended or repeated)."""
    return bool(dropped) and not (pending and pending.tool in {r["name"] for r in dropped})


def confirmation_text(pending: PendingAction, language: str) -> str:
    """The pending action and its question as one text, for channels without buttons."""
    return f"{pending.summary}\n{CONFIRM[language]}"


def action_requests(state: State) -> list[dict[str, Any]]:
    """The calls waiting for a yes: each `{"name", "args"}`."""
    requests: list[dict[str, Any]] = []
    for interrupt in state.interrupts:
        value = interrupt.value
        if isinstance(value, dict):
            requests.extend(value.get("action_requests", []))
    return requests


def pending_call_ids(state: State) -> set[str]:
    """Ids of the last AI message's tool calls that have no result yet."""
    messages = state.messages
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if last_ai is None:
        return set()
    return {c["id"] for c in last_ai.tool_calls if c["id"] and c["id"] not in answered}


def preview_all(actor: Actor, requests: list[dict[str, Any]]) -> list[Preview]:
    """Dry-run each waiting call as `actor`, each in a transaction that is rolled back."""
    previews = []
    for request in requests:
        name, args = request["name"], dict(request.get("args") or {})
        try:
            with unit_of_work(actor) as session:
                result = preview_tool(session, actor, name, args)
            previews.append(
                Preview(name, args, result.summary, None, result.model_dump(mode="json"))
            )
        except HRError as exc:
            previews.append(Preview(name, args, None, exc))
        except Exception:
            log.exception("preview of %s failed", name)
            error = HRError(INTERNAL_ERROR["message"], code=INTERNAL_ERROR["code"])
            previews.append(Preview(name, args, None, error))
    return previews


def refusals(previews: list[Preview]) -> list[dict[str, Any]]:
    """The decisions that refuse every call of a step, telling the model why each failed."""
    return [
        {
            "type": "reject",
            "message": REJECT_PREVIEW.format(message=p.error.message, code=p.error.code)
            if p.error
            else _SIBLING_FAILED,
        }
        for p in previews
    ]


def pending_action(previews: list[Preview], language: str) -> PendingAction:
    """What the person is asked to confirm: the first call, and every call's summary."""
    first = previews[0]
    question, yes, no = CONFIRM_CHOICES[language]
    return PendingAction(
        tool=first.tool,
        args=first.args,
        summary="\n".join(_pending_text(p, language) for p in previews),
        question=question,
        yes=yes,
        no=no,
    )


def _pending_text(preview: Preview, language: str) -> str:
    """The pending action in the user's language (the tool summaries are English)."""
    if preview.data is not None and (worded := word_preview(preview.tool, preview.data, language)):
        return worded
    if preview.summary is not None:
        return preview.summary
    return preview.error.message if preview.error else ""
