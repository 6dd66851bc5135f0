"""`ajira outbox`: the deliveries that need an operator, and a way to send them again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from hrcore import clock
from hrcore.notifications.operations import TroubledRow

LIMIT_DEFAULT = 50


def register(app: typer.Typer) -> None:
    """Add the `outbox` command to the `ajira` command line."""
    app.command("outbox")(outbox_command)


def outbox_command(
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Notification ids to send again (with --retry).", show_default=False),
    ] = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Put the given ids back to pending and send them.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Send every failed delivery again.")
    ] = False,
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (its slug).")
    ] = None,
    limit: Annotated[int, typer.Option(help="List at most this many rows.", min=1)] = LIMIT_DEFAULT,
) -> None:
    """List deliveries that failed, are held (channel not set up) or are stuck in sending.

    With --retry ID... or --retry-failed they are put back to pending and due, and sent
    now (by the worker when REDIS_URL is set, else by this command). Addresses and
    message texts are never printed in full.
    """
    from api.cli import Failure, failing, out

    with failing():
        if ids and not retry:
            raise Failure("to send ids again, add --retry: ajira outbox --retry 12 13")
        if retry and not ids:
            raise Failure("--retry needs the ids of the deliveries to send again")
        if retry or retry_failed:
            _retry(ids or [], all_failed=retry_failed, org=org)
            return
        rows = _troubled(org, limit)
        if not rows:
            out().print("No failed, held or stuck deliveries" + (f" for {org}." if org else "."))
            return
        out().print(_table(rows))


def _troubled(org: str | None, limit: int) -> list[TroubledRow]:
    from hrcore.db import unit_of_work
    from hrcore.notifications.operations import troubled
    from hrcore.tenancy import Crossing, system

    # An operator's command: every employer's deliveries unless `--org` names one.
    with unit_of_work() as session, system(session, Crossing.OPERATIONS):
        return troubled(session, organization=org, limit=limit)


def _retry(ids: list[int], *, all_failed: bool, org: str | None) -> None:
    # Without a broker the deliveries run here, so this process must know the task.
    import channels.delivery  # noqa: F401
    from api.cli import out
    from hrcore.db import unit_of_work
    from hrcore.notifications import outbox
    from hrcore.notifications.models import Notification
    from hrcore.notifications.operations import retry
    from hrcore.tenancy import Crossing, system

    with unit_of_work() as session, system(session, Crossing.OPERATIONS):
        result = retry(session, ids=ids, all_failed=all_failed, organization=org)
    outbox.drain()
    console = out()
    for notification_id, why in sorted(result.skipped.items()):
        console.print(f"#{notification_id}: left alone ({why})")
    if not result.retried:
        console.print("Nothing to send again.")
        return
    with unit_of_work() as session, system(session, Crossing.OPERATIONS):
        now = {
            n.id: str(n.status)
            for n in session.query(Notification).filter(Notification.id.in_(result.retried))
        }
    done = ", ".join(f"#{i} {now.get(i, 'gone')}" for i in result.retried)
    console.print(f"Sent again: {len(result.retried)} ({done}).", soft_wrap=True)


def _age(created_at: datetime) -> str:
    seconds = max(0, int((clock.now() - created_at).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _table(rows: list[TroubledRow]) -> Table:
    table = Table(title="Deliveries needing attention", show_header=True)
    for column in ("id", "organization", "channel", "to", "kind", "status", "attempts"):
        table.add_column(column, no_wrap=column != "to")
    table.add_column("last error", overflow="fold")
    table.add_column("age", justify="right")
    table.add_column("text", overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.organization,
            row.channel,
            row.to,
            row.kind,
            row.state,
            str(row.attempts),
            row.last_error[:80],
            _age(row.created_at),
            row.preview,
        )
    return table
