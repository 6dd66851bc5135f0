"""Scheduled leave jobs."""

from __future__ import annotations

from sqlalchemy import select

from hrcore import db
from hrcore.clock import local_today
from hrcore.leave.balances import roll_over_year
from hrcore.people.models import Organization
from hrcore.tenancy import Crossing, system
from hrcore.worker import celery_app


@celery_app.task(name="leave.roll_over_year")
def roll_over_year_task(from_year: int | None = None, organization_id: int | None = None) -> int:
    """Carry unused leave into the new year for every organization (or one); return rows changed.

    Without `from_year`, each organization rolls over the year that has just ended in
    its own time zone. Each organization commits on its own and the job is idempotent,
    so a retry after a failure only completes what is missing.
    """
    with db.unit_of_work() as session, system(session, Crossing.SCHEDULE):
        query = select(Organization.id).order_by(Organization.id)
        if organization_id is not None:
            query = query.where(Organization.id == organization_id)
        org_ids = list(session.scalars(query))
    changed = 0
    for org_id in org_ids:
        with db.unit_of_work(org_id) as session:
            org = session.get(Organization, org_id)
            if org is None:
                continue
            year = from_year if from_year is not None else local_today(org.timezone).year - 1
            changed += roll_over_year(session, org, from_year=year)
    return changed
