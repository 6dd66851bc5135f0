"""Organization scoping, in two walls.

The first wall is the application's: every lookup goes through `get_for_org` or filters by
organization itself. The second is PostgreSQL's row-level security (migration 0011): every
table with an `organization_id` shows the role `ajira_app` only the rows of the
organization named by the transaction-local setting `app.organization_id`, so a query
that forgets its filter still sees only its own employer. Unset, it sees no tenant rows.

Here the second wall meets the sessions. A session carries whom it acts for
(`act_as`, from the actor that the token, phone or job named), and before its statements
run the connection is told, with `set_config(..., true)` (SET LOCAL: it ends with the
transaction). The few paths that must cross employers (`Crossing`: a login names its
organization only once its user is found, a job's argument is a bare id, the scheduler
walks every employer) do so inside `system(session, why)`, which switches the
transaction to the role `ajira_system` for that block only and logs why.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.session import SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry, Pool

from hrcore.actor import Actor
from hrcore.errors import NotFound

M = TypeVar("M")

log = structlog.get_logger("ajira.tenancy")

#: The role every application connection switches to: bound by the tenant policies.
APP_ROLE = "ajira_app"
#: The role of a `system` block: the policies let it see every organization's rows.
SYSTEM_ROLE = "ajira_system"
#: The transaction-local setting the policies compare `organization_id` with.
ORG_SETTING = "app.organization_id"


def get_for_org(
    session: Session, actor: Actor, model: type[M], object_id: Any, *, what: str, lock: bool = False
) -> M:
    """Load `model` by id within the actor's organization; anything else is "not found"."""
    # Ids are BIGINT: a number beyond that range names nothing (and the database would refuse it).
    out_of_range = isinstance(object_id, int) and not -(2**63) <= object_id < 2**63
    obj = None if out_of_range else session.get(model, object_id, with_for_update=lock)
    if obj is None or getattr(obj, "organization_id", None) != actor.organization_id:
        raise NotFound(
            f"No {what} with id {object_id}.", code=f"{what.replace(' ', '_')}_not_found"
        )
    return obj


class Crossing(enum.StrEnum):
    """Why a block may read or write every organization's rows: the only reasons there are.

    A new member is a new hole in the wall between employers; tests/test_row_level_security.py
    lists where each is used, so adding one is a reviewed change.
    """

    #: A login (email or phone) or a presented refresh token names its organization only
    #: once its row is found; logins and contacts are unique across employers.
    LOGIN = "login"
    #: A channel address (phone, Telegram or WhatsApp id) names its person, and a provider's
    #: message id is claimed before anyone knows who sent it.
    IDENTITY = "identity"
    #: A background job or a provider's callback (a delivery report) carries a bare id: it
    #: reads which organization owns that row, nothing more.
    JOB = "job"
    #: The scheduler and the outbox worker pick what is due across every employer.
    SCHEDULE = "schedule"
    #: Platform operations: an organization created or found by its slug, an operator's
    #: command over every employer (`ajira outbox`), the metrics' totals.
    OPERATIONS = "operations"
    #: Rows that belong to no employer (a sign-in with an unknown login, a message from an
    #: unknown sender): no organization may read them, so only the system writes them.
    UNOWNED = "unowned"
    #: Tests, benchmarks and evaluations arranging several employers' data at once.
    ARRANGE = "arrange"


@dataclass(frozen=True, slots=True)
class Tenant:
    """Whom a session acts for: one organization (or none yet), and a crossing if any."""

    organization_id: int | None = None
    crossing: Crossing | None = None


_KEY = "ajira.tenant"
#: On a connection: what its current transaction was last told (absent: unknown).
_APPLIED = "ajira.tenant_applied"
#: On a connection: the role it switched to when it connected (absent: none, RLS is off).
_ROLE = "ajira.app_role"
NOBODY = Tenant()


def tenant_of(session: Session) -> Tenant:
    """Whom `session` acts for now."""
    found = session.info.get(_KEY)
    return found if isinstance(found, Tenant) else NOBODY


