"""What the Telegram adapter says itself, in English and Swahili, by key.

The assistant's replies come from the assistant; these are the few sentences around
linking, buttons and messages the chat cannot read.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "share_phone": {
        "en": "Welcome to Ajira, your HR assistant. To find you in your employer's records, "
        "tap the button below to share your phone number. It is only used to link this "
        "Telegram account to you.",
        "sw": "Karibu Ajira, msaidizi wako wa HR. Ili tukupate kwenye rekodi za mwajiri wako, "
        "bonyeza kitufe hapa chini kushiriki namba yako ya simu. Inatumika tu kuunganisha "
        "akaunti hii ya Telegram na wewe.",
    },
    "share_button": {"en": "Share my phone number", "sw": "Shiriki namba yangu ya simu"},
    "linked": {
        "en": 'Welcome, {name}! Your Telegram is now linked to Ajira. Ask me things like "clock '
        'me in" or "how many leave days do I have left?", or share your location to clock in '
        "or out.",
        "sw": 'Karibu, {name}! Telegram yako sasa imeunganishwa na Ajira. Niulize kama "nataka '
        'kuingia kazini" au "nina siku ngapi za likizo?", au shiriki mahali ulipo kuingia au '
        "kutoka kazini.",
    },
    "not_own_contact": {
        "en": "That contact card belongs to someone else, so nothing was linked. To link your "
        "own account, tap the button below: it shares your own number only.",
        "sw": "Kadi hiyo ni ya mtu mwingine, kwa hiyo hakuna kilichounganishwa. Kuunganisha "
        "akaunti yako, bonyeza kitufe hapa chini: kinashiriki namba yako tu.",
    },
    "unknown_phone": {
        "en": "The number {phone} is not on any employee record in Ajira. Ask your HR team to "
        "add it to your record, then share it again.",
        "sw": "Namba {phone} haipo kwenye rekodi ya mfanyakazi yeyote kwenye Ajira. Omba timu "
        "ya HR iiongeze kwenye rekodi yako, kisha uishiriki tena.",
    },
    "taken": {
        "en": "This Telegram account is already linked to someone else. Speak to your HR team.",
        "sw": "Akaunti hii ya Telegram tayari imeunganishwa na mtu mwingine. Ongea na timu ya HR.",
    },
    "unreadable": {
        "en": "Sorry, I can only read text messages, your shared contact and your location. "
        "Please type your question.",
        "sw": "Samahani, naweza kusoma ujumbe wa maandishi, namba uliyoshiriki na mahali ulipo "
        "tu. Tafadhali andika swali lako.",
    },
    "too_long": {
        "en": "That message is too long for me (at most {most} characters). Please send a "
        "shorter one.",
        "sw": "Ujumbe huo ni mrefu mno (herufi {most} tu). Tafadhali tuma mfupi zaidi.",
    },
    "stale_button": {
        "en": "That button is no longer active: nothing was done.",
        "sw": "Kitufe hicho hakitumiki tena: hakuna kilichofanyika.",
    },
    "sources": {"en": "Sources:", "sw": "Vyanzo:"},
}


def language(code: str | None) -> str:
    """'sw' or 'en': the languages these texts are written in."""
    return "sw" if code == "sw" else "en"


def say(key: str, lang: str | None, **values: object) -> str:
    """The text `key` in `lang` (English if unknown), with `values` filled in."""
    return TEXT[key][language(lang)].format(**values)
