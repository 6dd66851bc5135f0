"""Row-level security: the database's own wall between employers (migration 0011).

The application filters every query by organization; these tests check that a query
which forgets to still sees only its own employer's rows, that the wall covers every
table with an `organization_id`, and that the ways through it are the named few.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from hrcore import db, tenancy
from hrcore.actor import Actor, Channel
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord
from hrcore.audit import AuditEntry
from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.leave import service as leave
from hrcore.leave.models import Accrual, LeaveRequest, LeaveType
from hrcore.notifications.models import Notification
from hrcore.notifications.service import notify
from hrcore.payroll.models import PayrollRun, Payslip, SalaryStructure
from hrcore.people.models import Organization, Site, User
from hrcore.people.service import actor_for
from hrcore.seed import seed_demo
from hrcore.tenancy import Crossing
from hrcore.wellness import service as wellness
from hrcore.wellness.models import MoodParticipation
from knowledge.ingest import ingest_text
from tests.knowledge_fixtures import FixedEmbedder

ROOT = Path(__file__).resolve().parent.parent

#: Every table whose rows are an employer's: the models say so with `organization_id`.
TENANT_TABLES_SQL = """
    SELECT c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id'
        AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
"""

#: Models with a row for each employer after `employers`, read without any filter.
UNFILTERED = (
    LeaveRequest,
    LeaveType,
    AttendanceRecord,
    Payslip,
    PayrollRun,
    SalaryStructure,
    Notification,
    PolicyDocument,
    PolicyChunk,
    User,
    AuditEntry,
    MoodParticipation,
)


def _tenant_tables(session: Session) -> list[str]:
    return list(session.scalars(text(TENANT_TABLES_SQL)))


# ------------------------------------------------------------- the wall is everywhere


def test_every_tenant_table_has_row_level_security_forced_and_its_policies(
    session: Session,
) -> None:
    """A new table with an `organization_id` fails here until its migration adds the policies."""
    tables = _tenant_tables(session)
    assert len(tables) >= 31
    flags = {
        name: (enabled, forced)
        for name, enabled, forced in session.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:names) AND relnamespace = 'public'::regnamespace"
            ),
            {"names": [*tables, "organizations"]},
        )
    }
    policies: dict[str, dict[str, tuple[list[str], str, str | None, str | None]]] = {}
    for table, name, roles, cmd, qual, check in session.execute(
        text(
            "SELECT tablename, policyname, roles::text[], cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public'"
        )
    ):
        policies.setdefault(table, {})[name] = (list(roles), cmd, qual, check)

    for table in [*tables, "organizations"]:
        assert flags[table] == (True, True), f"{table}: row-level security not enabled and forced"
        own = policies.get(table, {})
        column = "id" if table == "organizations" else "organization_id"
        assert set(own) == {"tenant_isolation", "system_access"}, f"{table}: {sorted(own)}"
        roles, cmd, qual, check = own["tenant_isolation"]
        assert roles == [tenancy.APP_ROLE], table
        assert cmd == "ALL", table
        for expression in (qual, check):
            assert expression is not None, table
            assert column in expression, table
            assert tenancy.ORG_SETTING in expression, table
        roles, cmd, qual, check = own["system_access"]
        assert (roles, cmd, qual, check) == ([tenancy.SYSTEM_ROLE], "ALL", "true", "true"), table


def test_the_application_runs_as_a_role_the_policies_bind(engine: Engine) -> None:
    """Superusers and owners that are not forced ignore policies: the app is neither."""
    with engine.connect() as conn:
        user, superuser, bypass = conn.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
        owned = conn.scalar(
            text(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind IN ('r', 'p') AND pg_get_userbyid(relowner) IN (:app, :system)"
            ),
            {"app": tenancy.APP_ROLE, "system": tenancy.SYSTEM_ROLE},
        )
        conn.rollback()
    assert (user, superuser, bypass) == (tenancy.APP_ROLE, False, False)
    assert owned == 0


# ------------------------------------------------------------- two employers' rows


@dataclass
class Employers:
    demo: Organization
    acme: Organization
    john: Actor  # an employee of demo
    grace: Actor  # demo's admin
    neema: Actor  # an employee of acme


def _make_rows(who: Actor, user: User, *, document: str) -> None:
    """Rows in the tables below for `who`'s employer, written as that employer would."""
    with db.unit_of_work(who) as uow:
        leave.request_leave(
            uow,
            who,
            leave_type="annual",
            start_date=date(2027, 2, 1),
            end_date=date(2027, 2, 2),
        )
        wellness.submit_mood(uow, who, score=4)
        attendance.clock_in(uow, who)
        notify(
            uow, uow.get(User, user.id) or user, kind="test.rls", text="hello", channel=Channel.WEB
        )
        ingest_text(
            uow,
            organization_id=who.organization_id,
            title="Leave",
            filename=f"{document}.md",
            content=f"# Leave\n\nAnnual leave at {document} is 21 days a year.".encode(),
            embedder=FixedEmbedder(),
        )


