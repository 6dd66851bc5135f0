"""What leave says to people, in English: requests, balances, notifications and refusals.

One catalog, as `hrcore/automations/texts.py` and `hrcore/reports/words.py` are for
theirs: the leave service and the leave tools fill these entries and spell no sentence
of their own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hrcore.dates import month_name, short_date, short_day
from hrcore.leave.models import Accrual, LeaveRequest, LeaveStatus, LeaveType
from hrcore.leave.schemas import BalanceView

TEXTS: dict[str, str] = {
    # Leave types.
    "invalid_code": "A leave type code is 2–32 lower-case letters, digits or underscores.",
    "name_required": "A name of at most 100 characters is required.",
    "days_per_year_range": "Days per year must be between 0 and 366 in half days.",
    "carry_over_cap_range": "The carry-over cap must be between 0 and 366 in half days.",
    "carry_over_expiry_range": "Carried-over days expire after 0 to 24 months.",
    "invalid_accrual": "Accrual is 'monthly' or 'upfront'.",
    "leave_type_exists": "A leave type with code {code!r} already exists.",
    "leave_type_not_found": "There is no leave type {code!r}. Known types: {known}.",
    "no_leave_types": "none",
    # Balances.
    "invalid_year": "That year is out of range.",
    "as_of_outside_year": "The date must fall within the year asked for.",
    "no_limit": "{name}: no limit",
    "available": "{name}: {days} available",
    "after_pending": " after {days} pending approval",
    "carried_from_must_be_used": "; {days} carried over from {year} must be used by {last_day}",
    "carried_must_be_used": "; {days} carried over must be used by {last_day}",
    "kept_back": "; {days} kept back to carry over for leave booked in {year}",
    "not_enough": "Not enough {type}: {figure}, but this needs {needed}.",
    "figure": "{days} available",
    "figure_by_month": " by {month}",
    "figure_with_carry": ", including {days} carried over from {year}, usable until {last_day}",
    "figure_keeping": ", keeping {days} to carry over for leave booked in {year}",
    # Requests.
    "reason_too_long": "The reason is longer than 1000 characters.",
    "comment_too_long": "The comment is longer than 1000 characters.",
    "end_before_start": "The end date is before the start date.",
    "half_day_one_date": "A half day must start and end on the same date.",
    "spans_years": "Leave cannot span two calendar years because each year has its own "
    "balance: please make one request up to 31 Dec {first} and another from 1 Jan {second}.",
    "no_working_days": "Those dates are all weekends or public holidays: no working days to take.",
    "past_sick": "That start date is in the past: sick leave can start up to {days} days back.",
    "past": "That start date is in the past: leave cannot start before today.",
    "overlapping": "You already have {request} overlapping those dates.",
    "request": "{type} {period}, {days} ({status})",
    "request_half_day": " (half day)",
    "request_needs_document": "; a supporting document (such as a medical certificate) is needed",
    "pending": "pending approval",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    # Decisions and withdrawals.
    "invalid_decision": "The decision is 'approve' or 'reject'.",
    "own_request": "Nobody may decide their own leave request.",
    "not_your_team": "You may only decide leave for people who report to you.",
    "not_pending_decide": "This request is already {status}; only pending requests can be decided.",
    "comment_required": "Please give a reason when rejecting leave.",
    "not_your_request": "You may only cancel your own leave requests.",
    "not_pending_cancel": "This request is already {status}; only pending requests can be "
    "cancelled.",
    "ask_to_change_approved": " To change approved leave, ask your supervisor or hr.",
    "invalid_status": "Unknown status {status!r}: use {known}.",
    # Notifications.
    "requested": "{name} asked for {request}. Request #{id}.",
    "decided": "Your {request}.",
    "decided_by": "Your {request} by {name}.",
    "decision_comment": " Comment: {comment}",
    "withdrawn": "{name} withdrew their request #{id}: {request}.",
}

_STATUS = {
    LeaveStatus.PENDING: "pending",
    LeaveStatus.APPROVED: "approved",
    LeaveStatus.REJECTED: "rejected",
    LeaveStatus.CANCELLED: "cancelled",
}


def say(key: str, **params: object) -> str:
    """The text `key`, filled with `params`."""
    return TEXTS[key].format(**params)


def plural_days(days: Decimal, unit: str = "day") -> str:
    """`1 day`, `2.5 working days`: whole and half days, without a trailing `.0`."""
    text = f"{Decimal(days):.1f}".removesuffix(".0")
    return f"{text} {unit}{'' if days == 1 else 's'}"


def day_unit(leave_type: LeaveType) -> str:
    """What one day of this leave type is called: a calendar day or a working day."""
    return "day" if leave_type.counts_calendar_days else "working day"


def format_period(start: date, end: date) -> str:
    """`1 Dec 2026`, `1–5 Dec 2026`, `28 Nov – 2 Dec 2026`."""
    if start == end:
        return short_date(start, "en")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{short_date(end, 'en')}"
    if start.year == end.year:
        return f"{short_day(start, 'en')} – {short_date(end, 'en')}"
    return f"{short_date(start, 'en')} – {short_date(end, 'en')}"


def describe_request(request: LeaveRequest) -> str:
    """`Annual leave 1–5 Dec 2026, 5 working days (pending approval)`."""
    period = format_period(request.start_date, request.end_date)
    if request.half_day:
        period += say("request_half_day")
    text = say(
        "request",
        type=request.leave_type.name,
        period=period,
        days=plural_days(request.days, day_unit(request.leave_type)),
        status=say(_STATUS[request.status]),
    )
    if request.leave_type.requires_document and request.status is LeaveStatus.PENDING:
        text += say("request_needs_document")
    return text


def describe_balance(view: BalanceView) -> str:
    """`Annual leave: 16 days available`."""
    if not view.limited or view.available is None:
        return say("no_limit", name=view.name)
    text = say("available", name=view.name, days=plural_days(view.available))
    if view.pending:
        text += say("after_pending", days=plural_days(view.pending))
    last_day = view.carry_usable_until
    if last_day is not None and view.carried_over_usable:
        carried = plural_days(view.carried_over_usable)
        # A projected carry is not written yet: it is what the previous year leaves
        # unused, so say where it comes from.
        text += say(
            "carried_from_must_be_used" if view.carry_over_projected else "carried_must_be_used",
            days=carried,
            year=view.year - 1,
            last_day=short_date(last_day, "en"),
        )
    if view.reserved_for_next_year:
        text += say("kept_back", days=plural_days(view.reserved_for_next_year), year=view.year + 1)
    return text


def not_enough(view: BalanceView, leave_type: LeaveType, needed: Decimal) -> str:
    """Why a request for `needed` days does not fit the balance in `view`."""
    available = view.available if view.available is not None else Decimal(0)
    figure = say("figure", days=plural_days(available))
    if leave_type.accrual is Accrual.MONTHLY:
        figure += say("figure_by_month", month=month_name(view.as_of.year, view.as_of.month, "en"))
    last_day = view.carry_usable_until
    if last_day is not None and view.carried_over_usable:
        figure += say(
            "figure_with_carry",
            days=plural_days(view.carried_over_usable),
            year=view.year - 1,
            last_day=short_date(last_day, "en"),
        )
    if view.reserved_for_next_year:
        figure += say(
            "figure_keeping", days=plural_days(view.reserved_for_next_year), year=view.year + 1
        )
    return say(
        "not_enough",
        type=leave_type.name.lower(),
        figure=figure,
        needed=plural_days(needed, day_unit(leave_type)),
    )
