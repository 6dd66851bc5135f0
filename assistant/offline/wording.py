"""Replies of the offline model in English and Swahili, worded from tool results."""

from __future__ import annotations

import json
import re
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from hrcore.dates import day_month, month_name

SW_LEAVE = {
    "annual": "likizo ya mwaka",
    "sick": "likizo ya ugonjwa",
    "maternity": "likizo ya uzazi",
    "paternity": "likizo ya uzazi kwa baba",
    "compassionate": "likizo ya msiba",
    "unpaid": "likizo bila malipo",
}
SW_STATUS = {
    "pending": "inasubiri idhini",
    "approved": "imekubaliwa",
    "rejected": "imekataliwa",
    "cancelled": "imefutwa",
}
SW_ISSUE = {
    "harassment": "unyanyasaji",
    "safety": "usalama",
    "workload": "mzigo wa kazi",
    "pay": "malipo",
    "discrimination": "ubaguzi",
    "facilities": "vifaa na mazingira ya kazi",
    "other": "jambo jingine",
}
#: What each tool does, for "you can't do that" replies.
EN_ACTIONS = {
    "approve_leave": "decide leave requests",
    "submit_review": "write performance reviews",
    "run_payroll": "run payroll",
    "wellness_summary": "see the wellness summary",
    "ask_hr": "pass questions to hr",
    "search_policy": "search the policies",
    "work_report_chart": "see charts of your team's work report",
    "wellness_chart": "see the wellness chart",
    "send_message": "send messages to staff",
    "message_status": "see how a message to staff was delivered",
    "automation_settings": "change the employer's automations",
}
SW_ACTIONS = {
    "approve_leave": "kuamua maombi ya likizo",
    "submit_review": "kuandika tathmini za utendaji",
    "run_payroll": "kuendesha mishahara",
    "wellness_summary": "kuona muhtasari wa ustawi",
    "ask_hr": "kupeleka maswali kwa hr",
    "search_policy": "kutafuta katika sera",
    "work_report_chart": "kuona chati za ripoti ya kazi ya timu",
    "wellness_chart": "kuona chati ya ustawi",
    "send_message": "kutuma ujumbe kwa wafanyakazi",
    "message_status": "kuona jinsi ujumbe kwa wafanyakazi ulivyofika",
    "automation_settings": "kubadilisha mipangilio ya kampuni ya vikumbusho",
}
_FORBIDDEN_CODES = frozenset(
    {"forbidden", "own_request", "not_your_team", "not_your_request", "own_payslips_only"}
)


HR_OFFER_EN = 'Would you like me to pass your question to hr? Say "yes" or "talk to hr".'
HR_OFFER_SW = 'Ungependa nipeleke swali lako kwa hr? Sema "ndiyo" au "nataka kuongea na hr".'


def not_allowed(tool: str, lang: str) -> str:
    """The reply when the user's role lacks the tool they asked for."""
    if lang == "sw":
        what = SW_ACTIONS.get(tool)
        return "Huna ruhusa ya kufanya hivyo" + (f" ({what})" if what else "") + " kwa nafasi yako."
    what = EN_ACTIONS.get(tool, "do that")
    return f"You can't {what} with your role, so I can't do that for you."


# ------------------------------------------------------------------ results


def parse_content(content: Any) -> Any:
    """A ToolMessage's content as JSON data, or the plain text when it is not JSON."""
    if isinstance(content, list):
        content = "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError:
            return content
    return content


def word_result(tool: str, data: Any, status: str, lang: str, timezone: str) -> str:
    """One tool result (or error) in the user's language; text in results is only quoted."""
    sw = lang == "sw"
    if isinstance(data, str):
        if status == "error" or "rejected the tool call" in data:
            if m := re.search(r"would fail: (?P<msg>.+?) \(code: (?P<code>[\w.]+)\)", data):
                return word_error(tool, {"code": m["code"], "message": m["msg"]}, lang)
            if "rejected" in data:
                return "Sawa, sijafanya hivyo." if sw else "OK, I haven't done that."
            return "Samahani, hilo halikufanikiwa." if sw else "Sorry, that didn't work."
        return data[:1500]
    if not isinstance(data, dict):
        return "Imekamilika." if sw else "Done."
    if isinstance(data.get("error"), dict):
        return word_error(tool, data["error"], lang)
    if tool == "search_policy":
        return word_policy(data, lang)
    if not sw:
        summary = data.get("summary")
        text = str(summary) if summary else "Done."
        if tool == "fetch_payslip" and data.get("pdf_url") and data["pdf_url"] not in text:
            text += f" PDF: {data['pdf_url']}"
        text += _chart_links(data, lang)
        if tool == "send_message" and data.get("broadcast_id"):
            text = f"Sent. {text} Ask “status of message {data['broadcast_id']}” for deliveries."
        return text
    try:
        worded = _SWAHILI.get(tool, _sw_generic)(data, timezone)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        worded = None
    return worded or _sw_generic(data, timezone)