@pytest.fixture
def employers(session: Session) -> Employers:
    """The two demo employers, seeded as `ajira seed-demo` does (through the wall)."""
    with db.unit_of_work() as uow:
        seed_demo(uow, password="a-test-password-2026")
    demo = session.scalar(select(Organization).where(Organization.slug == "demo"))
    acme = session.scalar(select(Organization).where(Organization.slug == "acme-tz"))
    assert demo is not None
    assert acme is not None

    def person(email: str) -> User:
        found = session.scalar(select(User).where(User.email == email))
        assert found is not None
        return found

    john, grace = person("john@demo.ajira.test"), person("admin@demo.ajira.test")
    neema = person("neema@acme-tz.ajira.test")
    _make_rows(actor_for(john), john, document="demo")
    _make_rows(actor_for(neema), neema, document="acme")
    return Employers(demo, acme, actor_for(john), actor_for(grace), actor_for(neema))


def test_an_unfiltered_query_sees_only_its_own_employers_rows(
    session: Session, employers: Employers
) -> None:
    """The decisive case: no `WHERE organization_id = ...` at all, as one employer."""
    for model in UNFILTERED:
        name = model.__tablename__
        everyone = dict(
            session.execute(
                select(model.organization_id, func.count()).group_by(model.organization_id)
            ).all()
        )
        assert {employers.demo.id, employers.acme.id} <= set(everyone), name
        with db.unit_of_work(employers.john) as uow:
            rows = uow.scalars(select(model)).all()  # deliberately unfiltered
        assert {row.organization_id for row in rows} == {employers.demo.id}, name
        assert len(rows) == everyone[employers.demo.id], name


def test_no_table_shows_another_employers_row(session: Session, employers: Employers) -> None:
    """Every tenant table, by raw SQL, as one employer and then as the other.

    With policy search's view of the passages, which filters by the same setting.
    """
    tables = [*_tenant_tables(session), "policy_chunks_searchable"]
    for who, other in ((employers.john, employers.acme.id), (employers.neema, employers.demo.id)):
        with db.unit_of_work(who) as uow:
            for table in tables:
                foreign = uow.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE organization_id = :other"),  # noqa: S608
                    {"other": other},
                )
                assert foreign == 0, f"{table} shows {foreign} rows of organization {other}"
            organizations = uow.scalars(select(Organization.id)).all()
            assert organizations == [who.organization_id]


def test_a_session_acting_for_nobody_sees_no_tenant_rows(
    session: Session, employers: Employers
) -> None:
    """Before an actor is known the default is nothing, never everything."""
    tables = [*_tenant_tables(session), "policy_chunks_searchable"]
    with db.unit_of_work() as uow:
        for table in [*tables, "organizations"]:
            count = uow.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            assert count == 0, f"{table}: {count} rows visible to nobody"


