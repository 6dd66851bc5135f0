"""The phone menu's own words in English and Swahili, and the templates' mini-language.

Tools declare their labels, prompts and result texts themselves (`tools.menus`); what the
menu says around them (navigation, PINs, hints) and the names of known codes live here.
All of it is plain ASCII, so it stays GSM-7 on every handset (a test checks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from hrcore import dates
from hrcore.errors import HRError
from tools.menus import LANGUAGES

TEXT: dict[str, dict[str, str]] = {
    "home": {"en": "Hi {name}! Choose:", "sw": "Habari {name}! Chagua:"},
    "more": {"en": "98.More", "sw": "98.Zaidi"},
    "back": {"en": "0.Back", "sw": "0.Rudi"},
    "to_home": {"en": "00.Home", "sw": "00.Mwanzo"},
    "confirm": {"en": "Confirm", "sw": "Thibitisha"},
    "cancel": {"en": "Cancel", "sw": "Ghairi"},
    "cancelled": {
        "en": "Cancelled. Nothing was saved.",
        "sw": "Imeghairiwa. Hakuna kilichohifadhiwa.",
    },
    "invalid": {"en": "Invalid choice. Try again.", "sw": "Chaguo si sahihi. Jaribu tena."},
    "bad_date": {
        "en": "Type the date as DDMM, e.g. {example}.",
        "sw": "Andika tarehe kama DDMM, mf. {example}.",
    },
    "bad_number": {
        "en": "Type a number from 1 to {most}.",
        "sw": "Andika namba kati ya 1 na {most}.",
    },
    "too_short": {
        "en": "Please write a few more words.",
        "sw": "Tafadhali andika maneno zaidi.",
    },
    "too_long": {
        "en": "Too long: at most {most} characters.",
        "sw": "Ni ndefu mno: herufi {most} tu.",
    },
    "pin_enter": {"en": "Enter your 4-digit PIN:", "sw": "Weka PIN yako ya tarakimu 4:"},
    "pin_new": {
        "en": "Choose a 4-digit PIN. It protects your payslip and approvals:",
        "sw": "Chagua PIN ya tarakimu 4. Inalinda mshahara na idhini zako:",
    },
    "pin_again": {"en": "Enter the new PIN again:", "sw": "Weka PIN mpya tena:"},
    "pin_format": {"en": "A PIN is 4 digits.", "sw": "PIN ni tarakimu 4."},
    "pin_wrong": {"en": "Wrong PIN. Try again.", "sw": "PIN si sahihi. Jaribu tena."},
    "pin_mismatch": {
        "en": "The two PINs were different. Start again.",
        "sw": "PIN mbili hazikufanana. Anza tena.",
    },
    "locked": {
        "en": "Too many wrong PINs: phone access is locked until {until}. HR can reset your PIN.",
        "sw": "Umekosea PIN mara nyingi: huduma ya simu imefungwa hadi saa {until}. HR "
        "wanaweza kubadilisha PIN yako.",
    },
    "unknown": {
        # Nobody's language is known for a number we do not know: both, briefly.
        "en": "Sorry, this number is not registered with Ajira. Please ask your HR team to "
        "add it.\nNamba hii haijasajiliwa. Wasiliana na HR.",
        "sw": "Sorry, this number is not registered with Ajira. Please ask your HR team to "
        "add it.\nNamba hii haijasajiliwa. Wasiliana na HR.",
    },
    "inactive": {
        "en": "Your access to Ajira has ended. If you think this is a mistake, speak to your "
        "HR team.",
        "sw": "Ufikiaji wako wa Ajira umekwisha. Kama unadhani ni kosa, ongea na timu yako ya HR.",
    },
    "failed": {
        "en": "Sorry, something went wrong on our side. Please dial again.",
        "sw": "Samahani, kuna hitilafu upande wetu. Tafadhali piga tena.",
    },
    "busy": {
        "en": "Still working on your last answer. Please dial again in a moment.",
        "sw": "Bado tunashughulikia jibu lako. Tafadhali piga tena baada ya muda mfupi.",
    },
}

#: Known codes in each language; anything else shows the employer's own name for it.
TERMS: dict[str, dict[str, str]] = {
    "en": {
        "pending": "pending",
        "approved": "approved",
        "rejected": "rejected",
        "cancelled": "cancelled",
    },
    "sw": {
        "annual": "Likizo ya mwaka",
        "sick": "Likizo ya ugonjwa",
        "maternity": "Likizo ya uzazi",
        "paternity": "Likizo ya baba",
        "compassionate": "Likizo ya msiba",
        "unpaid": "Likizo bila malipo",
        "pending": "inasubiri",
        "approved": "imekubaliwa",
        "rejected": "imekataliwa",
        "cancelled": "imeghairiwa",
    },
}

#: Refusals in Swahili by their stable code; English shows the service's own message.
ERRORS_SW: dict[str, str] = {
    "already_clocked_in": "Tayari umeingia kazini.",
    "not_clocked_in": "Hujaingia kazini bado.",
    "location_required": "Mwajiri wako anahitaji mahali ulipo; tumia programu ya simu janja.",
    "outside_geofence": "Uko nje ya eneo la kazi.",
    "insufficient_balance": "Siku hazitoshi kwa likizo hii.",
    "overlapping_request": "Tayari una likizo katika tarehe hizo.",
    "date_in_past": "Tarehe hiyo imeshapita.",
    "no_working_days": "Tarehe hizo ni wikendi au sikukuu tu.",
    "spans_years": "Likizo haiwezi kuvuka mwaka: omba mara mbili.",
    "invalid_dates": "Tarehe si sahihi.",
    "before_hire_date": "Tarehe hiyo ni kabla ya kuajiriwa kwako.",
    "date_out_of_range": "Tarehe hiyo iko mbali mno.",
    "mood_already_submitted": "Umeshatoa hali yako leo. Asante!",
    "payslip_not_found": "Hakuna hati ya mshahara bado.",
    "payroll_not_configured": "Mishahara bado haijawekwa na mwajiri wako.",
    "not_pending": "Ombi hilo limeshaamuliwa.",
    "own_request": "Huwezi kuamua ombi lako mwenyewe.",
    "not_your_team": "Ombi hilo si la timu yako.",
    "comment_required": "Andika sababu ya kukataa.",
    "weak_pin": "PIN hiyo ni rahisi kukisia. Chagua nyingine.",
    "invalid_pin": "PIN ni tarakimu 4.",
    "forbidden": "Huruhusiwi kufanya hivi.",
    "leave_type_not_found": "Aina hiyo ya likizo haipo.",
}


def language(code: str | None) -> str:
    """One of LANGUAGES: the user's, or English."""
    return code if code in LANGUAGES else "en"