def word_error(tool: str, error: dict[str, Any], lang: str) -> str:
    """A tool's error explained plainly."""
    code = str(error.get("code") or "error")
    message = str(error.get("message") or "").strip()
    sw = lang == "sw"
    if code in _FORBIDDEN_CODES or error.get("status") == 403:
        if sw:
            return "Huna ruhusa ya kufanya hivyo."
        return "You can't do that with your role." + (f" {message}" if message else "")
    if sw:
        if code in ("not_found", "tool_not_found") or code.endswith("_not_found"):
            return "Sikukipata ulichoomba." + (f" ({message})" if message else "")
        if code == "payroll_not_configured":
            return (
                "Mishahara bado haijawekwa kwa mwajiri wako, kwa hiyo hakuna hati ya mshahara bado."
            )
        if code == "insufficient_balance":
            return "Huna siku za kutosha za likizo hiyo." + (f" ({message})" if message else "")
        if code == "overlapping_request":
            return "Tayari una ombi la likizo katika tarehe hizo."
        if code == "date_in_past":
            return "Tarehe hiyo imeshapita; chagua tarehe ijayo."
        return "Samahani, sikuweza kufanya hivyo." + (f" ({message})" if message else "")
    return f"Sorry, I couldn't do that: {message}" if message else "Sorry, I couldn't do that."


def word_policy(data: dict[str, Any], lang: str) -> str:
    """The top passages as quotes with [n] markers, then their sources."""
    sw = lang == "sw"
    results = [r for r in data.get("results") or [] if isinstance(r, dict)][:3]
    if not results:
        lead = (
            "Sikupata jibu katika sera za mwajiri wako."
            if sw
            else (str(data.get("summary") or "I found nothing about that in the policies."))
        )
        return f"{lead} {HR_OFFER_SW if sw else HR_OFFER_EN}"
    citations = {c.get("number"): c for c in data.get("citations") or [] if isinstance(c, dict)}
    lines = ["Sera inasema:" if sw else "Here is what the policy says:"]
    sources = []
    for n, result in enumerate(results, start=1):
        if n == 1:  # the best passage is quoted; the next ones are offered as sources
            quote = " ".join(str(result.get("quote", "")).split())
            if len(quote) > 400:
                quote = quote[:397].rsplit(" ", 1)[0] + "…"
            lines.append(f"“{quote}” [{n}]")
        cite = citations.get(n, result)
        section = " › ".join(str(h) for h in cite.get("heading_path") or [])
        title = cite.get("document_title") or result.get("document_title") or ""
        sources.append(f"[{n}] {title}" + (f" — {section}" if section else ""))
    lines.append(("Vyanzo: " if sw else "Sources: ") + "; ".join(sources))
    return "\n".join(lines)


# ------------------------------------------------------------------ Swahili


def _d(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def sw_date(value: Any) -> str:
    """'1 Desemba 2026'."""
    return day_month(_d(value), "sw", year=True)


def _sw_span(start: Any, end: Any) -> str:
    a, b = _d(start), _d(end)
    if a == b:
        return sw_date(a)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{day_month(b, 'sw', year=True)}"
    return f"{sw_date(a)} hadi {sw_date(b)}"


def _num(value: Any) -> str:
    number = Decimal(str(value))
    text = f"{number:.1f}".removesuffix(".0")
    return text


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}".removesuffix(".00")


def _local_time(value: Any, timezone: str) -> str:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    with suppress(KeyError, ValueError):
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%H:%M")


def _sw_leave_name(code: str, name: str | None = None) -> str:
    return SW_LEAVE.get(code) or (name or code)


def _sw_leave_item(item: dict[str, Any]) -> str:
    days = _num(item["days"])
    kind = _sw_leave_name(item["leave_type"], item.get("leave_type_name"))
    half = " (nusu siku)" if item.get("half_day") else ""
    status = SW_STATUS.get(item["status"], item["status"])
    return (
        f"#{item['request_id']} {item.get('employee_name', '')}: {kind} "
        f"{_sw_span(item['start_date'], item['end_date'])}{half}, siku {days}, {status}"
    )


