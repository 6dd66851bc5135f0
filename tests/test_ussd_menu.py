"""The phone menu's parts: GSM-7, dates, templates, and every declared word in both languages."""

from __future__ import annotations

import re
import typing
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from channels import gsm
from channels.africastalking.ussd import LAYOUT
from channels.menu_input import last_day, own_values, parse_day
from channels.menu_text import ERRORS_SW, TERMS, TEXT, Place, fill, say
from tools.menus import LANGUAGES, Choose, Ussd, View, Words
from tools.registry import ToolSpec, all_tools, get_tool

PLACE = Place("Africa/Nairobi", "KES", date(2026, 11, 23))
MENU_TOOLS = [spec for spec in all_tools() if spec.ussd is not None]
_FIELD = re.compile(r"\{(@?)([a-z_][a-z0-9_]*)")

# ------------------------------------------------------------------ GSM-7


def test_one_smart_quote_or_emoji_is_not_gsm7() -> None:
    assert gsm.is_gsm7("Clocked in at 08:03. It's fine.")
    assert not gsm.is_gsm7("It’s fine")  # a right single quotation mark: UCS-2
    assert not gsm.is_gsm7("Safe journey 🚌")
    assert not gsm.is_gsm7("7–8 Dec")  # an en dash
    with pytest.raises(ValueError, match="U\\+2019"):
        gsm.septets("It’s")


def test_extension_characters_count_two() -> None:
    assert gsm.septets("abc") == 3
    assert gsm.septets("{x}") == 5
    assert gsm.septets("€1 [a] ^~|\\") == 18
    assert gsm.septets("é@£\n") == 4  # in the basic alphabet


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Zoë", "Zoe"),
        ("Wanjirũ Ngʼang’a", "Wanjiru Ng'ang'a"),
        ("“Annual” leave – 7…8 Dec", '"Annual" leave - 7...8 Dec'),
        ("Ærø Łódź straße", "AEro Lodz strasse"),
        ("Safe 🚌🚌 trip", "Safe ? trip"),
        ("👩‍👩‍👧 family", "? family"),
        ("a\u00a0b\u2009c\td", "a b c d"),
        ("x`y", "x'y"),
        ("€5 £3", "EUR5 GBP3"),
        ("Сергей", "?"),
        ("nul\x00here", "nul?here"),
    ],
)
def test_names_and_data_become_plain_gsm(raw: str, shown: str) -> None:
    assert gsm.to_gsm(raw) == shown
    assert gsm.is_gsm7(gsm.to_gsm(raw))


def test_shorten_cuts_at_a_word() -> None:
    text = "Not enough annual leave: 3 days available by December 2026"
    assert gsm.shorten(text, 100) == text
    assert gsm.shorten(text, 30) == "Not enough annual leave: 3..."
    assert gsm.septets(gsm.shorten("{" * 50, 20)) <= 20


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("0712", date(2026, 12, 7)),
        ("7/12", date(2026, 12, 7)),
        ("07.12", date(2026, 12, 7)),
        ("07-12-2026", date(2026, 12, 7)),
        ("07122026", date(2026, 12, 7)),
        ("071227", date(2027, 12, 7)),
        ("0501", date(2027, 1, 5)),  # January has passed: next year's
        ("2011", date(2026, 11, 20)),  # three days back (sick leave may be backdated)
        ("3102", None),
        ("1313", None),
        ("12", None),
        ("7/12/1066", None),
        ("abcd", None),
        ("", None),
    ],
)
def test_dates_typed_on_a_phone(typed: str, day: date | None) -> None:
    assert parse_day(typed, date(2026, 11, 23)) == day


def test_days_of_leave_count_working_days_or_calendar_days() -> None:
    # Kenya: 12 Dec (Jamhuri Day) is a Saturday in 2026; Christmas and Boxing Day follow.
    assert last_day(date(2026, 12, 7), 2, country="KE", calendar_days=False) == date(2026, 12, 8)
    assert last_day(date(2026, 12, 11), 2, country="KE", calendar_days=False) == date(2026, 12, 14)
    assert last_day(date(2026, 12, 24), 2, country="KE", calendar_days=False) > date(2026, 12, 26)
    assert last_day(date(2026, 12, 7), 90, country="KE", calendar_days=True) == date(2027, 3, 6)


# ------------------------------------------------------------------ templates


def test_templates_format_and_leave_out_empty_parts() -> None:
    values: dict[str, Any] = {
        "leave_type": "annual",
        "leave_type_name": "Annual leave",
        "start_date": date(2026, 12, 7),
        "days": Decimal(2),
        "available_after": None,
        "late_minutes": 0,
        "net_pay": Decimal("61017.90"),
        "currency": "KES",
        "employee_name": "Amina Wanjiru Hassan",
    }
    template = (
        "{leave_type:term|leave_type_name} {start_date:date}, {days:days}.[ "
        "{available_after:num} left.]"
    )
    assert fill(template, values, lang="en", place=PLACE) == "Annual leave Mon 7 Dec, 2 days."
    assert (
        fill(template, values, lang="sw", place=PLACE) == "Likizo ya mwaka Jumatatu 7 Des, siku 2."
    )
    assert fill("[{late_minutes:pos} late]", values, lang="en", place=PLACE) == ""
    assert fill("{net_pay:money}", values, lang="en", place=PLACE) == "KES 61,017.90"
    assert fill("{employee_name:short}", values, lang="en", place=PLACE) == "Amina H."
    assert (
        fill("{@decision}", values, lang="en", place=PLACE, labels={"decision": "Kataa"}) == "Kataa"
    )