def say(key: str, lang: str, **values: object) -> str:
    """The catalog's text `key` in `lang`, with `values` filled in."""
    return TEXT[key][language(lang)].format(**values)


def refusal(error: HRError, lang: str) -> str:
    """What a tool's refusal says to the user: in Swahili by its code, else its message."""
    if language(lang) == "sw" and error.code in ERRORS_SW:
        return ERRORS_SW[error.code]
    # The first sentence: enough for a small screen, and its meaning survives the cut.
    message = error.message.strip()
    first = re.split(r"(?<=[.!?])\s", message, maxsplit=1)[0]
    return first or message


@dataclass(frozen=True, slots=True)
class Place:
    """Where dates, times and amounts are read: the employer's zone, currency and today."""

    timezone: str
    currency: str
    today: date


class _Missing(Exception):
    """A field in an optional part has no value: the part is left out."""


_FIELD_PATTERN = (
    r"\{(?P<at>@?)(?P<name>[a-z_][a-z0-9_]*)"
    r"(?::(?P<spec>[a-z]+)(?:\|(?P<alt>[a-z_][a-z0-9_]*))?)?\}"
)
_FIELD = re.compile(_FIELD_PATTERN)
# One pass over the template: what a value holds is never read as template syntax.
_PART = re.compile(r"\[(?P<optional>[^\[\]]*)\]|" + _FIELD_PATTERN)


def fill(
    template: str,
    values: Mapping[str, Any],
    *,
    lang: str,
    place: Place,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Render a declaration's template (see `tools.menus`) with `values`."""
    lang = language(lang)

    def field(match: re.Match[str], optional: bool) -> str:
        name = match["name"]
        value: Any = (labels or {}).get(name) if match["at"] else values.get(name)
        spec = match["spec"]
        if spec == "term":
            known = TERMS[lang].get(str(value)) if value is not None else None
            value = known if known is not None else values.get(match["alt"] or name, value)
            spec = None
        if value is None or value == "" or (spec == "pos" and not _positive(value)):
            if optional:
                raise _Missing
            return ""
        return _format(value, spec, lang=lang, place=place, values=values)

    def part(match: re.Match[str]) -> str:
        if match["optional"] is None:
            return field(match, False)
        try:
            return _FIELD.sub(lambda m: field(m, True), match["optional"])
        except _Missing:
            return ""

    return _PART.sub(part, template)


def _positive(value: Any) -> bool:
    try:
        return Decimal(str(value)) > 0
    except InvalidOperation:
        return False


def _number(value: Any) -> str:
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount.normalize():,f}"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _format(
    value: Any, spec: str | None, *, lang: str, place: Place, values: Mapping[str, Any]
) -> str:
    if spec == "time":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return f"{moment.astimezone(ZoneInfo(place.timezone)):%H:%M}"
    if spec == "date":
        return dates.day_label(_as_date(value), lang, today=place.today)
    if spec == "dm":
        day = _as_date(value)
        return f"{day.day}/{day.month}"
    if spec == "month":
        year, month = str(value).split("-")[:2]
        return dates.short_month(int(year), int(month), lang)
    if spec == "money":
        amount = Decimal(str(value))
        shown = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
        return f"{values.get('currency') or place.currency} {shown}"
    if spec in {"num", "pos"}:
        return _number(value)
    if spec == "days":
        count = _number(value)
        if lang == "sw":
            return f"siku {count}"
        return f"{count} day" if Decimal(str(value)) == 1 else f"{count} days"
    if spec == "short":
        parts = str(value).split()
        return parts[0] if len(parts) < 2 else f"{parts[0]} {parts[-1][0]}."
    return str(value)