def _sw_request_leave(data: dict[str, Any], tz: str) -> str:
    kind = _sw_leave_name(data["leave_type"], data.get("leave_type_name")).capitalize()
    half = " (nusu siku)" if data.get("half_day") else ""
    text = (
        f"{kind}: {_sw_span(data['start_date'], data['end_date'])}{half}, siku {_num(data['days'])}"
        f", {SW_STATUS.get(data['status'], data['status'])} (ombi #{data['request_id']})."
    )
    if data.get("available_after") is not None:
        text += f" Siku {_num(data['available_after'])} zitabaki."
    return text


def word_preview(tool: str, data: dict[str, Any], lang: str) -> str | None:
    """What a confirmation is about to do, in Swahili; None to keep the tool's own summary."""
    if lang != "sw":
        return None
    try:
        if tool == "request_leave":
            kind = _sw_leave_name(data["leave_type"], data.get("leave_type_name")).capitalize()
            half = " (nusu siku)" if data.get("half_day") else ""
            text = (
                f"{kind}: {_sw_span(data['start_date'], data['end_date'])}{half}, "
                f"siku {_num(data['days'])}, itasubiri idhini."
            )
            if data.get("available_after") is not None:
                text += f" Siku {_num(data['available_after'])} zitabaki."
            return text
        if tool in ("approve_leave", "cancel_leave"):
            verb = {"approved": "Kukubali", "rejected": "Kukataa", "cancelled": "Kufuta"}
            kind = _sw_leave_name(data["leave_type"], data.get("leave_type_name"))
            return (
                f"{verb.get(data['status'], 'Kubadilisha')} ombi #{data['request_id']} "
                f"({data.get('employee_name', '')}, {kind} "
                f"{_sw_span(data['start_date'], data['end_date'])})."
            )
        if tool == "send_message":
            return (
                f"Ujumbe kwa {_sw_audience(data)} (watu {data['recipients']}): "
                f"“{_short(data['text'])}”"
            )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    return None


def _sw_audience(data: dict[str, Any]) -> str:
    if data["audience"] == "everyone":
        return "wote"
    if data["audience"] == "department":
        name = str(data["audience_name"]).removeprefix("the ").removesuffix(" department")
        return f"idara ya {name}"
    return str(data["audience_name"])


def _short(text: str, most: int = 120) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= most else flat[: most - 1].rstrip() + "…"


def _sw_message_sent(data: dict[str, Any], tz: str) -> str:
    return (
        f"Nimetuma ujumbe #{data['broadcast_id']} kwa {_sw_audience(data)} "
        f"(watu {data['recipients']}). Uliza “hali ya ujumbe {data['broadcast_id']}” "
        "kuona umefika kwa wangapi."
    )


_SW_CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram",
                "email": "barua pepe", "web": "programu ya wavuti"}  # fmt: skip
_SW_REMINDERS = {
    "late_digest": "muhtasari wa waliochelewa",
    "midday_check": "ukaguzi wa mchana",
    "clock_out_reminder": "kikumbusho cha kutoka kazini",
    "mood_invitation": "mwaliko wa kila wiki wa hisia",
}


def _sw_preferences(data: dict[str, Any], tz: str) -> str:
    now = _SW_CHANNELS.get(data["channel_now"], data["channel_now"])
    where = (
        f"Arifa zako zinatumwa kwa {now}"
        if data["channel"] != "default"
        else f"Arifa zako zinatumwa kwa programu ya mazungumzo uliyotumia mwisho (sasa {now})"
    )
    quiet = (
        f"muda wa kimya {str(data['quiet_start'])[:5]}–{str(data['quiet_end'])[:5]}"
        if data.get("quiet_start") and data.get("quiet_end")
        else "hakuna muda wa kimya"
    )
    muted = ", ".join(_SW_REMINDERS.get(n, n) for n in data.get("muted") or []) or "hakuna"
    return f"{where}; {quiet}; vikumbusho vilivyozimwa: {muted}."


def _sw_message_status(data: dict[str, Any], tz: str) -> str:
    return (
        f"Ujumbe #{data['broadcast_id']} kwa watu {data['recipients']}: umefika kwa "
        f"{data['delivered']}, umetumwa kwa {data['sent']}, bado {data['pending']}, "
        f"umeshindwa {data['failed']}."
    )


#: The links a chart tool returns, and how each is introduced.
_CHART_LINKS = {
    "chart_url": ("Chart", "Chati"),
    "lateness_chart_url": ("Late arrivals by month", "Kuchelewa kwa kila mwezi"),
}


def _chart_links(data: dict[str, Any], lang: str) -> str:
    """The chart links of a result, one a line, in the user's language."""
    lines = [
        f"{words[lang == 'sw']}: {data[key]}"
        for key, words in _CHART_LINKS.items()
        if isinstance(data.get(key), str)
    ]
    return "\n" + "\n".join(lines) if lines else ""


