"""Salary structures, monthly runs (draft → review → finalised), proration, corrections."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.actor import Actor
from hrcore.audit import AuditEntry
from hrcore.clock import frozen
from hrcore.errors import Conflict, Forbidden, Invalid, NotFound
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications.models import Notification
from hrcore.payroll.engine import Earning, compute, money, to_jsonable
from hrcore.payroll.models import PayrollRun, Payslip, RunKind, RunStatus, SalaryStructure
from hrcore.payroll.payslips import find_payslip, get_payslip
from hrcore.payroll.runs import finalize_run, run_payroll, start_correction, submit_for_review
from hrcore.payroll.structures import (
    get_salary_structure,
    list_salary_structures,
    set_salary_structure,
)
from hrcore.payroll.tasks import compute_run_task
from hrcore.people.models import User
from tests.factories import Team, make_leave_type, make_user, refused

# Monday 23 November 2026 in Nairobi: October is the last full month, December is the future.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
OCTOBER = "2026-10"
# October 2026 in Kenya: 22 weekdays, less Mashujaa Day (Tuesday 20th); the 10th is a Saturday.
OCTOBER_WORKING_DAYS = 21


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with frozen(NOW):
        yield


pytestmark = pytest.mark.team(name="Jua Kali Foods Ltd")


def salary(
    session: Session,
    team: Team,
    user: User,
    basic: str | int = "50000",
    *,
    since: date = date(2024, 1, 1),
    **kwargs: Any,
) -> SalaryStructure:
    return set_salary_structure(
        session,
        team.actor("hr"),
        employee_id=user.id,
        basic_pay=Decimal(basic),
        effective_from=since,
        **kwargs,
    )


def everyone(session: Session, team: Team, basic: str = "50000") -> None:
    for name in ("admin", "hr", "supervisor", "employee", "teammate", "outsider"):
        salary(session, team, getattr(team, name), basic)


def payslip_of(session: Session, run: PayrollRun, user: User) -> Payslip:
    found = session.scalar(
        select(Payslip).where(Payslip.run_id == run.id, Payslip.employee_id == user.id)
    )
    assert found is not None
    return found


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def run(session: Session, actor: Actor, month: str = OCTOBER, **kwargs: Any) -> PayrollRun:
    return run_payroll(session, actor, month=month, **kwargs)


def expected_net(gross: Decimal, pay_date: date = date(2026, 10, 31)) -> Decimal:
    return compute(
        "KE", pay_date=pay_date, earnings=[Earning(code="basic", label="Basic", amount=gross)]
    ).net_pay


# ------------------------------------------------------------------ salary structures


def test_a_salary_change_is_a_new_row_and_each_month_uses_the_one_in_force(
    session: Session, team: Team
) -> None:
    old = salary(session, team, team.employee, "50000", since=date(2024, 1, 1))
    new = salary(session, team, team.employee, "60000", since=date(2026, 11, 1))
    assert old.effective_to == date(2026, 10, 31)
    assert new.effective_to is None
    history = list_salary_structures(session, team.actor("hr"), employee_id=team.employee.id)
    assert [(s.basic_pay, s.effective_from) for s in history] == [
        (Decimal("50000.00"), date(2024, 1, 1)),
        (Decimal("60000.00"), date(2026, 11, 1)),
    ]
    # A change slipped in between keeps the history contiguous.
    middle = salary(session, team, team.employee, "55000", since=date(2025, 7, 1))
    assert (old.effective_to, middle.effective_to) == (date(2025, 6, 30), date(2026, 10, 31))

    october = run(session, team.actor("hr"))
    november = run(session, team.actor("hr"), "2026-11")
    assert payslip_of(session, october, team.employee).gross == Decimal("55000.00")
    assert payslip_of(session, november, team.employee).gross == Decimal("60000.00")
    # The employee reads their own salary; hr reads anyone's.
    own = get_salary_structure(
        session, team.actor("employee"), employee_id=team.employee.id, on=date(2026, 10, 15)
    )
    assert own.id == middle.id


def test_a_colleagues_salary_is_for_hr_only(session: Session, team: Team) -> None:
    salary(session, team, team.employee)
    with refused(Forbidden):
        get_salary_structure(session, team.actor("supervisor"), employee_id=team.employee.id)
    salary_as = team.actor("employee")
    with refused(Forbidden):
        set_salary_structure(
            session,
            salary_as,
            employee_id=team.employee.id,
            basic_pay=Decimal(1_000_000),
            effective_from=date(2026, 11, 1),
        )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"basic_pay": Decimal("-5000")}, "invalid_amount"),
        ({"basic_pay": Decimal("0")}, "invalid_amount"),
        ({"basic_pay": Decimal("250000000")}, "invalid_amount"),
        ({"basic_pay": Decimal("50000.505")}, "invalid_amount"),
        ({"basic_pay": 50000.5}, "invalid_amount"),
        ({"currency": "TZS"}, "currency_mismatch"),
        (
            {"components": [{"kind": "allowance", "code": "house", "label": "H", "amount": "-1"}]},
            "invalid_amount",
        ),
        (
            {"components": [{"kind": "deduction", "code": "loan", "label": "L", "percent": "150"}]},
            "invalid_amount",
        ),
        (
            {"components": [{"kind": "allowance", "code": "paye", "label": "X", "amount": "1"}]},
            "invalid_component",
        ),
        (
            {
                "components": [
                    {
                        "kind": "allowance",
                        "code": "house",
                        "label": "H",
                        "amount": "1",
                        "percent": "5",
                    }
                ]
            },
            "invalid_component",
        ),
        ({"effective_from": date(2023, 12, 1)}, "before_hire_date"),
    ],
)
def test_bad_salaries_are_refused_and_nothing_is_written(
    session: Session, team: Team, kwargs: dict[str, Any], code: str
) -> None:
    args: dict[str, Any] = {
        "employee_id": team.employee.id,
        "basic_pay": Decimal(50000),
        "effective_from": date(2026, 1, 1),
    } | kwargs
    with refused(Invalid) as err:
        set_salary_structure(session, team.actor("hr"), **args)
    assert err.value.code == code
    assert count(session, SalaryStructure) == 0
    audit = session.scalars(
        select(AuditEntry.outcome).where(AuditEntry.action == "payroll.salary_set")
    ).all()
    assert audit == [code]


def test_the_same_start_date_twice_is_a_conflict(session: Session, team: Team) -> None:
    salary(session, team, team.employee, since=date(2026, 1, 1))
    with refused(Conflict) as err:
        salary(session, team, team.employee, "70000", since=date(2026, 1, 1))
    assert err.value.code == "structure_exists"
    assert count(session, SalaryStructure) == 1


def test_another_employers_employee_is_not_found(session: Session, team: Team) -> None:
    other = Team(session)
    with refused(NotFound) as err:
        salary(session, team, other.employee)
    assert err.value.code == "employee_not_found"


# ------------------------------------------------------------------ runs


def test_a_run_pays_everyone_with_traceable_lines(session: Session, team: Team) -> None:
    everyone(session, team, "85000")
    result = run(session, team.actor("hr"))
    assert (result.status, result.kind, result.payslip_count) == (
        RunStatus.DRAFT,
        RunKind.REGULAR,
        6,
    )
    assert (result.employees_done, result.employees_total, result.computing) == (6, 6, False)
    slip = payslip_of(session, result, team.employee)
    assert (slip.gross, slip.total_deductions, slip.net_pay) == (
        Decimal("85000.00"),
        Decimal("23982.10"),
        Decimal("61017.90"),
    )
    assert slip.working_days == slip.paid_days == OCTOBER_WORKING_DAYS
    rules = {line["code"]: line["rule"] for line in slip.lines}
    assert rules["paye"].startswith("KE/PAYE/")
    assert rules["shif"].startswith("KE/SHIF/")
    assert rules["basic"] == "input"
    assert all(line["rule"] for line in slip.lines)
    engine_view = compute(
        "KE",
        pay_date=date(2026, 10, 31),
        earnings=[Earning("basic", "Basic salary", Decimal(85000))],
        employer_headcount=6,
    )
    assert slip.lines == to_jsonable(engine_view)["lines"]
    assert result.total_gross == Decimal("510000.00")
    assert result.total_net == 6 * slip.net_pay
    assert result.total_employer_cost == 6 * slip.employer_cost


def test_running_a_month_twice_updates_the_same_draft(session: Session, team: Team) -> None:
    everyone(session, team)
    first = run(session, team.actor("hr"))
    submit_for_review(session, team.actor("hr"), run_id=first.id)
    salary(session, team, team.employee, "65000", since=date(2026, 10, 1))
    again = run(session, team.actor("admin"))
    assert again.id == first.id
    assert again.status is RunStatus.DRAFT  # recomputing sends it back for another review
    assert count(session, PayrollRun) == 1
    assert count(session, Payslip) == 6
    assert payslip_of(session, again, team.employee).gross == Decimal("65000.00")


def test_unpaid_leave_is_prorated_by_working_days(session: Session, team: Team) -> None:
    everyone(session, team, "63000")
    unpaid = make_leave_type(
        session, team.org, code="unpaid", name="Unpaid", paid=False, days_per_year=Decimal(0)
    )
    paid = make_leave_type(session, team.org, code="annual", name="Annual")
    # Mon 19 to Wed 21 October: three weekdays, one of them Mashujaa Day → 2 working days.
    for leave_type, start, end, status in (
        (unpaid, date(2026, 10, 19), date(2026, 10, 21), LeaveStatus.APPROVED),
        (unpaid, date(2026, 10, 27), date(2026, 10, 27), LeaveStatus.PENDING),  # not approved
        (paid, date(2026, 10, 5), date(2026, 10, 9), LeaveStatus.APPROVED),  # paid leave
        (unpaid, date(2026, 9, 28), date(2026, 10, 1), LeaveStatus.APPROVED),  # 1 day in Oct
    ):
        session.add(
            LeaveRequest(
                organization_id=team.org.id,
                employee_id=team.employee.id,
                leave_type_id=leave_type.id,
                start_date=start,
                end_date=end,
                days=Decimal(1),
                status=status,
            )
        )
    session.flush()
    slip = payslip_of(session, run(session, team.actor("hr")), team.employee)
    # 63,000 × (21 − 3) / 21 = 54,000
    assert (slip.paid_days, slip.working_days) == (Decimal(18), Decimal(21))
    assert slip.gross == Decimal("54000.00")
    assert slip.net_pay == expected_net(Decimal(54000))
    assert payslip_of(session, run(session, team.actor("hr")), team.teammate).gross == Decimal(
        "63000.00"
    )


def test_a_mid_month_joiner_is_paid_for_the_working_days_after_joining(
    session: Session, team: Team
) -> None:
    joiner = make_user(session, team.org, hire_date=date(2026, 10, 15))
    salary(
        session,
        team,
        joiner,
        "42000",
        since=date(2026, 10, 15),
        components=[
            {"kind": "allowance", "code": "house", "label": "House allowance", "amount": "10500"}
        ],
    )
    slip = payslip_of(session, run(session, team.actor("hr")), joiner)
    # Thu 15 to Sat 31 October: 12 weekdays less Mashujaa Day = 11 of 21 working days.
    # Basic 42,000 × 11/21 = 22,000; house allowance 10,500 × 11/21 = 5,500.
    assert slip.paid_days == Decimal(11)
    amounts = {line["code"]: Decimal(line["amount"]) for line in slip.lines}
    assert (amounts["basic"], amounts["house"]) == (Decimal("22000.00"), Decimal("5500.00"))
    assert slip.gross == Decimal("27500.00")
    assert slip.net_pay == expected_net(Decimal(27500))


def test_percentages_and_deductions_follow_the_structure(session: Session, team: Team) -> None:
    salary(
        session,
        team,
        team.employee,
        "80000",
        components=[
            {"kind": "allowance", "code": "house", "label": "House", "percent": "15"},
            {
                "kind": "allowance",
                "code": "meals",
                "label": "Meals",
                "amount": "3000",
                "taxable": False,
            },
            {"kind": "deduction", "code": "sacco", "label": "Sacco", "amount": "2500"},
        ],
        bank_account="0123456789 KCB",
    )
    slip = payslip_of(session, run(session, team.actor("hr")), team.employee)
    amounts = {line["code"]: Decimal(line["amount"]) for line in slip.lines}
    assert amounts["house"] == Decimal("12000.00")
    assert amounts["sacco"] == Decimal("2500.00")
    assert slip.gross == Decimal("95000.00")
    assert slip.bank_account == "0123456789 KCB"
    expected = compute(
        "KE",
        pay_date=date(2026, 10, 31),
        earnings=[
            Earning("basic", "Basic", Decimal(80000)),
            Earning("house", "House", Decimal(12000)),
            Earning("meals", "Meals", Decimal(3000), taxable=False),
        ],
    )
    assert slip.taxable_pay == expected.taxable_pay
    assert slip.net_pay == expected.net_pay - Decimal(2500)


def test_people_without_a_salary_are_listed_and_skipped(session: Session, team: Team) -> None:
    salary(session, team, team.employee)
    team.teammate.is_active = False  # a leaver: not paid, not a warning
    salary(session, team, team.teammate)
    make_user(session, team.org, hire_date=date(2026, 11, 2))  # joins after October
    result = run(session, team.actor("hr"))
    assert result.payslip_count == 1
    skipped = {w["employee_id"]: w["code"] for w in result.warnings}
    assert skipped == {
        team.admin.id: "missing_salary",
        team.hr.id: "missing_salary",
        team.supervisor.id: "missing_salary",
        team.outsider.id: "missing_salary",
    }
    assert {w["employee_name"] for w in result.warnings} >= {team.admin.full_name}


def test_finalised_runs_are_immutable(session: Session, team: Team) -> None:
    everyone(session, team)
    draft = run(session, team.actor("hr"))
    submit_for_review(session, team.actor("hr"), run_id=draft.id)
    final = finalize_run(session, team.actor("admin"), run_id=draft.id)
    assert final.status is RunStatus.FINALIZED
    assert final.finalized_by_id == team.admin.id
    net_before = payslip_of(session, final, team.employee).net_pay
    salary(session, team, team.employee, "90000", since=date(2026, 10, 1))
    for attempt in (
        lambda: run(session, team.actor("hr")),
        lambda: run(session, team.actor("hr"), finalize=True),
        lambda: submit_for_review(session, team.actor("hr"), run_id=final.id),
        lambda: finalize_run(session, team.actor("hr"), run_id=final.id),
    ):
        with refused(Conflict) as err:
            attempt()
        assert err.value.code == "run_finalized"
    session.expire_all()
    assert count(session, PayrollRun) == 1
    assert payslip_of(session, final, team.employee).net_pay == net_before


def test_a_correction_supersedes_the_finalised_run(session: Session, team: Team) -> None:
    everyone(session, team)
    original = run(session, team.actor("hr"), finalize=True)
    assert original.status is RunStatus.FINALIZED
    with refused(Conflict) as err:
        start_correction(session, team.actor("hr"), month="2026-09", reason="typo")
    assert err.value.code == "nothing_to_correct"

    salary(session, team, team.employee, "52500", since=date(2026, 10, 1))
    correction = start_correction(
        session, team.actor("hr"), month=OCTOBER, reason="Raise from 1 October was missed"
    )
    assert (correction.kind, correction.status, correction.corrects_run_id) == (
        RunKind.CORRECTION,
        RunStatus.DRAFT,
        original.id,
    )
    # Until the correction is final, the original stays the month's payroll.
    assert find_payslip(session, team.actor("employee"), month=OCTOBER).run_id == (original.id)
    # Running the month again now recomputes the correction's draft.
    assert run(session, team.actor("hr")).id == correction.id

    finalize_run(session, team.actor("hr"), run_id=correction.id)
    session.refresh(original)
    assert original.status is RunStatus.SUPERSEDED
    assert original.superseded_by_id == correction.id
    latest = find_payslip(session, team.actor("employee"), month=OCTOBER)
    assert (latest.run_id, latest.gross) == (correction.id, Decimal("52500.00"))
    # The superseded payslip stays readable by id: it was issued.
    old = payslip_of(session, original, team.employee)
    assert get_payslip(session, team.actor("employee"), payslip_id=old.id).gross == (
        Decimal("50000.00")
    )


@pytest.mark.parametrize("month", ["2026-12", "2027-01"])
def test_a_future_month_is_refused(session: Session, team: Team, month: str) -> None:
    everyone(session, team)
    with refused(Invalid) as err:
        run(session, team.actor("hr"), month)
    assert err.value.code == "future_month"
    assert count(session, PayrollRun) == count(session, Payslip) == 0


def test_the_current_month_may_be_run(session: Session, team: Team) -> None:
    everyone(session, team)
    assert run(session, team.actor("hr"), "2026-11").payslip_count == 6


def test_a_month_before_the_rules_is_refused(session: Session, team: Team) -> None:
    everyone(session, team)
    with refused(Invalid) as err:
        run(session, team.actor("hr"), "1999-01")
    assert err.value.code == "no_rules_for_date"
    assert count(session, PayrollRun) == 0


def test_an_organization_without_salaries_is_not_configured(session: Session, team: Team) -> None:
    with refused(Conflict) as err:
        run(session, team.actor("hr"))
    assert err.value.code == "payroll_not_configured"
    assert count(session, PayrollRun) == 0


@pytest.mark.parametrize("who", ["employee", "supervisor"])
def test_only_hr_and_admin_run_payroll(session: Session, team: Team, who: str) -> None:
    everyone(session, team)
    with refused(Forbidden):
        run(session, team.actor(who))
    assert count(session, PayrollRun) == 0


def test_a_draft_is_invisible_to_its_employee_until_finalised(session: Session, team: Team) -> None:
    everyone(session, team)
    draft = run(session, team.actor("hr"))
    slip = payslip_of(session, draft, team.employee)
    with refused(NotFound) as err:
        get_payslip(session, team.actor("employee"), payslip_id=slip.id)
    assert err.value.code == "payslip_not_found"
    with refused(NotFound):
        find_payslip(session, team.actor("employee"))
    assert get_payslip(session, team.actor("hr"), payslip_id=slip.id).id == slip.id
    assert _told_ready(session, team.employee) == 0  # a draft tells nobody
    finalize_run(session, team.actor("hr"), run_id=draft.id)
    assert find_payslip(session, team.actor("employee")).id == slip.id
    assert _told_ready(session, team.employee) == 1  # "your payslip is ready", once
    with refused(Forbidden) as denied:
        get_payslip(session, team.actor("supervisor"), payslip_id=slip.id)
    assert denied.value.code == "own_payslips_only"


def test_another_employers_run_is_not_found(session: Session, team: Team) -> None:
    everyone(session, team)
    draft = run(session, team.actor("hr"))
    other = Team(session)
    with refused(NotFound) as err:
        finalize_run(session, other.actor("hr"), run_id=draft.id)
    assert err.value.code == "payroll_run_not_found"
    assert draft.status is RunStatus.DRAFT


def test_the_background_task_computes_the_run_with_progress(session: Session, team: Team) -> None:
    everyone(session, team)
    started = run(session, team.actor("hr"), background=True)
    assert started.computing
    assert started.payslip_count == 0
    with refused(Conflict) as err:
        finalize_run(session, team.actor("hr"), run_id=started.id)
    assert err.value.code == "run_computing"
    # Without Redis, Celery runs the task in-process once the request commits.
    session.commit()
    session.refresh(started)
    assert (started.computing, started.employees_done, started.employees_total) == (False, 6, 6)
    assert started.payslip_count == count(session, Payslip) == 6
    # Run again by hand (a retry): same run, still one payslip each.
    assert compute_run_task(started.id) == 0  # no longer marked as computing: left alone
    assert count(session, Payslip) == 6


def test_net_pay_matches_the_engine_for_a_tanzanian_run(session: Session) -> None:
    team = Team(session, country="TZ")
    salary(session, team, team.employee, "1500000")
    slip = payslip_of(session, run(session, team.actor("hr")), team.employee)
    expected = compute(
        "TZ",
        pay_date=date(2026, 10, 31),
        earnings=[Earning("basic", "Basic", Decimal(1500000))],
        employer_headcount=6,
    )
    assert (slip.currency, slip.net_pay, slip.employer_cost) == (
        "TZS",
        expected.net_pay,
        expected.employer_cost,
    )
    assert money(slip.gross) == Decimal("1500000.00")


def _told_ready(session: Session, employee: User) -> int:
    return len(
        session.scalars(
            select(Notification).where(
                Notification.recipient_id == employee.id, Notification.kind == "payslip_ready"
            )
        ).all()
    )
