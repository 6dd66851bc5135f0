"""The GSM 03.38 7-bit alphabet: what a USSD screen or an SMS can hold without UCS-2.

One character outside it (a smart quote, an en dash, an emoji) switches the whole message
to UCS-2, which halves what fits on a feature phone's screen. `septets` measures a text as
the network does (the extension characters `^{}\\[~]|€` take two); `to_gsm` turns names and
other data into plain ASCII that every handset and telco renders.
"""

from __future__ import annotations

import re
import unicodedata

#: The default alphabet (GSM 03.38), one septet each.
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Reached through the escape character: two septets each.
EXTENSION = frozenset("\f^{}\\[~]|€")

# Letters NFKD does not split into a base letter and an accent.
_LETTERS = {
    "ß": "ss",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
    "Ø": "O",
    "ø": "o",
    "Đ": "D",
    "đ": "d",
    "Ð": "D",
    "ð": "d",
    "Ł": "L",
    "ł": "l",
    "Þ": "Th",
    "þ": "th",
    "ı": "i",
    "ŋ": "ng",
    "Ŋ": "Ng",
}
_PUNCTUATION = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "ʼ": "'",
    "ʻ": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "•": "-",
    "·": "-",
    "…": "...",
    "⁄": "/",
    "×": "x",
    "÷": "/",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "¤": "",
    "§": "S.",
    "¡": "!",
    "¿": "?",
    "\t": " ",
    "\r": "",
}
# Spaces of every width (no-break, thin, ideographic...) become one plain space.
_SPACES = re.compile(r"[^\S\n]+")
# Printable ASCII less the backtick (not in GSM-7), plus the newline.
_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F) if chr(c) != "`") | {"\n"}


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 alphabet or its extension."""
    return all(ch in BASIC or ch in EXTENSION for ch in text)


def septets(text: str) -> int:
    """How long `text` is on the network: extension characters count two.

    Raises `ValueError` for a character outside GSM-7: the message would go out as UCS-2.
    """
    total = 0
    for ch in text:
        if ch in BASIC:
            total += 1
        elif ch in EXTENSION:
            total += 2
        else:
            raise ValueError(f"U+{ord(ch):04X} is not a GSM-7 character")
    return total


def to_gsm(text: str) -> str:
    """`text` as plain ASCII within GSM-7: "Zoë" → "Zoe", ‘smart’ quotes → 'plain'.

    Accents are dropped, typographic punctuation gets its ASCII look-alike, and anything
    else (emoji, other scripts, control characters) becomes one "?" per run.
    """
    out: list[str] = []
    unknown = False
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            continue
        mapped = _LETTERS.get(ch) or _PUNCTUATION.get(ch)
        if mapped is None and ch in _SAFE:
            mapped = ch
        elif mapped is None and unicodedata.category(ch) in {"Zs", "Zl", "Zp"}:
            mapped = " "
        if mapped is None:
            # Zero-width joiners and variation selectors glue emoji together: one "?" per run.
            if not unknown and unicodedata.category(ch) not in {"Cf", "Mn"}:
                out.append("?")
                unknown = True
            continue
        unknown = False
        out.append(mapped)
    return _SPACES.sub(" ", "".join(out))


def shorten(text: str, limit: int) -> str:
    """GSM-7 `text` cut at a word to at most `limit` septets, ending in "..." when cut."""
    if septets(text) <= limit:
        return text
    if limit <= 3:
        return "." * max(limit, 0)
    room, used, end = limit - 3, 0, 0
    for index, ch in enumerate(text):
        used += 2 if ch in EXTENSION else 1
        if used > room:
            break
        end = index + 1
    cut = text[:end]
    word_end = cut.rfind(" ")
    if word_end >= room // 2:
        cut = cut[:word_end]
    return cut.rstrip(" ,;:-.\n") + "..."
