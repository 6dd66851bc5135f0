"""The life cycle of a monthly payroll run: draft, review, finalised, corrected.

Choices where the issue is silent:

- An organization with no salary structure at all gets `payroll_not_configured`.
- Running a month again recomputes its open run (draft or review, which goes back to
  draft); a finalised month is immutable (`run_finalized`): a correction is a new run
  of kind "correction" which, once finalised, supersedes the original.
- A large employer's draft is computed in the background, with its progress on the run;
  everyone else gets the figures in the answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Permission
from hrcore.audit import audited
from hrcore.automations.texts import say
from hrcore.clock import local_today, now
from hrcore.errors import Conflict, Invalid, NotFound
from hrcore.notifications.service import notify_once
from hrcore.payroll import engine
from hrcore.payroll.compute import compute_run, finalized_error
from hrcore.payroll.models import ISSUED, OPEN, PayrollRun, Payslip, RunKind, RunStatus
from hrcore.payroll.months import month_label, parse_month
from hrcore.payroll.structures import not_configured, payroll_configured
from hrcore.payroll.tasks import compute_run_task
from hrcore.people.models import Organization, User
from hrcore.tenancy import get_for_org
from hrcore.worker import enqueue_after_commit

#: Organizations with more active employees than this get a draft run computed in the
#: background (progress on the run); smaller ones get the figures in the answer.
BACKGROUND_THRESHOLD = 500


def _lock_org(session: Session, actor: Actor) -> Organization:
    # One payroll operation at a time per employer: two "run October" clicks must not race.
    org = session.get(Organization, actor.organization_id, with_for_update=True)
    if org is None:
        raise NotFound("Organization not found.", code="organization_not_found")
    return org


def _check_month(org: Organization, month: str) -> tuple[date, date]:
    first, last = parse_month(month)
    today = local_today(org.timezone)
    if first > today.replace(day=1):
        raise Invalid(
            f"{month_label(month)} has not started yet; payroll runs for this month or earlier.",
            code="future_month",
        )
    # The engine refuses dates before its rules; say so once for the whole run.
    engine.preview(org.country, gross=Decimal(1000), pay_date=last)
    return first, last


def _runs_of(session: Session, organization_id: int, month: str) -> list[PayrollRun]:
    return list(
        session.scalars(
            select(PayrollRun)
            .where(PayrollRun.organization_id == organization_id, PayrollRun.month == month)
            .order_by(PayrollRun.id)
            .with_for_update()
        )
    )


def _new_run(
    org: Organization,
    actor: Actor,
    month: str,
    last: date,
    *,
    kind: RunKind = RunKind.REGULAR,
    corrects: PayrollRun | None = None,
    reason: str | None = None,
) -> PayrollRun:
    return PayrollRun(
        organization_id=org.id,
        month=month,
        kind=kind,
        status=RunStatus.DRAFT,
        corrects_run_id=corrects.id if corrects else None,
        reason=reason,
        currency=org.currency,
        pay_date=last,
        created_by_id=actor.user_id,
        warnings=[],
    )


def runs_in_background(session: Session, actor: Actor, *, finalize: bool) -> bool:
    """Whether a run asked for now is computed in the background: a large employer's draft."""
    if finalize:
        return False  # a final run needs its figures now
    headcount = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.organization_id == actor.organization_id, User.is_active.is_(True))
    )
    return (headcount or 0) > BACKGROUND_THRESHOLD


@audited("payroll.run", target_type="payroll_run")
def run_payroll(
    session: Session,
    actor: Actor,
    *,
    month: str,
    finalize: bool = False,
    background: bool = False,
) -> PayrollRun:
    """Compute (or recompute) the month's draft payroll, and finalise it if asked.

    With `background`, the draft is created now and computed by the `payroll.compute_run`
    task after the commit (progress on the run); it cannot be finalised in the same call.
    """
    actor.require(Permission.PAYROLL_RUN)
    org = _lock_org(session, actor)
    if not payroll_configured(session, org.id):
        raise not_configured(org)
    _, last = _check_month(org, month)
    if finalize and background:
        raise Invalid(
            "A run computed in the background is finalised once it is reviewed.",
            code="finalize_needs_result",
        )
    runs = _runs_of(session, org.id, month)
    run = next((r for r in runs if r.status in OPEN), None)
    if run is None:
        final = next((r for r in runs if r.status is RunStatus.FINALIZED), None)
        if final is not None:
            raise finalized_error(final)
        run = _new_run(org, actor, month, last)
        session.add(run)
    run.status = RunStatus.DRAFT
    run.submitted_at = None
    session.flush()
    if background:
        run.computing = True
        run.employees_done = 0
        session.flush()
        enqueue_after_commit(session, compute_run_task, run.id)
        return run
    compute_run(session, run.id)
    if finalize:
        _finalize(session, actor, run)
    return run


