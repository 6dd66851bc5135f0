"""Background payroll work: computing a run's payslips with visible progress."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hrcore import db
from hrcore.payroll.compute import compute_run
from hrcore.payroll.models import PayrollRun
from hrcore.tenancy import act_as_owner_of
from hrcore.worker import celery_app


@celery_app.task(name="payroll.compute_run")
def compute_run_task(run_id: int) -> int:
    """Compute every payslip of run `run_id`; return how many were written.

    Each batch commits, so `employees_done` / `employees_total` on the run shows the
    progress to anyone who reads it meanwhile. A run that was finalised or deleted in
    the meantime is left alone.
    """
    with db.unit_of_work() as session:
        act_as_owner_of(session, PayrollRun, run_id)

        def commit(_run: PayrollRun) -> None:
            session.commit()

        run = _computable(session, run_id)
        if run is None:
            return 0
        try:
            return compute_run(session, run.id, on_batch=commit).payslip_count
        except Exception:
            session.rollback()
            _mark_failed(run_id)
            raise


def _mark_failed(run_id: int) -> None:
    # A run left "computing" would refuse every later change; let hr run it again.
    with db.unit_of_work() as session:
        act_as_owner_of(session, PayrollRun, run_id)
        run = session.get(PayrollRun, run_id, with_for_update=True)
        if run is not None and run.computing:
            run.computing = False
            run.warnings = [
                {
                    "employee_id": None,
                    "employee_name": None,
                    "code": "compute_failed",
                    "message": "The computation stopped; run the month again.",
                }
            ]


def _computable(session: Session, run_id: int) -> PayrollRun | None:
    run = session.get(PayrollRun, run_id)
    if run is None or not run.computing:
        return None
    return run