def bind(session: Session, tenant: Tenant) -> None:
    """Make `session` act for `tenant` from its next statement on."""
    if tenant != tenant_of(session):
        # Writes still pending are checked as whom they were made for, not the next.
        session.flush()
    # Told to the connection before the session's next statement (`_apply`).
    session.info[_KEY] = tenant


def act_as(session: Session, who: Actor | int) -> None:
    """Bind `session` to the actor's organization (or to an organization id).

    Every boundary that turns something presented into an actor calls this: the access
    token, a channel identity, a job's argument, an operator's `--org`.
    """
    org = who.organization_id if isinstance(who, Actor) else who
    bind(session, replace(tenant_of(session), organization_id=org))


@contextmanager
def system(session: Session, why: Crossing) -> Iterator[Session]:
    """Within the block, `session` sees and writes every organization's rows.

    Keep the block to the statement that needs it (find a login, read which organization
    owns a job's row), then `act_as` what it found. An organization bound inside the
    block stays bound after it.
    """
    before = tenant_of(session)
    log.debug("crossing_organizations", why=str(why))
    bind(session, replace(before, crossing=why))
    try:
        yield session
    except BaseException:
        # The transaction is failing: nothing of it is flushed, the crossing still ends.
        session.info[_KEY] = replace(tenant_of(session), crossing=before.crossing)
        raise
    bind(session, replace(tenant_of(session), crossing=before.crossing))


def act_as_owner_of(session: Session, model: type[Any], object_id: Any) -> int | None:
    """Bind `session` to the organization that owns row `object_id` of `model`; return it.

    For jobs and callbacks that carry only an id: this one column is all they read across
    organizations. None (and the session unbound) when there is no such row.
    """
    with system(session, Crossing.JOB):
        org = session.scalar(select(model.organization_id).where(model.id == object_id))
    if org is not None:
        act_as(session, org)
    return org


# ------------------------------------------------------------------ the database side


def use_app_role(engine: Engine, role: str = APP_ROLE) -> None:
    """Make every connection of `engine` switch to `role` as soon as it connects.

    The login role owns the tables (or is a superuser) and would not be bound by the
    policies; `role` is, and `system` blocks switch from it to `SYSTEM_ROLE` and back.
    """

    @event.listens_for(engine, "connect")
    def _switch(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        with dbapi_connection.cursor() as cursor:
            # Quoted by the server: the role name is configuration, not input.
            cursor.execute("SELECT set_config('role', %s, false)", (role,))
        dbapi_connection.commit()
        record.info[_ROLE] = role


#: Both transaction-local (`SET LOCAL`): they end with the transaction, whatever happens.
_TELL = text("SELECT set_config(:name, :org, true), set_config('role', :role, true)")


def _apply(session: Session, connection: Connection) -> None:
    """Tell the connection's transaction whom `session` acts for, unless it knows already.

    Checked before each statement, not only when a transaction begins: in the tests every
    session shares one connection and one outer transaction, so another session may have
    told it something else since.
    """
    role = connection.info.get(_ROLE)
    if role is None:
        # The login role (migrations, the benchmarks' "policies off"): no policy binds it,
        # so there is nothing to tell, and it costs what it did before the policies.
        return
    tenant = tenant_of(session)
    org = "" if tenant.organization_id is None else str(tenant.organization_id)
    wanted = (org, SYSTEM_ROLE if tenant.crossing is not None else role)
    if connection.info.get(_APPLIED) == wanted:
        return
    connection.execute(_TELL, {"name": ORG_SETTING, "org": org, "role": wanted[1]})
    connection.info[_APPLIED] = wanted


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    _apply(session, connection)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    _apply(state.session, state.session.connection(bind_arguments=state.bind_arguments))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    _apply(session, session.connection())


def _forget(connection: Connection, *args: object) -> None:
    # SET LOCAL ends with the transaction, and a rolled back savepoint takes back what was
    # set inside it: the next statement tells the connection again. A connection that
    # died has nothing to forget (and asking it would try to reconnect).
    if not connection.invalidated:
        connection.info.pop(_APPLIED, None)


for _name in ("commit", "rollback", "rollback_savepoint"):
    event.listen(Engine, _name, _forget)


@event.listens_for(Pool, "checkin")
def _forget_on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    if record is not None:
        record.info.pop(_APPLIED, None)