@audited("payroll.correct", target_type="payroll_run")
def start_correction(
    session: Session, actor: Actor, *, month: str, reason: str, finalize: bool = False
) -> PayrollRun:
    """Open (and compute) a correction of a finalised month; it supersedes it once finalised."""
    actor.require(Permission.PAYROLL_RUN)
    org = _lock_org(session, actor)
    _, last = _check_month(org, month)
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why the month is corrected.", code="reason_required")
    runs = _runs_of(session, org.id, month)
    final = next((r for r in runs if r.status is RunStatus.FINALIZED), None)
    if final is None:
        raise Conflict(
            f"{month_label(month)} has no finalised payroll to correct; run it instead.",
            code="nothing_to_correct",
        )
    if any(r.status in OPEN for r in runs):
        raise Conflict(
            f"A payroll for {month_label(month)} is already being prepared; "
            "recompute or finalise it.",
            code="run_in_progress",
        )
    run = _new_run(
        org, actor, month, last, kind=RunKind.CORRECTION, corrects=final, reason=reason[:500]
    )
    session.add(run)
    session.flush()
    compute_run(session, run.id)
    if finalize:
        _finalize(session, actor, run)
    return run


def _open_run(session: Session, actor: Actor, run_id: int) -> PayrollRun:
    actor.require(Permission.PAYROLL_RUN)
    _lock_org(session, actor)
    run = get_for_org(session, actor, PayrollRun, run_id, what="payroll run", lock=True)
    if run.status in ISSUED:
        raise finalized_error(run)
    if run.computing:
        raise Conflict(
            "The payroll is still being computed; try again in a moment.", code="run_computing"
        )
    return run


@audited("payroll.submit", target_type="payroll_run", target_arg="run_id")
def submit_for_review(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """Move a computed draft to review."""
    run = _open_run(session, actor, run_id)
    if run.status is RunStatus.REVIEW:
        return run
    run.status = RunStatus.REVIEW
    run.submitted_at = now()
    session.flush()
    return run


@audited("payroll.finalize", target_type="payroll_run", target_arg="run_id")
def finalize_run(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """Finalise a draft or reviewed run: its payslips are issued and it can no longer change."""
    run = _open_run(session, actor, run_id)
    _finalize(session, actor, run)
    return run


def _finalize(session: Session, actor: Actor, run: PayrollRun) -> None:
    if run.payslip_count == 0:
        raise Conflict(
            f"The payroll for {month_label(run.month)} has no payslip to issue.",
            code="empty_run",
        )
    if run.kind is RunKind.CORRECTION:
        original = session.get(PayrollRun, run.corrects_run_id, with_for_update=True)
        if original is not None and original.status is RunStatus.FINALIZED:
            original.status = RunStatus.SUPERSEDED
            original.superseded_by_id = run.id
            # The original must leave "finalized" before the correction takes its place.
            session.flush()
    run.status = RunStatus.FINALIZED
    run.finalized_at = now()
    run.finalized_by_id = actor.user_id
    session.flush()
    _tell_payslips_ready(session, run)


def _tell_payslips_ready(session: Session, run: PayrollRun) -> None:
    """ "Your payslip is ready", once per person and run (a correction is told again)."""
    label = month_label(run.month)
    for payslip in session.scalars(select(Payslip).where(Payslip.run_id == run.id)):
        employee = session.get(User, payslip.employee_id)
        if employee is None or not employee.is_active:
            continue
        text = say("payslip_ready", employee.language, month=label)
        key = f"payslip_ready:{run.id}:{employee.id}"
        notify_once(session, employee, key=key, kind="payslip_ready", text=text)


@audited("payroll.run_read", target_type="payroll_run", target_arg="run_id")
def get_run(session: Session, actor: Actor, *, run_id: int) -> PayrollRun:
    """One payroll run of the actor's organization (hr and admin)."""
    actor.require(Permission.PAYROLL_RUN)
    return get_for_org(session, actor, PayrollRun, run_id, what="payroll run")