def test_another_employers_rows_cannot_be_written(session: Session, employers: Employers) -> None:
    demo, acme = employers.demo.id, employers.acme.id
    acme_admin = session.scalar(select(User).where(User.email == "admin@acme-tz.ajira.test"))
    assert acme_admin is not None

    # Inserting a row that names the other employer.
    planted = LeaveType(
        organization_id=acme,
        code="planted",
        name="Planted",
        days_per_year=Decimal(1),
        accrual=Accrual.UPFRONT,
        paid=True,
    )
    with db.unit_of_work(employers.grace) as uow:
        uow.add(planted)
        with pytest.raises(ProgrammingError, match="row-level security"):
            uow.flush()
        uow.rollback()

    # Moving an own row over to the other employer.
    move = update(Site).where(Site.organization_id == demo).values(organization_id=acme)
    with db.unit_of_work(employers.grace) as uow:
        with pytest.raises(ProgrammingError, match="row-level security"):
            uow.execute(move)
        uow.rollback()

    # Changing or deleting the other's rows by id: there is nothing there to change.
    with db.unit_of_work(employers.grace) as uow:
        changed = uow.execute(
            update(User).where(User.id == acme_admin.id).values(full_name="Hijacked")
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        gone = uow.execute(text("DELETE FROM payslips WHERE organization_id = :o"), {"o": acme})
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    session.expire_all()
    assert acme_admin.full_name != "Hijacked"
    assert session.scalar(
        select(func.count()).select_from(Payslip).where(Payslip.organization_id == acme)
    )


# ------------------------------------------------------------- the session machinery


def test_a_system_block_ends_with_the_block(session: Session, employers: Employers) -> None:
    with db.unit_of_work(employers.john) as uow:
        with tenancy.system(uow, Crossing.ARRANGE):
            both = set(uow.scalars(select(Organization.id)))
        after = set(uow.scalars(select(Organization.id)))
        role = uow.scalar(text("SELECT current_user"))
    assert both >= {employers.demo.id, employers.acme.id}
    assert after == {employers.demo.id}
    assert role == tenancy.APP_ROLE


def test_an_organization_bound_in_a_system_block_stays_bound(
    session: Session, employers: Employers
) -> None:
    with db.unit_of_work() as uow:
        with tenancy.system(uow, Crossing.ARRANGE):
            tenancy.act_as(uow, employers.acme.id)
        assert set(uow.scalars(select(Organization.id))) == {employers.acme.id}


def test_the_organization_survives_commits_and_rolled_back_savepoints(
    session: Session, employers: Employers
) -> None:
    """SET LOCAL ends with each transaction; the session tells every new one again."""
    mine = {employers.demo.id}
    own = db.session_factory()()
    try:
        tenancy.act_as(own, employers.john)
        assert set(own.scalars(select(User.organization_id))) == mine
        own.commit()
        assert set(own.scalars(select(User.organization_id))) == mine
        nested = own.begin_nested()
        tenancy.act_as(own, employers.neema)
        assert set(own.scalars(select(User.organization_id))) == {employers.acme.id}
        nested.rollback()
        # The savepoint took the setting back with it; the session's binding holds.
        assert set(own.scalars(select(User.organization_id))) == {employers.acme.id}
        tenancy.act_as(own, employers.john)
        assert set(own.scalars(select(User.organization_id))) == mine
    finally:
        own.rollback()
        own.close()


def test_sessions_sharing_a_connection_each_keep_their_own_organization(
    session: Session, employers: Employers
) -> None:
    """In the tests every session shares one connection: each statement re-tells it."""
    first, second = db.session_factory()(), db.session_factory()()
    try:
        tenancy.act_as(first, employers.john)
        tenancy.act_as(second, employers.neema)
        for _ in range(2):
            assert set(first.scalars(select(User.organization_id))) == {employers.demo.id}
            assert set(second.scalars(select(User.organization_id))) == {employers.acme.id}
        # And the test's own session still crosses for its arranging.
        assert set(session.scalars(select(User.organization_id))) >= {
            employers.demo.id,
            employers.acme.id,
        }
    finally:
        for own in (second, first):  # savepoints unwind innermost first
            own.rollback()
            own.close()


def test_a_failed_calls_audit_row_is_kept_as_its_employer(
    session: Session, employers: Employers
) -> None:
    """The failure's own record is written after the rollback, in a session of its own."""
    from hrcore.errors import Forbidden
    from hrcore.people import service as people

    before = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "forbidden")
    )
    with pytest.raises(Forbidden), db.unit_of_work(employers.john) as uow:
        people.create_employee(
            uow, employers.john, full_name="X", email="x@x.test", hire_date=date(2026, 1, 1)
        )
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.outcome == "forbidden").order_by(AuditEntry.id)
    ).all()
    assert len(rows) == (before or 0) + 1
    assert rows[-1].organization_id == employers.demo.id


# ------------------------------------------------------------- the ways through it

#: Where each reason to cross employers is used: a new use is a reviewed change here.
CROSSINGS: dict[str, set[str]] = {
    "hrcore/people/service.py": {"LOGIN", "OPERATIONS"},
    "hrcore/auth/service.py": {"LOGIN"},
    "hrcore/seed.py": {"LOGIN", "OPERATIONS"},
    "hrcore/identities/service.py": {"IDENTITY"},
    "hrcore/menus/service.py": {"IDENTITY", "SCHEDULE"},
    "hrcore/notifications/service.py": {"JOB"},
    "hrcore/tenancy.py": {"JOB"},
    "hrcore/audit.py": {"UNOWNED"},
    "hrcore/idempotency.py": {"SCHEDULE"},
    "hrcore/leave/tasks.py": {"SCHEDULE"},
    "hrcore/automations/tasks.py": {"SCHEDULE"},
    "channels/delivery.py": {"SCHEDULE"},
    "knowledge/maintenance.py": {"OPERATIONS"},
    "api/cli.py": {"OPERATIONS"},
    "api/commands/automations.py": {"OPERATIONS"},
    "api/commands/knowledge.py": {"OPERATIONS"},
    "api/commands/outbox.py": {"OPERATIONS"},
    "api/routes/metrics.py": {"OPERATIONS"},
    "assistant/eval.py": {"ARRANGE"},
}


def _crossings_in_source() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for package in ("hrcore", "knowledge", "tools", "assistant", "channels", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            names = set(re.findall(r"Crossing\.([A-Z_]+)", path.read_text()))
            if names:
                found[str(path.relative_to(ROOT))] = names
    return found


def test_crossings_are_used_only_where_reviewed() -> None:
    assert _crossings_in_source() == CROSSINGS


def test_every_crossing_has_a_use() -> None:
    used = set().union(*CROSSINGS.values())
    assert used == {c.name for c in Crossing}
