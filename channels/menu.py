"""A deterministic phone menu built from the tools' declarations (`tools.menus`): no model.

One call per screen. The state between screens is a small JSON dict the caller keeps (the
USSD adapter keeps it per session); the medium's limits come in as a `Layout`, and every
list is paged to fit it. Tools run through `tools.registry` (permissions, validation,
audit and "no half writes" stay theirs): a confirmation shows the tool's own dry run, a
refusal is shown on the screen it came from, and nothing here knows about leave or pay.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.orm import Session

from channels.menu_input import bounds, last_day, own_values, parse_day, typed_number
from channels.menu_layout import Layout, Nav
from channels.menu_text import Place, fill, language, refusal, say
from channels.messages import Reply
from hrcore import clock, dates
from hrcore.actor import Actor, Channel
from hrcore.errors import HRError
from hrcore.keys import menu_input_key
from hrcore.notifications.service import notify
from hrcore.people import service as people
from hrcore.people.models import Organization, User
from tools.menus import Choose, EnterDate, EnterDays, EnterText, Step, Ussd, View
from tools.registry import ToolResult, ToolSpec, get_tool, menu_for, preview_tool, run_tool

HOME, STEP, CONFIRM, AGAIN, END = "home", "step", "confirm", "again", "end"
PIN, PIN_NEW, PIN_AGAIN = "pin", "pin_new", "pin_again"
BACK, TO_HOME, MORE = "0", "00", "98"

#: Items kept from a list tool; more would not be read on a phone anyway.
MAX_OPTIONS = 40


@dataclass(frozen=True, slots=True)
class MenuReply(Reply):
    """A menu screen: `end` closes the session (USSD `END`), else it waits for input."""

    end: bool = True


@dataclass(slots=True)
class Turn:
    """One screen's work: who asks, their menu state, and refusals to record afterwards."""

    session: Session
    actor: Actor
    state: dict[str, Any]
    #: Refusals of tool calls: their audit rows are written after the commit.
    failures: list[HRError] = field(default_factory=list)
    _user: User | None = None

    @property
    def user(self) -> User:
        """The acting user's row, read only by the screens that need it (PINs, SMS)."""
        if self._user is None:
            self._user = self.session.get(User, self.actor.user_id)
            assert self._user is not None
        return self._user

    @property
    def lang(self) -> str:
        return str(self.state.get("lang", "en"))

    @property
    def place(self) -> Place:
        saved = self.state["place"]
        return Place(saved["timezone"], saved["currency"], date.fromisoformat(saved["today"]))


def _spec(state: Mapping[str, Any]) -> tuple[ToolSpec, Ussd]:
    spec = get_tool(str(state["tool"]))
    assert spec.ussd is not None
    return spec, spec.ussd


def _matches(step: Step, args: Mapping[str, Any]) -> bool:
    return step.when is None or all(args.get(k) == v for k, v in step.when.items())


