"""Payroll files over REST: a payslip as PDF, a run's bank and statutory exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from api.deps import CurrentActor, DbSession
from api.errors import problem_responses
from hrcore.payroll.export import export_run
from hrcore.payroll.payslips import get_payslip, run_of
from hrcore.payroll.pdf import render_payslip
from hrcore.payroll.runs import get_run
from hrcore.people.service import get_organization
from tools.payroll import PayrollRun, run_result

router = APIRouter(prefix="/api/v1", tags=["payroll"])

PayslipId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The payslip's id.")]
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The payroll run's id.")]


@router.get(
    "/payslips/{payslip_id}/pdf",
    summary="A payslip as a one-page PDF",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The payslip."},
        **problem_responses(401, 403, 404, 422),
    },
)
def payslip_pdf(payslip_id: PayslipId, session: DbSession, actor: CurrentActor) -> Response:
    """Employees and supervisors get their own issued payslips; hr and admin any of theirs."""
    payslip = get_payslip(session, actor, payslip_id=payslip_id)
    run = run_of(session, payslip)
    content = render_payslip(get_organization(session, actor), run, payslip)
    filename = f"payslip-{payslip.month}-{payslip.employee_id}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # Pay is personal: no shared cache may keep it.
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/payroll-runs/{run_id}",
    summary="A payroll run: status, progress, totals and who was left out",
    response_model=PayrollRun,
    responses=problem_responses(401, 403, 404, 422),
)
def get_payroll_run(run_id: RunId, session: DbSession, actor: CurrentActor) -> PayrollRun:
    """Hr and admin only."""
    return run_result(get_run(session, actor, run_id=run_id))


@router.get(
    "/payroll-runs/{run_id}/export",
    summary="A finalised payroll run as CSV, for the bank or for statutory filing",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The CSV file, with a TOTAL row."},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def export_payroll_run(
    run_id: RunId,
    session: DbSession,
    actor: CurrentActor,
    export_format: Annotated[
        Literal["bank", "statutory"],
        Query(
            alias="format",
            description="bank: net pay per account; statutory: PAYE and "
            "contributions per employee.",
        ),
    ],
) -> Response:
    """Hr and admin only; the run must be finalised."""
    filename, text = export_run(session, actor, run_id=run_id, export_format=export_format)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
