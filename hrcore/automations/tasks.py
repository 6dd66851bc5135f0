"""The beat's tick: run every automation whose local time has come and is not done today."""

from __future__ import annotations

import logging

from hrcore import db
from hrcore.automations import service
from hrcore.errors import HRError
from hrcore.people.models import Organization
from hrcore.tenancy import Crossing, system
from hrcore.worker import celery_app

log = logging.getLogger("ajira.automations")


@celery_app.task(name="automations.tick", ignore_result=True)
def tick() -> int:
    """Run what is due, each automation of each organization in its own transaction;
    return how many notifications were queued. Safe to run as often as wanted."""
    with db.unit_of_work() as session, system(session, Crossing.SCHEDULE):
        pending = [(org.id, name, day) for org, name, day in service.due(session)]
    queued = 0
    for org_id, name, day in pending:
        try:
            with db.unit_of_work(org_id) as session:
                org = session.get(Organization, org_id)
                if org is None:
                    continue
                queued += service.run_one(session, org, name, day).sent
        except HRError:
            log.exception("automation_failed org=%s name=%s day=%s", org_id, name, day)
    return queued
