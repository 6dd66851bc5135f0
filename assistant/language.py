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
    bado tayari nisaidie saidia naweza unaweza nieleze eleza najisikia ninajisikia vibaya
    vizuri nzuri mbaya sana nionyeshe onyesha yanayosubiri inasubiri zimebaki nimebakiwa
    futa ghairi niko uko yuko tuko nipe niletee nataki sitaki mpe wangu yake yako zako
    nimechoka choka kuomba kuingia kutoka nyumbani ofisi mkubwa bosi timu wafanyakazi
    mfanyakazi taarifa lini kwanini kwa nini sababu pesa malipo makato kodi hati kesi
    swali jibu naomba tafadhalini shikamoo niaje poa safi sasa hujambo uzima salama
    msiba mazishi amefariki mgonjwa naumwa hospitali daktari mtoto mke mume ndugu
    wiki ijayo hii ujao uliopita mwezi huu leo kesho keshokutwa jana juzi
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
_SWAHILI_PREFIX = re.compile(
    r"^(nime|nita|ninge|tume|tuta|hatu|sija|sita|nina|ana|ame|uli|ali|tuli|nili|hu|ku|wa|"
    r"ki|vi|mw|ny|ng)[a-z]{3,}[aeiou]$"
)
_WORD = re.compile(r"[a-z']+")


def detect_language(text: str) -> Language | None:
    """'en' or 'sw' when the text reads as one of them; None when it does not say."""
    words = _WORD.findall(text.lower())
    if not words:
        return None
    sw = sum(1 for w in words if w in SWAHILI or _SWAHILI_PREFIX.match(w))
    en = sum(1 for w in words if w in ENGLISH)
    if sw == en:
        return None
    winner: Language = "sw" if sw > en else "en"
    score, other = (sw, en) if sw > en else (en, sw)
    if other == 0:
        return winner
    # Code-switched: the language with clearly more of the words is the one to answer in.
    return winner if score >= other * 2 else None


#: Words that make a short answer a yes or a no; any mix of them with fillers still is.
_YES = """yes y ya yeah yep yup yea sure ok okay k kk confirm confirmed correct right alright
    ndiyo ndio ndiyoo ndyo sawa sawasawa poa safi haya naam ehe eeh eh yah fine agreed
    absolutely definitely certainly"""
YES_WORDS = frozenset(_YES.split())
YES_PHRASES = frozenset(
    {
        "go ahead", "do it", "please do", "of course", "sounds good", "that's fine",
        "thats fine", "that is fine", "why not", "go on", "proceed", "fanya hivyo",
        "endelea", "sawa sawa", "yes do it", "ndiyo fanya",
    }
)  # fmt: skip
_NO = "no n nope nah nay cancel stop hapana la acha sitaki wacha usifanye hakuna siwezi never"
NO_WORDS = frozenset(_NO.split())
NO_PHRASES = frozenset(
    {
        "no thanks", "no thank you", "not now", "leave it", "forget it", "don't", "do not",
        "dont", "never mind", "nevermind", "not really", "sio sasa", "si sasa", "usijali",
        "achana nayo", "achana na hilo", "wacha tu",
    }
)  # fmt: skip
#: Words that may stand beside a yes or a no without changing it ("yes please", "sawa asante").
_FILLER = """please pls plz tafadhali thanks thank you asante sana very much just that it one
    kabisa bana boss sir madam mkuu"""
_FILLERS = frozenset(_FILLER.split())
#: Words that only point at the waiting action: "endelea na lile ombi", "go ahead with it".
_POINTING = frozenset(
    {"na", "lile", "ile", "hilo", "hiyo", "hii", "ombi", "with", "it", "that", "this", "the",
     "request", "one"}
)  # fmt: skip
_EMOJI = {"👍": " yes ", "👌": " ok ", "✅": " yes ", "👎": " no ", "❌": " no ", "🙏": " "}
_ANSWER_WORD = re.compile(r"[a-z0-9']+")


def confirmation_answer(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (the one recogniser for all).

    Only short answers count ("yes please", "sawa", "ndio tafadhali", "👍", "not now");
    "no, make it Tuesday" says more than no, and is None.
    """
    for symbol, word in _EMOJI.items():
        text = text.replace(symbol, word)
    every = _ANSWER_WORD.findall(text.lower())
    words = [w for w in every if w not in _FILLERS]
    if not words or len(words) > 6:
        return None
    for phrase in (" ".join(every), " ".join(words)):
        if phrase in YES_PHRASES:
            return True
        if phrase in NO_PHRASES:
            return False
    if all(w in NO_WORDS for w in words):
        return False
    # "sawa endelea", "ok go ahead with it": yes words and phrases, and words pointing at
    # the action ("na lile ombi"). Only for a yes: "cancel that request" is a new request.
    joined = f" {' '.join(words)} "
    for phrase in sorted(YES_PHRASES, key=len, reverse=True):
        joined = joined.replace(f" {phrase} ", " <said> ")
    rest = joined.split()
    if any(w == "<said>" or w in YES_WORDS for w in rest) and all(
        w == "<said>" or w in YES_WORDS or w in _POINTING for w in rest
    ):
        return True
    return None
