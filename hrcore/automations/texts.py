"""What the automations say, in English and Swahili (the recipient's language)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "late_digest": {
        "en": "Attendance today ({day}), your team: {lines}.",
        "sw": "Mahudhurio ya leo ({day}), timu yako: {lines}.",
    },
    "late": {"en": "{name} late ({minutes} min)", "sw": "{name} amechelewa (dakika {minutes})"},
    "absent": {"en": "{name} not clocked in", "sw": "{name} hajaingia"},
    "midday_check": {
        "en": "You have not clocked in today. Are you off? Reply \u201cleave today\u201d and I "
        "will prepare a leave request for today, or let your supervisor know.",
        "sw": "Hujaingia kazini leo. Je, uko likizo? Jibu \u201clikizo leo\u201d nikuandalie "
        "ombi la likizo la leo, au mjulishe msimamizi wako.",
    },
    "clock_out_reminder": {
        "en": "You are still clocked in since {since}. Say \u201cclock me out\u201d when you "
        "leave.",
        "sw": "Bado umeingia tangu saa {since}. Sema \u201cnitoe\u201d ukiondoka.",
    },
    "approval_reminder": {
        "en": "A leave request is waiting for your decision since {since}: {request}.",
        "sw": "Ombi la likizo linasubiri uamuzi wako tangu {since}: {request}.",
    },
    "approval_escalation": {
        "en": "A leave request has waited for a decision since {since} (the approver was "
        "reminded): {request}. Approver: {approver}.",
        "sw": "Ombi la likizo limesubiri uamuzi tangu {since} (mwidhinishaji alikumbushwa): "
        "{request}. Mwidhinishaji: {approver}.",
    },
    "low_balance": {
        "en": "{name} has {days} days of annual leave left for {year}.",
        "sw": "{name} amebakiza siku {days} za likizo ya mwaka kwa {year}.",
    },
    "mood_invitation": {
        "en": "How was your week, from 1 (very bad) to 5 (very good)? Reply with a number: "
        "it is recorded anonymously. Say \u201cstop the mood reminders\u201d to stop these.",
        "sw": "Wiki yako ilikuwaje, kutoka 1 (mbaya sana) hadi 5 (nzuri sana)? Jibu kwa "
        "namba: inahifadhiwa bila jina. Sema \u201cacha vikumbusho vya hisia\u201d "
        "kuvisimamisha.",
    },
    "payroll_draft": {
        "en": "The payroll draft for {month} is ready for review: {count} payslips.",
        "sw": "Rasimu ya mishahara ya {month} iko tayari kukaguliwa: hati {count}.",
    },
    "payroll_not_configured": {
        "en": "The payroll draft for {month} could not be prepared: {reason}",
        "sw": "Rasimu ya mishahara ya {month} haikuweza kuandaliwa: {reason}",
    },
    "payslip_ready": {
        "en": "Your payslip for {month} is ready. Say \u201csend my payslip\u201d to see it.",
        "sw": "Hati yako ya mshahara ya {month} iko tayari. Sema \u201cnitumie hati ya "
        "mshahara\u201d kuiona.",
    },
}


def say(key: str, language: str | None, **params: object) -> str:
    """The text for `key` in `language` (English when there is no Swahili)."""
    texts = TEXTS[key]
    return texts.get(language or "en", texts["en"]).format(**params)
