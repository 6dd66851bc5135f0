"""Which language a message is in (English or Swahili), from small word lists."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "sw"]

_SWAHILI_WORDS = """
    nataka ninataka naomba omba likizo tafadhali habari ndiyo ndio hapana kesho leo jana siku
    mshahara nimefika naondoka nimeingia nimetoka ingia toka sawa asante asanteni wiki mwezi
    mwaka hadi tarehe kazini kazi nina sina yangu wangu changu zangu mimi nini gani ngapi lini
    wapi vipi ugonjwa mgonjwa salio msimamizi hali mambo karibu malalamiko lalamiko hisia furaha
    huzuni ujumbe siwezi sijambo je kuna hii hiyo ile kutwa jumatatu jumanne jumatano alhamisi
    ijumaa jumamosi jumapili januari februari machi aprili mei juni julai agosti septemba oktoba
    novemba desemba saa asubuhi jioni usiku sera uzazi baba mama tuma nitumie ruhusa idhini
    kubali kataa ombi maombi nimechelewa nitachelewa mapumziko kwa na ya za wa cha vya katika
    bado tayari nisaidie saidia naweza unaweza nieleze eleza
"""
_ENGLISH_WORDS = """
    i i'm im me my mine want need would like leave please hello hi hey today tomorrow yesterday
    the a an clock in out how what when where which who is are am was can could show send give
    from to and for of with next last this week month year day days balance payslip salary pay
    request requests approve reject yes no thanks thank you policy annual sick maternity
    paternity much many long left do does did it on at monday tuesday wednesday thursday friday
    saturday sunday january february march april june july august september october november
    december feel feeling report complaint review team help tell about
"""
SWAHILI = frozenset(_SWAHILI_WORDS.split())
ENGLISH = frozenset(_ENGLISH_WORDS.split())
_SWAHILI_PREFIX = re.compile(r"^(nime|nita|ninge|tume|tuta|hatu|sija|sita)[a-z]{3,}$")
_WORD = re.compile(r"[a-z']+")


def detect_language(text: str) -> Language | None:
    """'en' or 'sw' when the text clearly reads as one of them; None when unsure."""
    words = _WORD.findall(text.lower())
    if not words:
        return None
    sw = sum(1 for w in words if w in SWAHILI or _SWAHILI_PREFIX.match(w))
    en = sum(1 for w in words if w in ENGLISH)
    if sw == en:
        return None
    winner, score, other = ("sw", sw, en) if sw > en else ("en", en, sw)
    # One marker word in a long message is not enough to be sure; so is a near tie.
    if score < 2 and score * 2 < len(words):
        return None
    if other and score < other * 2:
        return None
    return winner  # type: ignore[return-value]


YES_WORDS = frozenset({"yes", "y", "ok", "okay", "confirm", "ndiyo", "ndio", "sawa", "yes please"})
NO_WORDS = frozenset({"no", "n", "cancel", "stop", "hapana", "no thanks", "acha", "sitaki"})


def confirmation_answer(text: str) -> bool | None:
    """True for a yes (yes/ndiyo/sawa/ok), False for a no (no/hapana/cancel), else None."""
    cleaned = " ".join(_WORD.findall(text.lower()))
    if cleaned in YES_WORDS:
        return True
    if cleaned in NO_WORDS:
        return False
    return None