def _sw_work_chart(data: dict[str, Any], tz: str) -> str:
    return (
        f"Ripoti ya kazi ya {month_name(int(data['year']), int(data['month']), 'sw')}: watu "
        f"{data['people']} walihudhuria, saa {_num(data['hours_worked'])} kwa jumla, kuchelewa "
        f"mara {data['late_arrivals']}. Viungo vinafanya kazi kwa dakika 30."
        + _chart_links(data, "sw")
    )


def _sw_wellness_chart(data: dict[str, Any], tz: str) -> str:
    latest = data.get("latest_average")
    figures = (
        f"wastani wa wiki ya karibuni ni {_num(latest)}/5."
        if latest is not None
        else "hakuna wiki yenye majibu ya kutosha kuonyeshwa."
    )
    return (
        f"Hali ya wafanyakazi kwa wiki (bila majina; vikundi vya watu chini ya 5 haviwekwi): "
        f"{figures} Kiungo kinafanya kazi kwa dakika 30." + _chart_links(data, "sw")
    )


def _sw_decided(data: dict[str, Any], tz: str) -> str:
    verb = {
        "approved": "limekubaliwa",
        "rejected": "limekataliwa",
        "cancelled": "limefutwa",
        "pending": "bado linasubiri",
    }.get(data["status"], data["status"])
    kind = _sw_leave_name(data["leave_type"], data.get("leave_type_name"))
    text = (
        f"Ombi #{data['request_id']} ({data.get('employee_name', '')}, {kind} "
        f"{_sw_span(data['start_date'], data['end_date'])}) {verb}."
    )
    if data.get("comment"):
        text += f" Maoni: {data['comment']}"
    return text


def _sw_requests(data: dict[str, Any], tz: str) -> str:
    items = data.get("requests") or []
    if not items:
        return "Hakuna maombi ya likizo."
    return f"Maombi {len(items)}:\n" + "\n".join(_sw_leave_item(i) for i in items)


def _sw_balance(data: dict[str, Any], tz: str) -> str:
    lines = []
    for b in data.get("balances") or []:
        kind = _sw_leave_name(b["leave_type"], b.get("name")).capitalize()
        if b.get("available") is None:
            lines.append(f"{kind}: bila kikomo (umechukua siku {_num(b['taken'])}).")
        else:
            lines.append(
                f"{kind}: siku {_num(b['available'])} zimebaki (umechukua {_num(b['taken'])}, "
                f"zinasubiri {_num(b['pending'])})."
            )
    return "\n".join(lines) if lines else "Hakuna salio la likizo."


def _sw_month(period: str) -> str:
    year, month = period.split("-")
    return month_name(int(year), int(month), "sw")


def _sw_payslip(data: dict[str, Any], tz: str) -> str:
    cur = data.get("currency", "")
    return (
        f"Hati ya mshahara ya {_sw_month(data['period'])}: mshahara ghafi {cur} "
        f"{_money(data['gross_pay'])}, makato {cur} {_money(data['total_deductions'])}, "
        f"unapokea {cur} {_money(data['net_pay'])}. PDF: {data.get('pdf_url', '')}"
    )


def _sw_payslips(data: dict[str, Any], tz: str) -> str:
    items = data.get("payslips") or []
    if not items:
        return "Hakuna hati za mshahara bado."
    return "Hati za mshahara:\n" + "\n".join(
        f"{_sw_month(p['period'])}: unapokea {p.get('currency', '')} {_money(p['net_pay'])}"
        for p in items
    )