def test_what_a_value_holds_is_never_read_as_a_template() -> None:
    values = {"name": "{secret} [x] {name}", "secret": "leaked"}
    shown = fill("Hi {name}[ and {name}]", values, lang="en", place=PLACE)
    assert shown == "Hi {secret} [x] {name} and {secret} [x] {name}"


# ------------------------------------------------------------------ every declared word


def _words(decl: Ussd) -> list[tuple[str, Words]]:
    found: list[tuple[str, Words]] = [("label", decl.label)]
    views: list[tuple[str, View | None]] = [("done", decl.done), ("confirm", decl.confirm)]
    if decl.sms:
        views.append(("sms", decl.sms.view))
    for name, view in views:
        if view is not None:
            found.append((name, view.text))
            if view.item:
                found.append((f"{name}.item", view.item))
    if decl.again:
        found.append(("again", decl.again))
    for step in decl.steps:
        found.append((f"{step.arg}.prompt", step.prompt))
        if isinstance(step, Choose):
            found += [(f"{step.arg}={value}", words) for value, words in step.labels.items()]
            if step.options:
                found.append((f"{step.arg}.options", step.options.label))
                if step.options.empty:
                    found.append((f"{step.arg}.empty", step.options.empty))
    return found


@pytest.mark.parametrize("spec", MENU_TOOLS, ids=lambda s: s.name)
def test_every_declared_word_is_plain_gsm_in_both_languages(spec: ToolSpec) -> None:
    assert spec.ussd is not None
    for where, words in _words(spec.ussd):
        assert set(words) == set(LANGUAGES), f"{spec.name} {where}"
        for lang, text in words.items():
            assert text.strip(), f"{spec.name} {where} {lang}"
            assert gsm.to_gsm(text) == text, f"{spec.name} {where} {lang}: not plain GSM-7"
        fields = [set(_FIELD.findall(text)) for text in words.values()]
        assert fields[0] == fields[1], f"{spec.name} {where}: the languages say different things"


def _item_fields(model: type[BaseModel], list_field: str) -> set[str]:
    """The fields of the items of `model.list_field` (a list of models)."""
    (item,) = typing.get_args(model.model_fields[list_field].annotation)
    return set(item.model_fields)


def _known_fields(spec: ToolSpec, decl: Ussd) -> set[str]:
    """Every name a template of `decl` may use."""
    known = set(spec.result_model.model_fields) | set(spec.args_model.model_fields)
    known |= {"items", "example", "example_day", "most"}
    for step in decl.steps:
        if isinstance(step, Choose) and step.options is not None:
            listed = get_tool(step.options.tool).result_model
            known |= set(step.options.keep) | _item_fields(listed, step.options.items)
    views = [decl.done, decl.confirm, decl.sms.view if decl.sms else None]
    for view in views:
        if view is not None and view.each:
            known |= _item_fields(spec.result_model, view.each)
    return known


@pytest.mark.parametrize("spec", MENU_TOOLS, ids=lambda s: s.name)
def test_every_template_names_fields_that_exist(spec: ToolSpec) -> None:
    decl = spec.ussd
    assert decl is not None
    known = _known_fields(spec, decl)
    args = set(spec.args_model.model_fields)
    for where, words in _words(decl):
        for at, name in _FIELD.findall(words["en"]):
            pool = args if at else known
            assert name in pool, f"{spec.name} {where}: unknown field {at}{name}"


@pytest.mark.parametrize("spec", MENU_TOOLS, ids=lambda s: s.name)
def test_menu_steps_fit_the_tools_arguments(spec: ToolSpec) -> None:
    decl = spec.ussd
    assert decl is not None
    if spec.confirm:
        assert decl.confirm is not None, f"{spec.name} asks for a yes: it needs a confirm view"
    fields = spec.args_model.model_fields
    for step in decl.steps:
        assert step.arg in fields, f"{spec.name}: no argument {step.arg}"
        if isinstance(step, Choose) and step.options is None:
            values = own_values(spec, step.arg)
            assert 0 < len(values) <= 20
            assert set(step.labels) == set(values), f"{spec.name}.{step.arg} needs every label"


def test_the_catalog_is_plain_gsm_in_both_languages_and_fits_a_screen() -> None:
    sample = {"name": "Bartholomew", "example": "0712", "most": 60, "until": "09:30"}
    for key, words in TEXT.items():
        assert set(words) == set(LANGUAGES), key
        for lang in words:
            shown = say(key, lang, **sample)
            assert gsm.to_gsm(shown) == shown, (key, lang)
            assert gsm.septets(shown) <= LAYOUT.max_chars, (key, lang)
    for lang in LANGUAGES:
        for word in TERMS[lang].values():
            assert gsm.to_gsm(word) == word
    for text in ERRORS_SW.values():
        assert gsm.to_gsm(text) == text
        assert gsm.septets(text) <= 80
