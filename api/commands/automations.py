"""`ajira automations`: run the scheduled automations by hand, and see their settings."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from hrcore import clock, db
from hrcore.automations import service
from hrcore.errors import Invalid
from hrcore.tenancy import Crossing, system

automations = typer.Typer(
    help="Scheduled HR automations: digests, reminders, escalations, invitations.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `automations` command group to the `ajira` command line."""
    app.add_typer(automations, name="automations")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("Give the date as YYYY-MM-DD.", code="invalid_date") from exc


@automations.command("run")
def run_command(
    org: Annotated[str | None, typer.Option("--org", help="Only this organization (slug).")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="The local day, YYYY-MM-DD (default: today).")
    ] = None,
    only: Annotated[str | None, typer.Option("--only", help="Only this automation.")] = None,
) -> None:
    """Run the automations for a day, as at their scheduled times; a day twice sends nothing new."""
    from api.cli import failing, out

    with failing():
        wanted = _day(day)
        if only is not None and only not in service.AUTOMATIONS:
            names = ", ".join(service.AUTOMATIONS)
            raise Invalid(f"No automation called {only}; there are {names}.", code="unknown")
        # The operator's command: every employer unless `--org` names one.
        with db.unit_of_work() as session, system(session, Crossing.OPERATIONS):
            orgs = [(o.id, o.slug, o.timezone) for o in service.organizations(session, org)]
        table = Table("organization", "automation", "day", "status", "sent")
        for org_id, slug, timezone in orgs:
            local = wanted or clock.local_today(timezone)
            for name in [only] if only else list(service.AUTOMATIONS):
                with db.unit_of_work(org_id) as session:
                    organization = service.organizations(session, slug)[0]
                    assert organization.id == org_id
                    done = service.run_one(session, organization, name, local, force_time=True)
                table.add_row(slug, name, local.isoformat(), done.status, str(done.sent))
        out().print(table)


@automations.command("list")
def list_command(
    org: Annotated[str | None, typer.Option("--org", help="Only this organization (slug).")] = None,
) -> None:
    """Each automation, whether it is on, and its local time, per organization."""
    from api.cli import failing, out

    with failing(), db.unit_of_work() as session, system(session, Crossing.OPERATIONS):
        table = Table("organization", "automation", "on", "at", "what it does")
        for organization in service.organizations(session, org):
            for name, automation in service.AUTOMATIONS.items():
                enabled, at = service.setting_of(session, organization, name)
                table.add_row(
                    organization.slug, name, "yes" if enabled else "no", f"{at:%H:%M}",
                    automation.description,
                )  # fmt: skip
        out().print(table)
