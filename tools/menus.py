"""How a tool appears in a phone menu: its label, the steps that collect its arguments, and
what its screens say. Data only; `channels.menu` turns it into screens.

Every text is given per language (`Words`: {"en": ..., "sw": ...}) and is a template:

- `{field}` is a field of the tool's result (or of a list item, or a collected argument);
  `{field:spec}` formats it: `time` (local HH:MM), `date` (Mon 7 Dec), `dm` (7/12),
  `month` (2026-10 → Oct 2026), `money` (with the result's `currency`), `num` (2.5, 16),
  `days` (3 days / siku 3), `short` (Amina Hassan → Amina H.), `term` (a known code in the
  user's language; `term|other_field` falls back to another field), `pos` (a number shown
  only when above zero);
- `{@arg}` is the label the user picked for argument `arg`;
- `[...]` is left out when a field inside it has no value (or is not positive, for `pos`).

Templates must stay within GSM-7 (plain ASCII is safest): a test checks every one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The languages every text is written in.
LANGUAGES = ("en", "sw")

#: A text per language.
Words = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Options:
    """Choices read from a list tool: each item of `items` offers its `value` field."""

    tool: str
    items: str
    value: str
    #: A template over one item.
    label: Words
    args: Mapping[str, Any] = field(default_factory=dict)
    #: Item fields that later steps read (whether a leave type counts calendar days).
    keep: tuple[str, ...] = ()
    #: An item field holding an employee id: the acting user's own items are left out.
    exclude_own: str | None = None
    #: What to say when there is nothing to choose.
    empty: Words | None = None


@dataclass(frozen=True, slots=True)
class Choose:
    """Pick one value: from `options`, or else from the argument's own type (a Literal,
    a bool, or a whole number between its bounds), labelled by `labels`."""

    arg: str
    prompt: Words
    labels: Mapping[Any, Words] = field(default_factory=dict)
    options: Options | None = None
    #: Only asked when the arguments collected so far have these values.
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EnterDate:
    """A date typed as DDMM, DD/MM or DDMMYYYY (the prompt gets `{example}`)."""

    arg: str
    prompt: Words
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EnterDays:
    """A number of days from argument `start`, stored as the last day in argument `arg`.

    Working days of the employer's country are counted, or calendar days when the item
    picked for `calendar[0]` has its field `calendar[1]` set (maternity leave).
    """

    arg: str
    start: str
    prompt: Words
    most: int
    calendar: tuple[str, str] | None = None
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EnterText:
    """Free text, bounded by the argument's own length limits."""

    arg: str
    prompt: Words
    when: Mapping[str, Any] | None = None


Step = Choose | EnterDate | EnterDays | EnterText


@dataclass(frozen=True, slots=True)
class View:
    """What a screen or a message says about a result: `text`, where `{items}` stands for
    one line per element of the list field `each`, written with `item`."""

    text: Words
    each: str | None = None
    item: Words | None = None


@dataclass(frozen=True, slots=True)
class Sms:
    """A message queued for the user after the tool ran (the full payslip)."""

    kind: str
    view: View


@dataclass(frozen=True, slots=True)
class Ussd:
    """A tool's entry in the phone menu.

    The menu lists, for the acting user's role, the tools they may use that declare one,
    by `order`. Steps collect the arguments; a tool that asks for confirmation is first
    run as a dry run and `confirm` shows its outcome; `done` shows the real result.
    """

    label: Words
    order: int
    done: View
    steps: tuple[Step, ...] = ()
    #: Sensitive: a 4-digit PIN on its own screen first (once per session).
    pin: bool = False
    confirm: View | None = None
    sms: Sms | None = None
    #: After the result, offer to start this tool again (the next pending request).
    again: Words | None = None
    #: Arguments always passed.
    args: Mapping[str, Any] = field(default_factory=dict)
