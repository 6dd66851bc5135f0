"""What WhatsApp can show: a turn as messages, and a message as a Graph API request body.

The limits are Meta's: a text body of 4096 characters; reply buttons, at most 3 with
titles of 20 characters, under a body of 1024; a list of at most 10 rows with titles of
24 characters (72 for a row's description) behind a button of 20. Anything longer is
split or shortened here, never sent for Meta to refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.messages import Outbound, Reply

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
CHOICE_ID_MAX = 200
#: A template's body parameter: one line of at most this many characters.
TEMPLATE_PARAMETER_MAX = 1024
#: At most this many sources under an answer.
SOURCES_MAX = 3

SOURCES = {"en": "Sources", "sw": "Vyanzo"}
#: The button that opens a list of options.
CHOOSE = {"en": "Choose", "sw": "Chagua"}
#: The choice values a confirmation's buttons carry back (the pipeline's own words).
YES, NO = "yes", "no"


@dataclass(frozen=True, slots=True)
class Part:
    """One WhatsApp message of a turn: its text and the options it offers."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


def _say(catalog: dict[str, str], language: str) -> str:
    return catalog.get(language, catalog["en"])


def sources(reply: Reply) -> str:
    """The reply's citations as a short list, or "" without any."""
    if not reply.citations:
        return ""
    lines = [f"*{_say(SOURCES, reply.language)}*"]
    for cite in reply.citations[:SOURCES_MAX]:
        lines.append(f"[{cite.number}] " + " › ".join([cite.document_title, *cite.heading_path]))
    return "\n".join(lines)


def as_text(reply: Reply) -> str:
    """The whole turn as plain text: what is recorded as the answer to the message."""
    if reply.confirmation is not None:
        return f"{reply.confirmation.summary}\n\n{reply.confirmation.question}"
    return "\n\n".join(part for part in (reply.text.strip(), sources(reply)) if part)


def parts(reply: Reply) -> list[Part]:
    """The turn as WhatsApp messages: a confirmation as yes/no buttons, long text split."""
    confirmation = reply.confirmation
    if confirmation is None:
        return [Part(text) for text in split(as_text(reply))]
    buttons = ((YES, confirmation.yes), (NO, confirmation.no))
    whole = as_text(reply)
    if len(whole) <= INTERACTIVE_BODY_MAX:
        return [Part(whole, buttons)]
    # A summary too long for a button message goes first as text, the question with it.
    return [
        *(Part(text) for text in split(confirmation.summary)),
        Part(confirmation.question, buttons),
    ]


_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"))


def split(text: str, limit: int = TEXT_MAX) -> list[str]:
    """`text` as messages of at most `limit` characters, broken where a reader would."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    room = limit - len(" (99/99)")
    pieces: list[str] = []
    rest = text
    while len(rest) > room:
        cut = _cut_at(rest, room)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    # Each piece is its own message and may overtake another: say where it belongs.
    return [f"{piece} ({n}/{len(pieces)})" for n, piece in enumerate(pieces, 1)]


def _cut_at(text: str, room: int) -> int:
    head = text[:room]
    for pattern in _BREAKS:
        ends = [m.start() for m in pattern.finditer(head) if m.start() >= room // 2]
        if ends:
            return ends[-1] + 1
    space = head.rfind(" ")
    return space + 1 if space >= room // 2 else room


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, with an ellipsis when it had to be cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------- request bodies


def _envelope(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def recipient(address: str) -> str:
    """The Graph API's spelling of a phone number: its digits, without the `+`."""
    return address.removeprefix("+")


def message_body(message: Outbound) -> dict[str, Any]:
    """A free-form message (inside the reply window): text, reply buttons or a list."""
    to = recipient(message.address)
    choices = [
        (value[:CHOICE_ID_MAX], label) for value, label in message.choices[:ROWS_MAX] if value
    ]
    if not choices:
        text = message.text[:TEXT_MAX]
        return _envelope(to, "text", {"preview_url": False, "body": text})
    body = {"text": shorten_body(message.text)}
    if len(choices) <= BUTTONS_MAX:
        buttons = [
            {"type": "reply", "reply": {"id": value, "title": shorten(label, BUTTON_TITLE_MAX)}}
            for value, label in choices
        ]
        return _envelope(
            to, "interactive", {"type": "button", "body": body, "action": {"buttons": buttons}}
        )
    rows = []
    for value, label in choices:
        row = {"id": value, "title": shorten(label, ROW_TITLE_MAX)}
        if len(" ".join(label.split())) > ROW_TITLE_MAX:
            # The whole label stays readable under its shortened title.
            row["description"] = shorten(label, ROW_DESCRIPTION_MAX)
        rows.append(row)
    action = {
        "button": shorten(_say(CHOOSE, message.language), LIST_BUTTON_MAX),
        "sections": [{"rows": rows}],
    }
    return _envelope(to, "interactive", {"type": "list", "body": body, "action": action})


def shorten_body(text: str) -> str:
    """An interactive message's body: at most 1024 characters, its lines kept."""
    text = text.strip()
    return text if len(text) <= INTERACTIVE_BODY_MAX else text[: INTERACTIVE_BODY_MAX - 1] + "…"


def template_parameter(text: str) -> str:
    """Text fit for a template's body parameter: Meta refuses new lines, tabs and runs of
    more than four spaces there."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return shorten(" · ".join(line for line in lines if line), TEMPLATE_PARAMETER_MAX)


def template_body(message: Outbound, template: str) -> dict[str, Any]:
    """An approved template carrying the message's text as its one body parameter."""
    return _envelope(
        recipient(message.address),
        "template",
        {
            "name": template,
            "language": {"code": message.language},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": template_parameter(message.text)}],
                }
            ],
        },
    )