def _sw_shift(data: dict[str, Any], tz: str) -> str:
    if data.get("clock_out_at"):
        start = datetime.fromisoformat(str(data["clock_in_at"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(data["clock_out_at"]).replace("Z", "+00:00"))
        hours = (end - start).total_seconds() / 3600
        return (
            f"Umetoka kazini saa {_local_time(data['clock_out_at'], tz)}. "
            f"Umefanya kazi saa {hours:.1f}. Kwaheri!"
        )
    text = f"Umeingia kazini saa {_local_time(data['clock_in_at'], tz)}."
    late = int(data.get("late_minutes") or 0)
    text += f" Umechelewa dakika {late}." if late > 0 else " Karibu kazini!"
    return text


def _sw_history(data: dict[str, Any], tz: str) -> str:
    shifts = data.get("shifts") or []
    if not shifts:
        return "Hakuna mahudhurio katika kipindi hicho."
    lines = []
    for s in shifts:
        day = datetime.fromisoformat(str(s["clock_in_at"]).replace("Z", "+00:00"))
        out = _local_time(s["clock_out_at"], tz) if s.get("clock_out_at") else "bado"
        lines.append(
            f"{sw_date(day.date())}: kuingia {_local_time(s['clock_in_at'], tz)}, kutoka {out}"
        )
    return f"Zamu {len(shifts)}:\n" + "\n".join(lines)


def _sw_report(data: dict[str, Any], tz: str) -> str:
    rows = data.get("rows") or []
    head = f"Ripoti ya kazi ya {month_name(int(data['year']), int(data['month']), 'sw')}"
    if not rows:
        return head + ": hakuna kazi iliyorekodiwa."
    return (
        head
        + ":\n"
        + "\n".join(
            f"{r['full_name']}: saa {_num(r['hours_worked'])}, siku {r['days_present']}, "
            f"kuchelewa mara {r['late_arrivals']}"
            for r in rows
        )
    )


def _sw_mood(data: dict[str, Any], tz: str) -> str:
    return f"Asante! Hali yako ya leo ({data['score']}/5) imehifadhiwa bila jina lako."


def _sw_issue(data: dict[str, Any], tz: str) -> str:
    topic = SW_ISSUE.get(data.get("category", ""), data.get("category", ""))
    return f"Asante. Ripoti yako kuhusu {topic} imetumwa kwa hr bila jina lako."


def _sw_review(data: dict[str, Any], tz: str) -> str:
    return (
        f"Tathmini ya {data.get('employee_name', '')} kwa kipindi {data['period']} imehifadhiwa: "
        f"alama {_num(data['overall_score'])} kati ya 5."
    )


def _sw_reviews(data: dict[str, Any], tz: str) -> str:
    reviews = data.get("reviews") or []
    if not reviews:
        return "Hakuna tathmini bado."
    return "Tathmini:\n" + "\n".join(
        f"{r.get('employee_name', '')} ({r['period']}): alama {_num(r['overall_score'])}/5"
        for r in reviews
    )


def _sw_people(data: dict[str, Any], tz: str) -> str:
    people = data.get("employees") or []
    return f"Watu {len(people)}:\n" + "\n".join(
        f"#{p['employee_id']} {p['full_name']}" for p in people
    )


def _sw_leave_types(data: dict[str, Any], tz: str) -> str:
    types = data.get("leave_types") or []
    return "Aina za likizo:\n" + "\n".join(
        f"{_sw_leave_name(t['code'], t.get('name')).capitalize()} ({t['code']}): "
        f"siku {_num(t['days_per_year'])} kwa mwaka"
        for t in types
    )


def _sw_ask_hr(data: dict[str, Any], tz: str) -> str:
    case = next((data[k] for k in ("case_id", "id", "ticket_id") if k in data), None)
    ref = f" (kesi #{case})" if case is not None else ""
    return f"Nimepeleka swali lako kwa hr{ref}. Watakujibu hapa hapa."


def _sw_salary_preview(data: dict[str, Any], tz: str) -> str:
    cur = data.get("currency", "")
    return (
        f"Kwa mshahara ghafi wa {cur} {_money(data['gross_pay'])} kwa mwezi: "
        f"PAYE {cur} {_money(data['paye'])}, makato yote {cur} "
        f"{_money(data['total_deductions'])}, utapokea {cur} {_money(data['net_pay'])}."
    )


def _sw_generic(data: dict[str, Any], tz: str) -> str:
    summary = data.get("summary")
    return f"Imekamilika. {summary}" if summary else "Imekamilika."


_SWAHILI = {
    "request_leave": _sw_request_leave,
    "cancel_leave": _sw_decided,
    "approve_leave": _sw_decided,
    "list_leave_requests": _sw_requests,
    "leave_balance": _sw_balance,
    "fetch_payslip": _sw_payslip,
    "salary_preview": _sw_salary_preview,
    "list_payslips": _sw_payslips,
    "clock_in": _sw_shift,
    "clock_out": _sw_shift,
    "attendance_history": _sw_history,
    "monthly_work_report": _sw_report,
    "submit_mood": _sw_mood,
    "report_issue": _sw_issue,
    "submit_review": _sw_review,
    "list_reviews": _sw_reviews,
    "list_employees": _sw_people,
    "work_report_chart": _sw_work_chart,
    "wellness_chart": _sw_wellness_chart,
    "list_leave_types": _sw_leave_types,
    "ask_hr": _sw_ask_hr,
    "send_message": _sw_message_sent,
    "get_preferences": _sw_preferences,
    "set_preferences": _sw_preferences,
    "message_status": _sw_message_status,
}
