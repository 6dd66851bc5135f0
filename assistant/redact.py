"""Secrets typed into a chat are cut out before the message is kept or read by a model.

A password, a PIN or a token has no use in a conversation, and the conversation memory
lives in the database for weeks: what was typed is replaced by a marker before the turn.
"""

from __future__ import annotations

import re

MARK = "[removed]"

# "my password is hunter2", "password: hunter2", "nenosiri langu ni hunter2", "PIN 1234",
# "pin yangu ni 1234": the word, then what follows. After "is", "ni", ":" or "=" the rest
# of the line goes (a passphrase may hold spaces); after a bare label, one word.
_LABEL = (
    r"\b(?:pass(?:word|code|wd|phrase)?|pwd|nenosiri|neno\s+la\s+siri|namba\s+ya\s+siri|"
    r"pin(?:\s+code|\s+number)?|otp|one[-\s]time\s+(?:password|code))\b"
    r"(?:\s+(?:yangu|langu|yako|lako|mpya|new|of\s+mine))?"
)
_LABELLED = re.compile(
    rf"(?P<label>{_LABEL}(?:\s*(?:is|was|=|:|ni|ilikuwa)\s*(?P<said>)|\s+))"
    r"(?P<secret>\S+(?(said)[^\n]*))",
    re.IGNORECASE,
)
# Signed tokens and API keys pasted whole: JWTs, "sk-…" keys, long opaque strings.
_TOKENS = re.compile(
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"
    r"|\bsk-[A-Za-z0-9_-]{16,}\b"
)
# Words after "password" that are not the secret itself ("password reset", "pin locked").
_NOT_SECRETS = frozenset(
    {
        "reset", "change", "changed", "forgot", "forgotten", "locked", "expired", "policy",
        "please", "help", "again", "ya", "la", "for", "to", "and", "or", "the", "a", "my",
        "imefungwa", "nimesahau", "kubadilisha", "?", ".",
    }
)  # fmt: skip


def redact(message: str) -> tuple[str, bool]:
    """`message` with any password, PIN or token replaced by a marker; whether it had one."""
    found = False

    def labelled(m: re.Match[str]) -> str:
        nonlocal found
        first = m["secret"].split()[0].strip(".,;!?\"'")
        if not first or first.lower() in _NOT_SECRETS:
            return m.group(0)
        found = True
        return m["label"] + MARK

    cleaned = _LABELLED.sub(labelled, message)
    cleaned, tokens = _TOKENS.subn(MARK, cleaned)
    return cleaned, found or tokens > 0