def _json(value: Any) -> Any:
    """`value` as JSON keeps it: dates as ISO text, decimals as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


class Menu:
    """The phone menu over the tool registry, for one medium's `Layout`."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    # ----------------------------------------------------------------- the state

    def begin(self, session: Session, actor: Actor, user: User) -> dict[str, Any]:
        """A new session's state: the home screen (or the end, while phone access is locked)."""
        org = session.get(Organization, actor.organization_id)
        assert org is not None
        state: dict[str, Any] = {
            "at": HOME,
            "page": 0,
            "lang": language(user.language),
            "name": self.layout.clean(people.first_name(user.full_name)),
            "place": {
                "timezone": org.timezone,
                "currency": org.currency,
                "country": org.country,
                "today": clock.local_today(org.timezone).isoformat(),
            },
            "pin_ok": False,
        }
        until = people.phone_locked_until(user)
        if until is not None:
            self._end_locked(Turn(session, actor, state, _user=user), until)
        return state

    def expects_text(self, state: Mapping[str, Any]) -> bool:
        """Whether the next input is free text (which may itself hold the USSD `*`)."""
        if state.get("at") != STEP:
            return False
        _, decl = _spec(state)
        return isinstance(decl.steps[int(state["step"])], EnterText)

    def show(self, turn: Turn) -> MenuReply:
        """The screen the state stands at."""
        state = turn.state
        at = state["at"]
        hint = state.pop("hint", None)
        if at == END:
            return self._reply(turn, self._fit(state.get("text") or ""), end=True)
        if at == HOME:
            items = self._entries(turn)
            return self._list(
                turn,
                say("home", turn.lang, name=state["name"]),
                items,
                hint,
                back=False,
                home=False,
            )
        if at == CONFIRM:
            items = [say("confirm", turn.lang), say("cancel", turn.lang)]
            return self._list(turn, state["text"], items, hint)
        if at == AGAIN:
            _, decl = _spec(state)
            items = [self._label(turn, decl.again or {})]
            return self._list(turn, state["text"], items, hint, back=False)
        if at in (PIN, PIN_NEW, PIN_AGAIN):
            key = {PIN: "pin_enter", PIN_NEW: "pin_new", PIN_AGAIN: "pin_again"}[at]
            return self._list(turn, say(key, turn.lang), [], hint)
        spec, decl = _spec(state)
        step = decl.steps[int(state["step"])]
        title = self._prompt(turn, step)
        items = (
            [label for _, label in self._choices(turn, spec, step)]
            if isinstance(step, Choose)
            else []
        )
        return self._list(turn, title, items, hint)

    # ----------------------------------------------------------------- input

    def answer(self, turn: Turn, entry: str) -> None:
        """Act on one input at the screen the state stands at."""
        state = turn.state
        state.pop("hint", None)
        at = state["at"]
        if at == END:
            self._home(turn)
            at = HOME
        if entry == TO_HOME:
            self._home(turn)
        elif entry == BACK:
            self._back(turn)
        elif entry == MORE and state.get("page", 0) + 1 < self._page_count(turn):
            state["page"] = state.get("page", 0) + 1
        elif at == HOME:
            entries = menu_for(turn.actor)
            number = typed_number(entry)
            if number is not None and 1 <= number <= len(entries):
                self._begin_tool(turn, entries[number - 1].name)
            else:
                state["hint"] = say("invalid", turn.lang)
        elif at == CONFIRM:
            if entry == "1":
                self._run(turn)
            elif entry == "2":
                self._home(turn, hint=say("cancelled", turn.lang))
            else:
                state["hint"] = say("invalid", turn.lang)
        elif at == AGAIN:
            if entry == "1":
                self._begin_tool(turn, str(state["tool"]))
            else:
                state["hint"] = say("invalid", turn.lang)
        elif at in (PIN, PIN_NEW, PIN_AGAIN):
            self._pin(turn, entry)
        else:
            self._step_input(turn, entry)

    # ----------------------------------------------------------------- moving around

    def _home(self, turn: Turn, *, hint: str | None = None) -> None:
        keep = ("lang", "name", "place", "pin_ok")
        state = turn.state
        for key in list(state):
            if key not in keep:
                del state[key]
        state.update(at=HOME, page=0)
        if hint:
            state["hint"] = hint

    def _back(self, turn: Turn) -> None:
        state = turn.state
        at = state["at"]
        if state.get("page", 0) > 0 and at in (HOME, STEP):
            state["page"] -= 1
        elif at == STEP:
            _, decl = _spec(state)
            earlier = [
                i for i in range(int(state["step"])) if _matches(decl.steps[i], state["args"])
            ]
            if earlier:
                self._enter(turn, earlier[-1])
            else:
                self._home(turn)
        elif at == CONFIRM:
            self._to_last_step(turn)
        elif at == PIN_AGAIN:
            state["at"] = PIN_NEW
        elif at != HOME:
            self._home(turn)

    def _to_last_step(self, turn: Turn, *, hint: str | None = None) -> None:
        _, decl = _spec(turn.state)
        args = turn.state.get("args", {})
        asked = [i for i, step in enumerate(decl.steps) if _matches(step, args)]
        if asked:
            self._enter(turn, asked[-1])
            if turn.state["at"] == STEP and hint:
                turn.state["hint"] = hint
        else:
            self._home(turn, hint=hint)

    def _begin_tool(self, turn: Turn, name: str) -> None:
        state = turn.state
        spec = get_tool(name)
        decl = spec.ussd
        if decl is None or not spec.allowed_for(turn.actor):
            state["hint"] = say("invalid", turn.lang)
            return
        state.update(tool=name, args={}, labels={}, kept={}, page=0)
        state.pop("options", None)
        if decl.pin and not state.get("pin_ok"):
            until = people.phone_locked_until(turn.user)
            if until is not None:
                self._end_locked(turn, until)
                return
            state["at"] = PIN if turn.user.pin_hash else PIN_NEW
            return
        self._enter(turn, 0)

    def _enter(self, turn: Turn, index: int) -> None:
        """Go to the first step from `index` that applies; past the last, finish the tool."""
        state = turn.state
        spec, decl = _spec(state)
        for later in decl.steps[index:]:
            for bag in ("args", "labels", "kept"):
                state.setdefault(bag, {}).pop(later.arg, None)
        state.pop("options", None)
        state["page"] = 0
        for i in range(index, len(decl.steps)):
            step = decl.steps[i]
            if not _matches(step, state["args"]):
                continue
            state.update(at=STEP, step=i)
            if isinstance(step, Choose) and step.options is not None:
                self._load_options(turn, spec, step)
            return
        self._finish(turn)

    def _load_options(self, turn: Turn, spec: ToolSpec, step: Choose) -> None:
        options = step.options
        assert options is not None
        try:
            result = self._call(turn, options.tool, dict(options.args))
        except HRError as exc:
            self._home(turn, hint=refusal(exc, turn.lang))
            return
        listed = []
        for item in getattr(result, options.items):
            values = item.model_dump() if isinstance(item, BaseModel) else dict(item)
            if options.exclude_own and values.get(options.exclude_own) == turn.actor.user_id:
                continue
            label = fill(options.label[turn.lang], values, lang=turn.lang, place=turn.place)
            kept = {key: _json(values.get(key)) for key in options.keep}
            listed.append([_json(values[options.value]), label, kept])
            if len(listed) >= MAX_OPTIONS:
                break
        if not listed:
            self._home(turn, hint=self._label(turn, options.empty or {}) or None)
            return
        turn.state["options"] = listed

    def _choices(self, turn: Turn, spec: ToolSpec, step: Choose) -> list[tuple[Any, str]]:
        if step.options is not None:
            return [(value, label) for value, label, _ in turn.state.get("options", [])]
        return [
            (value, self._label(turn, step.labels.get(value, {})) or str(value))
            for value in own_values(spec, step.arg)
        ]

    def _step_input(self, turn: Turn, entry: str) -> None:
        state = turn.state
        spec, decl = _spec(state)
        index = int(state["step"])
        step = decl.steps[index]
        lang = turn.lang
        value: Any
        if isinstance(step, Choose):
            choices = self._choices(turn, spec, step)
            number = typed_number(entry)
            if number is None or not 1 <= number <= len(choices):
                state["hint"] = say("invalid", lang)
                return
            value, label = choices[number - 1]
            state["labels"][step.arg] = label
            if step.options is not None:
                state["kept"][step.arg] = state["options"][number - 1][2]
        elif isinstance(step, EnterDate):
            day = parse_day(entry, turn.place.today)
            if day is None:
                state["hint"] = say("bad_date", lang, example=self._example(turn)[0])
                return
            value = day.isoformat()
            state["labels"][step.arg] = dates.day_label(day, lang, today=turn.place.today)
        elif isinstance(step, EnterDays):
            number = typed_number(entry)
            if number is None or not 1 <= number <= step.most:
                state["hint"] = say("bad_number", lang, most=step.most)
                return
            calendar_days = False
            if step.calendar is not None:
                picked, flag = step.calendar
                calendar_days = bool(state["kept"].get(picked, {}).get(flag))
            start = date.fromisoformat(state["args"][step.start])
            end = last_day(
                start, number, country=state["place"]["country"], calendar_days=calendar_days
            )
            value = end.isoformat()
        else:
            low, high = bounds(spec, step.arg)
            text = entry.strip()
            if len(text) < (low or 1):
                state["hint"] = say("too_short", lang)
                return
            if high is not None and len(text) > high:
                state["hint"] = say("too_long", lang, most=high)
                return
            value = text
        state["args"][step.arg] = value
        self._enter(turn, index + 1)

    # ----------------------------------------------------------------- PINs

    def _pin(self, turn: Turn, entry: str) -> None:
        state = turn.state
        lang = turn.lang
        if not (len(entry) == 4 and entry.isdigit()):
            state["hint"] = say("pin_format", lang)
            return
        if state["at"] == PIN:
            outcome = people.check_pin(turn.session, turn.actor, pin=entry)
            if outcome is people.PinCheck.OK:
                state["pin_ok"] = True
                self._enter(turn, 0)
            elif outcome is people.PinCheck.LOCKED:
                until = people.phone_locked_until(turn.user) or clock.now()
                self._end_locked(turn, until)
            elif outcome is people.PinCheck.UNSET:
                state["at"] = PIN_NEW
            else:
                state["hint"] = say("pin_wrong", lang)
        elif state["at"] == PIN_NEW:
            state["pin_salt"] = secrets.token_hex(8)
            state["pin_digest"] = self._pin_digest(state["pin_salt"], entry)
            state["at"] = PIN_AGAIN
        else:
            same = hmac.compare_digest(
                state.pop("pin_digest", ""), self._pin_digest(state.pop("pin_salt", ""), entry)
            )
            state["at"] = PIN_NEW
            if not same:
                state["hint"] = say("pin_mismatch", lang)
                return
            try:
                with turn.session.begin_nested():
                    people.set_pin(turn.session, turn.actor, pin=entry)
            except HRError as exc:
                turn.failures.append(exc)
                state["hint"] = refusal(exc, lang)
                return
            state["pin_ok"] = True
            self._enter(turn, 0)

    @staticmethod
    def _pin_digest(salt: str, pin: str) -> str:
        # Only a keyed digest of the first entry waits for the second: never the PIN itself.
        return hmac.new(menu_input_key(), f"pin:{salt}:{pin}".encode(), hashlib.sha256).hexdigest()

    def _end_locked(self, turn: Turn, until: Any) -> None:
        local = until.astimezone(ZoneInfo(turn.place.timezone))
        self._home(turn)
        turn.state.update(at=END, text=say("locked", turn.lang, until=f"{local:%H:%M}"))

    # ----------------------------------------------------------------- running the tool

    def _call(
        self, turn: Turn, name: str, args: dict[str, Any], *, preview: bool = False
    ) -> ToolResult:
        # A tool that writes gets a savepoint of its own: a refusal leaves nothing behind,
        # and the menu's own state (the hint, where it stands) is still saved with the screen.
        try:
            if preview:
                return preview_tool(turn.session, turn.actor, name, args)
            if not get_tool(name).changes_state:
                return run_tool(turn.session, turn.actor, name, args)
            with turn.session.begin_nested():
                return run_tool(turn.session, turn.actor, name, args)
        except HRError as exc:
            if not preview:
                turn.failures.append(exc)
            raise

    def _finish(self, turn: Turn) -> None:
        state = turn.state
        spec, decl = _spec(state)
        if not spec.confirm:
            self._run(turn)
            return
        try:
            result = self._call(turn, spec.name, self._args(decl, state), preview=True)
        except HRError as exc:
            self._to_last_step(turn, hint=refusal(exc, turn.lang))
            return
        state.update(at=CONFIRM, text=self._view(turn, decl.confirm or decl.done, result))

    def _run(self, turn: Turn) -> None:
        state = turn.state
        spec, decl = _spec(state)
        try:
            result = self._call(turn, spec.name, self._args(decl, state))
        except HRError as exc:
            self._to_last_step(turn, hint=refusal(exc, turn.lang))
            return
        text = self._view(turn, decl.done, result)
        if decl.sms is not None:
            message = self._view(turn, decl.sms.view, result, screen=False)
            # Asked for just now on the phone: never held for quiet hours.
            notify(
                turn.session, turn.user, kind=decl.sms.kind, text=message,
                channel=Channel.SMS, urgent=True,
            )  # fmt: skip
        tool = state["tool"]
        self._home(turn)
        if decl.again:
            state.update(at=AGAIN, tool=tool, text=text)
        else:
            state.update(at=END, text=text)

    @staticmethod
    def _args(decl: Ussd, state: Mapping[str, Any]) -> dict[str, Any]:
        return {**decl.args, **state.get("args", {})}

    # ----------------------------------------------------------------- words

    def _entries(self, turn: Turn) -> list[str]:
        return [self._label(turn, spec.ussd.label) for spec in menu_for(turn.actor) if spec.ussd]

    def _label(self, turn: Turn, words: Mapping[str, str]) -> str:
        return words.get(turn.lang) or words.get("en") or ""

    def _namespace(self, turn: Turn) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for kept in turn.state.get("kept", {}).values():
            values.update(kept)
        values.update(turn.state.get("args", {}))
        return values

    def _example(self, turn: Turn) -> tuple[str, str]:
        day = turn.place.today + timedelta(days=1)
        return f"{day:%d%m}", dates.day_label(day, turn.lang, today=turn.place.today)

    def _prompt(self, turn: Turn, step: Step) -> str:
        values = self._namespace(turn)
        if isinstance(step, EnterDate):
            values["example"], values["example_day"] = self._example(turn)
        elif isinstance(step, EnterDays):
            values["most"] = step.most
        return fill(
            step.prompt[turn.lang],
            values,
            lang=turn.lang,
            place=turn.place,
            labels=turn.state.get("labels"),
        )

    def _view(self, turn: Turn, view: View, result: ToolResult, *, screen: bool = True) -> str:
        values = {**self._namespace(turn), **result.model_dump()}
        if view.each and view.item:
            lines = [
                fill(view.item[turn.lang], {**values, **item}, lang=turn.lang, place=turn.place)
                for item in values.get(view.each) or []
            ]
            values["items"] = "\n".join(line for line in lines if line)
        labels = turn.state.get("labels")
        filled = fill(view.text[turn.lang], values, lang=turn.lang, place=turn.place, labels=labels)
        return self.layout.clean(filled) if screen else filled

    # ----------------------------------------------------------------- layout

    def _fit(self, text: str, room: int | None = None) -> str:
        return self.layout.fit(text, room)

    def _nav(self, turn: Turn) -> Nav:
        lang = turn.lang
        return Nav(say("more", lang), say("back", lang), say("to_home", lang))

    def _page_count(self, turn: Turn) -> int:
        listed = self._current_list(turn)
        if listed is None:
            return 1
        title, items = listed
        return len(self.layout.pages(title, self.layout.numbered(items), self._nav(turn)))

    def _current_list(self, turn: Turn) -> tuple[str, list[str]] | None:
        state = turn.state
        if state["at"] == HOME:
            return say("home", turn.lang, name=state["name"]), self._entries(turn)
        if state["at"] == STEP:
            spec, decl = _spec(state)
            step = decl.steps[int(state["step"])]
            if isinstance(step, Choose):
                items = [label for _, label in self._choices(turn, spec, step)]
                return self._prompt(turn, step), items
        return None

    def _list(
        self,
        turn: Turn,
        title: str,
        items: list[str],
        hint: str | None,
        *,
        back: bool = True,
        home: bool = True,
    ) -> MenuReply:
        text, page = self.layout.screen(
            title,
            items,
            page=int(turn.state.get("page", 0)),
            hint=hint,
            nav=self._nav(turn),
            back=back,
            home=home,
        )
        turn.state["page"] = page
        return self._reply(turn, text, end=False)

    def _reply(self, turn: Turn, text: str, *, end: bool) -> MenuReply:
        return MenuReply(text=text, language=turn.lang, end=end)
