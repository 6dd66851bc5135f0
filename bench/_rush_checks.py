"""What the 08:00 rush must leave in the database: every action once, every message once.

Read straight from the tables after the rush, never from what the API answered.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from _rush_plan import ALREADY, Person, Plan, arranged
from _rush_stack import RecordingAfricasTalking, Taken
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.attendance.models import AttendanceRecord
from hrcore.audit import AuditEntry
from hrcore.identities.models import InboundMessage
from hrcore.notifications.models import Notification, NotificationAttempt, NotificationStatus
from hrcore.people.models import User

#: The actor's channel a clock-in must carry, by how it was made.
METHOD = {"rest": "api", "ussd": "ussd", "sms": "sms", "chat": "web"}
_UNSETTLED = (NotificationStatus.PENDING, NotificationStatus.SENDING)


def _quiet(sms_ids: list[str]) -> bool:
    with arranged() as session:
        done = session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                InboundMessage.channel == "sms",
                InboundMessage.external_id.in_([f"sms:{i}" for i in set(sms_ids)]),
                InboundMessage.done_at.is_not(None),
            )
        )
        unsettled = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status.in_(_UNSETTLED))
        )
    return done == len(set(sms_ids)) and unsettled == 0


def wait_for_quiet(
    sms_ids: list[str], stand_in: RecordingAfricasTalking, timeout: float
) -> float | None:
    """Wait until every SMS was handled and the outbox is empty; when that was (or None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _quiet(sms_ids):
            return time.perf_counter()
        time.sleep(0.25)
    return None


def wait_for_delivered(timeout: float) -> bool:
    """Wait until no row is left `sent`: every delivery report was recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with arranged() as session:
            left = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == NotificationStatus.SENT)
            )
        if not left:
            return True
        time.sleep(0.25)
    return False


@dataclass
class Verdict:
    """Every check's count of what went wrong, with examples."""

    employees: int = 0
    lost: int = 0
    doubled: int = 0
    wrong_method: int = 0
    strays: int = 0
    audit_ok_not_once: int = 0
    audit_refusals: Counter[str] = field(default_factory=Counter)
    audit_refusals_unexpected: int = 0
    racing: int = 0
    races_wrong: int = 0
    late: int = 0
    notifications: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    outbox_wrong: int = 0
    stand_in_messages: int = 0
    stand_in_unmatched: int = 0
    sms_clock_ins: int = 0
    sms_replies_not_once: int = 0
    sms_unhandled: int = 0
    digests: int = 0
    digest_problems: int = 0
    digest_output: str = ""
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 15:
            self.examples.append(text)

    @property
    def ok(self) -> bool:
        return not any(
            (
                self.lost,
                self.doubled,
                self.wrong_method,
                self.strays,
                self.audit_ok_not_once,
                self.audit_refusals_unexpected,
                self.races_wrong,
                self.outbox_wrong,
                self.stand_in_unmatched,
                self.sms_replies_not_once,
                self.sms_unhandled,
                self.digest_problems,
            )
        )

    def print(self) -> None:
        def mark(bad: int) -> str:
            return "ok  " if not bad else "FAIL"

        print("\nChecked in the database:")
        print(
            f"  {mark(self.lost + self.doubled)} attendance: {self.employees} employees, "
            f"{self.lost} without a shift, {self.doubled} with more than one; "
            f"{self.late} late"
        )
        print(
            f"  {mark(self.wrong_method)} each shift made by its channel "
            f"(api/ussd/sms/web): {self.wrong_method} wrong"
        )
        print(f"  {mark(self.strays)} no shift for anyone who did not clock in: {self.strays}")
        print(
            f"  {mark(self.audit_ok_not_once)} audit: one successful clock-in each "
            f"({self.audit_ok_not_once} not once)"
        )
        print(
            f"  {mark(self.audit_refusals_unexpected)} audit: one already_clocked_in refusal "
            f"per person racing two channels ({self.racing}); refusals: "
            f"{dict(self.audit_refusals)}"
        )
        print(
            f"  {mark(self.races_wrong)} two channels at once: one clocked in, the other told "
            f"so ({self.racing} people): {self.races_wrong} not"
        )
        print(f"  {mark(self.sms_unhandled)} every SMS callback handled: {self.sms_unhandled} not")
        print(
            f"  {mark(self.sms_replies_not_once)} one reply SMS per SMS clock-in "
            f"({self.sms_clock_ins}): {self.sms_replies_not_once} not exactly one"
        )
        print(
            f"  {mark(self.outbox_wrong)} outbox: {self.notifications} rows "
            f"{dict(self.by_kind)}, status {dict(self.by_status)}; "
            f"{self.outbox_wrong} not sent exactly once and delivered"
        )
        print(
            f"  {mark(self.stand_in_unmatched)} stand-in: {self.stand_in_messages} messages, "
            f"{self.stand_in_unmatched} not matching exactly one row"
        )
        print(
            f"  {mark(self.digest_problems)} late digest: {self.digests} sent, "
            f"{self.digest_problems} problems"
        )
        for example in self.examples:
            print(f"    - {example}")


def verify(
    plan: Plan,
    stand_in: RecordingAfricasTalking,
    sms_ids: list[str],
    digest: tuple[int, str],
    outcomes: dict[tuple[int, str], str],
) -> Verdict:
    """Check the database after the rush (`outcomes`: how the API answered each clock-in)."""
    verdict = Verdict(employees=len(plan.people), racing=len(plan.racing))
    planned = {p.user_id: p for p in plan.people}
    answered = dict(outcomes)
    with arranged() as session:
        _attendance(session, verdict, planned)
        _audit(session, verdict, planned)
        _inbound(session, verdict, sms_ids)
        _outbox(session, verdict, stand_in, planned, answered)
        _digest(session, verdict, plan, digest)
    for person in plan.racing:
        assert person.second is not None
        both = (person.channel, person.second)
        got = sorted(answered.get((person.user_id, channel), "?") for channel in both)
        if got != ["already", "in"]:
            verdict.races_wrong += 1
            verdict.note(f"user {person.user_id} on {person.channel}+{person.second}: {got}")
    return verdict


def _attendance(session: Session, verdict: Verdict, planned: dict[int, Person]) -> None:
    shifts: dict[int, list[AttendanceRecord]] = defaultdict(list)
    for record in session.scalars(select(AttendanceRecord)):
        shifts[record.employee_id].append(record)
    for user_id, person in planned.items():
        mine = shifts.get(user_id, [])
        if not mine:
            verdict.lost += 1
            verdict.note(f"no shift for user {user_id} ({person.channel})")
        elif len(mine) > 1:
            verdict.doubled += 1
            verdict.note(f"{len(mine)} shifts for user {user_id} ({person.channel})")
        for record in mine:
            if record.method_in not in {METHOD[c] for c in (person.channel, person.second) if c}:
                verdict.wrong_method += 1
                verdict.note(f"user {user_id}: {person.channel} made a {record.method_in} shift")
            verdict.late += record.late_minutes > 0
    verdict.strays = sum(len(v) for k, v in shifts.items() if k not in planned)


def _audit(session: Session, verdict: Verdict, planned: dict[int, Person]) -> None:
    rows = session.execute(
        select(AuditEntry.actor_user_id, AuditEntry.outcome, func.count())
        .where(AuditEntry.action == "attendance.clock_in")
        .group_by(AuditEntry.actor_user_id, AuditEntry.outcome)
    ).all()
    ok: Counter[int] = Counter()
    for user_id, outcome, count in rows:
        if outcome == "ok":
            ok[user_id] += count
        else:
            verdict.audit_refusals[outcome] += count
    expected = sum(1 for p in planned.values() if p.second)
    refused = sum(verdict.audit_refusals.values())
    if refused != expected or refused != verdict.audit_refusals["already_clocked_in"]:
        verdict.audit_refusals_unexpected = abs(refused - expected) or refused
        verdict.note(f"audit refusals {dict(verdict.audit_refusals)}, expected {expected}")
    for user_id in planned:
        if ok[user_id] != 1:
            verdict.audit_ok_not_once += 1
            verdict.note(f"user {user_id}: {ok[user_id]} successful clock-ins in the audit log")


def _inbound(session: Session, verdict: Verdict, sms_ids: list[str]) -> None:
    handled = set(
        session.scalars(
            select(InboundMessage.external_id).where(
                InboundMessage.channel == "sms", InboundMessage.done_at.is_not(None)
            )
        )
    )
    verdict.sms_unhandled = sum(f"sms:{i}" not in handled for i in set(sms_ids))


def _outbox(
    session: Session,
    verdict: Verdict,
    stand_in: RecordingAfricasTalking,
    planned: dict[int, Person],
    answered: dict[tuple[int, str], str],
) -> None:
    rows = list(session.scalars(select(Notification).order_by(Notification.id)))
    attempts: dict[int, list[NotificationAttempt]] = defaultdict(list)
    for attempt in session.scalars(select(NotificationAttempt)):
        attempts[attempt.notification_id].append(attempt)
    people = session.execute(select(User.id, User.phone)).tuples().all()
    phones: dict[int, str | None] = dict(people)
    taken = stand_in.taken_so_far()
    by_message_id: dict[str, list[Taken]] = defaultdict(list)
    for message in taken:
        by_message_id[message.message_id].append(message)
    verdict.notifications = len(rows)
    verdict.stand_in_messages = len(taken)
    claimed: set[str] = set()
    for row in rows:
        verdict.by_kind[row.kind] += 1
        verdict.by_status[str(row.status)] += 1
        mine = attempts.get(row.id, [])
        matches = by_message_id.get(row.provider_message_id or "", [])
        good = (
            row.channel == "sms"
            and row.status == NotificationStatus.DELIVERED
            and row.attempts == 1
            and len(mine) == 1
            and mine[0].outcome == "sent"
            and mine[0].provider_message_id == row.provider_message_id
            and len(matches) == 1
            and matches[0].to == phones.get(row.recipient_id)
            and matches[0].message == row.text
        )
        if not good:
            verdict.outbox_wrong += 1
            verdict.note(
                f"notification {row.id} ({row.kind}, {row.status}, {row.attempts} attempts, "
                f"{len(matches)} stand-in messages, last error {row.last_error})"
            )
        if row.provider_message_id:
            claimed.add(row.provider_message_id)
    for message_id, messages in by_message_id.items():
        if message_id not in claimed or len(messages) != 1:
            verdict.stand_in_unmatched += 1
            verdict.note(f"stand-in message {message_id} to {messages[0].to} matches no row")
    # One reply per SMS clock-in, and one message on the wire to that phone.
    replies: Counter[int] = Counter(r.recipient_id for r in rows if r.kind == "chat.reply")
    wire: Counter[str] = Counter(m.to for m in taken)
    for user_id, person in planned.items():
        if "sms" not in (person.channel, person.second):
            continue
        verdict.sms_clock_ins += 1
        texts = [r.text for r in rows if r.recipient_id == user_id and r.kind == "chat.reply"]
        if texts and "Clocked in" in texts[0]:
            answered[(user_id, "sms")] = "in"
        elif texts and person.second and ALREADY in texts[0].lower():
            answered[(user_id, "sms")] = "already"
        if replies[user_id] != 1 or wire[person.phone] != 1 or (user_id, "sms") not in answered:
            verdict.sms_replies_not_once += 1
            verdict.note(
                f"user {user_id}: {replies[user_id]} replies {texts[:2]}, "
                f"{wire[person.phone]} on the wire"
            )


def _digest(session: Session, verdict: Verdict, plan: Plan, digest: tuple[int, str]) -> None:
    code, output = digest
    verdict.digest_output = output
    if code != 0:
        verdict.digest_problems += 1
        verdict.note(f"ajira automations run exited {code}: {output[-300:]}")
    sent: Counter[int] = Counter(
        session.scalars(select(Notification.recipient_id).where(Notification.kind == "late_digest"))
    )
    verdict.digests = sum(sent.values())
    late_bosses = set(
        session.scalars(
            select(User.reports_to_id)
            .join(AttendanceRecord, AttendanceRecord.employee_id == User.id)
            .where(AttendanceRecord.late_minutes > 0)
        )
    )
    for employer in plan.employers:
        for boss in employer.supervisors:
            # Everyone late was clocked in before the digest ran, except a slow SMS or two.
            if sent[boss] > 1 or (boss in late_bosses and sent[boss] == 0):
                verdict.digest_problems += 1
                verdict.note(f"supervisor {boss}: {sent[boss]} late digests")
