"""row-level security: a second wall between employers

Every table with an `organization_id` (and `organizations` itself) shows the role
`ajira_app` only the rows of the organization in the transaction-local setting
`app.organization_id`, and refuses to write rows of another; unset, it shows none.
FORCE makes the policies bind the tables' owner too (superusers are never bound, which
is why the application switches to `ajira_app` on every connection). `ajira_system`
sees everything: `hrcore.tenancy.system` switches to it for the few named paths that
must cross employers.

New tenant tables need the same three statements (see `_enable`);
tests/test_row_level_security.py fails until they have them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "ajira_app"
SYSTEM = "ajira_system"
#: The organization of the transaction; '' after a transaction that set it, NULL before.
CURRENT_ORG = "NULLIF(current_setting('app.organization_id', true), '')::bigint"

TENANT_TABLES = (
    "attendance_records",
    "audit_log",
    "auth_sessions",
    "automation_runs",
    "automation_settings",
    "balance_alerts",
    "broadcasts",
    "channel_identities",
    "departments",
    "hr_cases",
    "idempotency_keys",
    "inbound_messages",
    "issue_reports",
    "leave_balances",
    "leave_requests",
    "leave_types",
    "menu_sessions",
    "mood_day_keys",
    "mood_entries",
    "mood_participation",
    "notification_attempts",
    "notifications",
    "payroll_runs",
    "payslips",
    "policy_chunks",
    "policy_documents",
    "refresh_tokens",
    "reviews",
    "salary_structures",
    "sites",
    "users",
)


def _enable(table: str, column: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # One plain equality for the application: the planner evaluates the setting once per
    # scan and can use the organization_id indexes. Rows whose organization is NULL (an
    # unknown sender's message, a failed login by nobody) belong to no employer: only
    # `ajira_system` sees them.
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO {APP} "
        f"USING ({column} = {CURRENT_ORG}) WITH CHECK ({column} = {CURRENT_ORG})"
    )
    op.execute(
        f"CREATE POLICY system_access ON {table} AS PERMISSIVE FOR ALL TO {SYSTEM} "
        "USING (true) WITH CHECK (true)"
    )


def upgrade() -> None:
    # Roles belong to the cluster, not the database: another database (a test's own) may
    # have created them already.
    for role in (APP, SYSTEM):
        op.execute(
            f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    # The login role must be able to switch to both. A superuser can without membership;
    # anyone else gets it without inheriting, so that as the owner it is still bound.
    op.execute(
        """
        DO $$ BEGIN
          IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            IF current_setting('server_version_num')::int >= 160000 THEN
              EXECUTE format(
                'GRANT ajira_app, ajira_system TO %I WITH INHERIT FALSE', current_user);
            ELSE
              EXECUTE format('GRANT ajira_app, ajira_system TO %I', current_user);
            END IF;
          END IF;
        END $$
        """
    )
    both = f"{APP}, {SYSTEM}"
    op.execute(f"GRANT USAGE ON SCHEMA public TO {both}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {both}")
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {both}")
    # The schema's version is the migrations' business; reading it is enough (readiness).
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {both}")
    # Tables created later by the same owner (a new migration, the conversation memory's)
    # are usable at once; their policies are the migration's job.
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {both}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {both}"
    )
    for table in TENANT_TABLES:
        _enable(table, "organization_id")
    _enable("organizations", "id")
    _full_text_search()


def _full_text_search() -> None:
    """What policy search needs from the policed tables that policies would deny it.

    Under row-level security the planner evaluates a policy before any operator that is
    not leakproof, and `@@` is not: the GIN index on `tsv` went unused, and full-text
    matching walked the employer's every row (hybrid search p95 24.8 -> 40.3 ms on the
    100k benchmark). And `pg_stats` hides the statistics of a table whose policies apply,
    which search reads to tell common words from selective ones.
    """
    # The employer's own rows, by the same setting as the policy, as a plain filter the
    # planner may combine with `@@` on the GIN index. Owned by `ajira_system`, which the
    # table's policies let read every row; the filter binds `ajira_app`, and roles that
    # see every row anyway (`ajira_system`, the owner) see them here too. Not a security
    # barrier, so only the application's own statements should read it (they do).
    op.execute(
        """
        CREATE VIEW policy_chunks_searchable AS
        SELECT id, organization_id, tsv FROM policy_chunks
        WHERE organization_id = NULLIF(current_setting('app.organization_id', true), '')::bigint
           OR current_user <> 'ajira_app'
        """
    )
    op.execute(f"ALTER VIEW policy_chunks_searchable OWNER TO {SYSTEM}")
    op.execute("REVOKE ALL ON policy_chunks_searchable FROM PUBLIC")
    op.execute(f"GRANT SELECT ON policy_chunks_searchable TO {APP}")
    # Word frequencies over every employer's passages, as ANALYZE keeps them: a total, no
    # row, used only to plan a search. Its owner (the migrating role) must be a superuser
    # for `pg_stats` to show them; otherwise it returns none and every word selects.
    op.execute(
        """
        CREATE FUNCTION policy_chunk_common_lexemes()
        RETURNS TABLE (words text[], shares real[])
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
          SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats
          WHERE schemaname = 'public' AND tablename = 'policy_chunks' AND attname = 'tsv'
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION policy_chunk_common_lexemes() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION policy_chunk_common_lexemes() TO {APP}, {SYSTEM}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS policy_chunk_common_lexemes()")
    op.execute("DROP VIEW IF EXISTS policy_chunks_searchable")
    for table in (*TENANT_TABLES, "organizations"):
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"DROP POLICY IF EXISTS system_access ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    both = f"{APP}, {SYSTEM}"
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM {both}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {both}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {both}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {both}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {both}")
    # The roles stay while another database of the cluster still grants them something.
    for role in (SYSTEM, APP):
        op.execute(
            f"DO $$ BEGIN DROP ROLE {role}; "
            "EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$"
        )
