"""Every fixed sentence the assistant says, in English and Swahili, by key.

One catalog for the offline model, the LLM path (notes around its replies) and the
channels' own few words, so a Swahili reply never carries an English server message.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------- help and small talk
    "help": {
        "en": 'I can help you with: clocking in and out, leave (e.g. "annual leave next Monday '
        'to Friday"), your leave balance and requests, payslips, your profile, how you feel, '
        "reporting a problem anonymously, the company's policies, and passing a question to "
        "hr.",
        "sw": 'Naweza kukusaidia: kuingia na kutoka kazini, likizo (mfano "nataka likizo tarehe '
        '1 hadi 5 Desemba"), salio na maombi ya likizo, hati za mshahara, taarifa zako, hali '
        "yako, kuripoti tatizo bila jina, sera za kampuni, na kupeleka swali kwa hr.",
    },
    "help_supervisor": {
        "en": " You can also see pending leave requests and approve or reject them.",
        "sw": " Unaweza pia kuona maombi ya likizo yanayosubiri na kuyakubali au kuyakataa.",
    },
    "help_hr": {
        "en": " As hr you can also see wellness trends, run payroll and answer hr cases.",
        "sw": " Kama hr unaweza pia kuona mwenendo wa ustawi, kuendesha mishahara na kujibu "
        "kesi za hr.",
    },
    "greeting": {
        "en": "Hello {name}! How can I help today?",
        "sw": "Habari {name}! Nikusaidie nini leo?",
    },
    "thanks": {
        "en": "You're welcome! I'm here if you need anything else.",
        "sw": "Karibu! Niko hapa ukihitaji chochote.",
    },
    "goodbye": {
        "en": "Goodbye, {name}. Take care!",
        "sw": "Kwaheri {name}, uwe na siku njema!",
    },
    "out_of_scope": {
        "en": "Sorry, that is not something I can help with: I'm Ajira, your HR assistant. "
        "I can help with clocking in and out, leave, payslips, your profile, policies, and "
        "passing questions to hr.",
        "sw": "Samahani, siwezi kusaidia kwa hilo: mimi ni Ajira, msaidizi wako wa HR. Naweza "
        "kusaidia kuingia na kutoka kazini, likizo, hati za mshahara, taarifa zako, sera, na "
        "kupeleka maswali kwa hr.",
    },
    "injection": {
        "en": "I can't do that. I only act for you, with the rights your role gives you, and "
        "every action is checked and recorded.",
        "sw": "Siwezi kufanya hivyo. Ninafanya kazi kwa niaba yako tu, kwa haki za nafasi yako, "
        "na kila kitendo kinakaguliwa na kurekodiwa.",
    },
    "unclear": {
        "en": "Sorry, I didn't catch that. Did you mean: {options}?",
        "sw": "Samahani, sijaelewa vizuri. Ulimaanisha: {options}?",
    },
    "nothing_pending": {
        "en": "There is nothing waiting for your answer. What can I do for you?",
        "sw": "Hakuna jambo linalosubiri jibu lako. Nikusaidie nini?",
    },
    "okay_not_done": {
        "en": "OK, I won't do that.",
        "sw": "Sawa, sitafanya hivyo.",
    },
    "ask_again": {
        "en": "Please answer yes or no: {question}",
        "sw": "Tafadhali jibu ndiyo au hapana: {question}",
    },
    # ---------------------------------------------------------------- feelings
    "feeling_low": {
        "en": "I'm sorry you're going through this. Thank you for telling me. If it helps, I "
        "can: note how you feel today anonymously (give me a number from 1, very bad, to 5, "
        "very good), show what the handbook offers for staff support, or pass a message to "
        "someone in hr. Or we can just leave it here.",
        "sw": "Pole sana kwa hali hii, na asante kwa kuniambia. Ukipenda, naweza: kurekodi "
        "hali yako leo bila jina (nipe namba kutoka 1, vibaya sana, hadi 5, vizuri sana), "
        "kukuonyesha msaada kwa wafanyakazi kwenye kitabu cha sera, au kupeleka ujumbe kwa "
        "mtu wa hr. Au tuache hapo.",
    },
    "feeling_good": {
        "en": "That's great to hear! Would you like to rate your day from 1 to 5? I'll note it "
        "anonymously.",
        "sw": "Vizuri sana kusikia hivyo! Ungependa kuipa siku yako alama kutoka 1 hadi 5? "
        "Nitairekodi bila jina.",
    },
    "ask_mood": {
        "en": "How do you feel today, from 1 (very bad) to 5 (very good)?",
        "sw": "Unajisikiaje leo, kutoka 1 (vibaya sana) hadi 5 (vizuri sana)?",
    },
    "mood_scale": {
        "en": "I note moods from 1 (very bad) to 5 (very good). Which number fits today?",
        "sw": "Ninarekodi hali kutoka 1 (vibaya sana) hadi 5 (vizuri sana). Namba gani inafaa leo?",
    },
    "support_query": {
        "en": "employee support counselling wellbeing",
        "sw": "msaada kwa wafanyakazi ushauri ustawi",
    },
    "hr_message_from_feeling": {
        "en": "Someone would like to talk about how they are doing at work.",
        "sw": "Mfanyakazi angependa kuongea kuhusu hali yake kazini.",
    },
    # ---------------------------------------------------------------- clocking
    "clock_for_other": {
        "en": "I can only clock you in or out, never someone else. {name} can clock in from "
        "their own phone (SMS, USSD or chat); their supervisor can correct the record if "
        "needed.",
        "sw": "Ninaweza kukuingiza au kukutoa wewe tu, si mtu mwingine. {name} anaweza kuingia "
        "kwa simu yake mwenyewe (SMS, USSD au chat); msimamizi wake anaweza kurekebisha "
        "rekodi ikihitajika.",
    },
    "clock_past": {
        "en": "I can only clock you in or out right now, not for another time. Your "
        "supervisor can correct a past clock-in or clock-out: ask them. When you are at work, "
        'say "clock me in" and I will do it then.',
        "sw": "Ninaweza kukuingiza au kukutoa sasa hivi tu, si kwa muda mwingine. Msimamizi "
        'wako anaweza kurekebisha rekodi ya zamani: mwombe. Ukifika kazini, sema "niingize" '
        "nitafanya hivyo.",
    },
    "condolence": {
        "en": "I'm so sorry for your loss. ",
        "sw": "Pole sana kwa msiba. ",
    },
    "congratulations": {
        "en": "Congratulations! ",
        "sw": "Hongera sana! ",
    },
    "no_working_days": {
        "en": "That day is a weekend or a public holiday. Which days would you like off? "
        'For example "from tomorrow for 3 days".',
        "sw": "Siku hiyo ni wikendi au sikukuu. Ungependa likizo siku zipi? Mfano "
        '"kuanzia kesho kwa siku 3".',
    },
    "marahaba": {
        "en": "Marahaba! How can I help today?",
        "sw": "Marahaba! Nikusaidie nini leo?",
    },
    "not_caught": {
        "en": "Sorry, I didn't catch that. Could you say it another way?",
        "sw": "Samahani, sijaelewa. Unaweza kusema kwa njia nyingine?",
    },
    "need_answer": {
        "en": 'What answer should I send? For example "answer case 3: yes, you may".',
        "sw": 'Nijibu nini? Mfano "jibu kesi 3: ndiyo, unaweza".',
    },
    "confirm_clock_in": {
        "en": "Do you want me to clock you in now? (yes/no)",
        "sw": "Nikuingize kazini sasa? (ndiyo/hapana)",
    },
    "confirm_clock_out": {
        "en": "Do you want me to clock you out now? (yes/no)",
        "sw": "Nikutoe kazini sasa? (ndiyo/hapana)",
    },
    "confirm_report": {
        "en": "Shall I file this as an anonymous report to hr ({category})? (yes/no)",
        "sw": "Niwasilishe hili kama ripoti isiyo na jina kwa hr ({category})? (ndiyo/hapana)",
    },
    "confirm_ask_hr": {
        "en": "Shall I pass this to someone in hr? (yes/no)",
        "sw": "Nipeleke hili kwa mtu wa hr? (ndiyo/hapana)",
    },
    # ---------------------------------------------------------------- leave
    "need_dates": {
        "en": 'Which dates? For example "1 to 5 December" or "tomorrow".',
        "sw": 'Ni tarehe gani? Mfano "tarehe 1 hadi 5 Desemba" au "kesho".',
    },
    "need_end": {
        "en": 'Until which date? For example "until the 24th" or "for 3 days".',
        "sw": 'Hadi tarehe gani? Mfano "hadi tarehe 24" au "kwa siku 3".',
    },
    "ambiguous_date": {
        "en": "Do you mean {first} or {second}?",
        "sw": "Unamaanisha {first} au {second}?",
    },
    "need_request": {
        "en": "Which request? {choices}",
        "sw": "Ombi lipi? {choices}",
    },
    "no_pending_own": {
        "en": "You have no pending leave request to cancel.",
        "sw": "Huna ombi la likizo linalosubiri la kufuta.",
    },
    "need_reason": {
        "en": 'Why? Tell me the reason to give {who}, for example "the team is short that week".',
        "sw": 'Nimpe {who} sababu gani? Mfano "timu ina upungufu wiki hiyo".',
    },
    "no_pending_for": {
        "en": "I found no pending leave request from {name}.",
        "sw": "Sikupata ombi la likizo linalosubiri la {name}.",
    },
    "several_pending_for": {
        "en": "{name} has several pending requests: {choices}. Which one?",
        "sw": "{name} ana maombi kadhaa yanayosubiri: {choices}. Ni lipi?",
    },
    # ---------------------------------------------------------------- people and data
    "not_found_person": {
        "en": "I couldn't find {name} among the people you can see.",
        "sw": "Sikumpata {name} miongoni mwa watu unaoweza kuwaona.",
    },
    "ambiguous_person": {
        "en": "More than one person matches: {names}. Please give the full name.",
        "sw": "Kuna zaidi ya mmoja: {names}. Tafadhali taja jina kamili.",
    },
    "others_payslip": {
        "en": "I can't show {name}'s payslip: payslips are private, and only hr can see other "
        "people's. I can show you your own if you ask.",
        "sw": "Siwezi kukuonyesha hati ya mshahara ya {name}: hati za mshahara ni siri, na hr "
        "pekee wanaweza kuona za wengine. Naweza kukuonyesha yako ukiomba.",
    },
    "others_data": {
        "en": "I can't show other people's pay, leave or wellbeing: that is private, and only "
        "hr can see it. I can show you your own.",
        "sw": "Siwezi kukuonyesha malipo, likizo au hali ya watu wengine: ni siri, na hr pekee "
        "wanaweza kuiona. Naweza kukuonyesha yako.",
    },
    "wellness_individual": {
        "en": "Moods are anonymous: nobody, hr included, can see one person's score. I can "
        "show the anonymous weekly summary instead.",
        "sw": "Hali za wafanyakazi ni siri: hakuna, hata hr, anayeweza kuona alama ya mtu "
        "mmoja. Naweza kukuonyesha muhtasari wa wiki bila majina.",
    },
    "report_author": {
        "en": "Reports are anonymous: Ajira never records who filed one, so nobody, hr "
        "included, can find out. I can show what the report says, not who wrote it.",
        "sw": "Ripoti hazina majina: Ajira haihifadhi aliyeiandika, kwa hiyo hakuna, hata hr, "
        "anayeweza kujua. Naweza kuonyesha ripoti inasema nini, si nani aliiandika.",
    },
    # ---------------------------------------------------------------- pay
    "need_amount": {
        "en": "For which gross monthly salary? For example 85,000.",
        "sw": "Kwa mshahara gani wa jumla kwa mwezi? Mfano 85,000.",
    },
    "need_month": {
        "en": "For which month? For example November 2026.",
        "sw": "Kwa mwezi gani? Mfano Novemba 2026.",
    },
    # ---------------------------------------------------------------- policy and hr
    "policy_unknown": {
        "en": "The handbook does not say. Shall I ask hr for you? (yes/no)",
        "sw": "Kitabu cha sera hakisemi. Nikuulizie hr? (ndiyo/hapana)",
    },
    "need_message_to": {
        "en": 'Who is the message for: everyone, a department (e.g. "Logistics") or a person?',
        "sw": 'Ujumbe ni kwa nani: wote, idara (mf. "Logistics") au mtu mmoja?',
    },
    "need_message_text": {
        "en": "What should the message to {to} say?",
        "sw": "Ujumbe kwa {to} useme nini?",
    },
    "need_quiet_hours": {
        "en": 'Which hours should I keep quiet? For example "nothing between 9pm and 7am".',
        "sw": 'Nisikutumie ujumbe saa ngapi? Kwa mfano "kati ya saa tatu usiku na saa moja '
        'asubuhi".',
    },
    "need_question_for_hr": {
        "en": "What would you like me to pass to hr?",
        "sw": "Ungependa nipeleke nini kwa hr?",
    },
    "need_review": {
        "en": "Who, for which period, and what overall score from 1 to 5? For example "
        '"review Amina for 2026-Q4: 4, great attendance".',
        "sw": "Ni nani, kipindi gani, na alama gani kutoka 1 hadi 5? Mfano "
        '"tathmini ya Amina 2026-Q4: 4, mahudhurio mazuri".',
    },
    # ---------------------------------------------------------------- around every turn
    "confirm": {"en": "Confirm? (yes/no)", "sw": "Thibitisha? (ndiyo/hapana)"},
    "confirm_question": {"en": "Confirm?", "sw": "Thibitisha?"},
    "yes": {"en": "Yes", "sw": "Ndiyo"},
    "no": {"en": "No", "sw": "Hapana"},
    "moved_on": {
        "en": "(I dropped the action you did not confirm.)",
        "sw": "(Nimeacha kitendo ambacho hukuthibitisha.)",
    },
    "secret_removed": {
        "en": "(You typed a password or PIN: I did not keep it. Nobody will ever ask you for it "
        "here; if someone may have seen it, change it.)",
        "sw": "(Umeandika nenosiri au PIN: sikuihifadhi. Hakuna atakayekuuliza hapa; kama mtu "
        "ameiona, ibadilishe.)",
    },
    # Two sentences on purpose: "unavailable" when the turn broke and what it did is not
    # known; "unreachable" when the model failed and the turn was undone, so it can say
    # that nothing was done.
    "unavailable": {
        "en": "The assistant is not available right now. Please send your message again in a "
        "moment.",
        "sw": "Msaidizi hapatikani kwa sasa. Tafadhali tuma ujumbe wako tena baada ya muda mfupi.",
    },
    "unreachable": {
        "en": "The assistant is not available right now, so nothing was done. Please send your "
        "message again in a moment.",
        "sw": "Msaidizi hapatikani kwa sasa, kwa hiyo hakuna kilichofanyika. Tafadhali tuma "
        "ujumbe wako tena baada ya muda mfupi.",
    },
    "unreachable_after": {
        "en": "Done: {done} The assistant then stopped answering; please send anything else "
        "again in a moment.",
        "sw": "Imefanyika: {done} Kisha msaidizi aliacha kujibu; tafadhali tuma jambo jingine "
        "tena baada ya muda mfupi.",
    },
}


def in_every_language(key: str) -> dict[str, str]:
    """The sentence `key` by language, for a caller that picks the language later."""
    return dict(TEXTS[key])


def say(key: str, language: str, **params: Any) -> str:
    """The sentence `key` in `language` ("sw" or English), with `params` filled in."""
    texts = TEXTS[key]
    text = texts.get(language) or texts["en"]
    return text.format(**params) if params else text
