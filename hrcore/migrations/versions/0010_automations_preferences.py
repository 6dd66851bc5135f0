"""scheduled automations, notification preferences, messages from hr

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _org_column() -> sa.Column[int]:
    return sa.Column("organization_id", sa.BigInteger(), nullable=False)


def _org_scoped(table: str) -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f(f"fk_{table}_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "automation_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        _org_column(),
        *_org_scoped("automation_runs"),
        sa.UniqueConstraint(
            "organization_id",
            "name",
            "day",
            name=op.f("uq_automation_runs_organization_id_name_day"),
        ),
    )
    op.create_index(
        op.f("ix_automation_runs_organization_id"), "automation_runs", ["organization_id"]
    )
    op.create_table(
        "automation_settings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("at", sa.Time(), nullable=True),
        _org_column(),
        *_org_scoped("automation_settings"),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_automation_settings_organization_id_name")
        ),
    )
    op.create_index(
        op.f("ix_automation_settings_organization_id"), "automation_settings", ["organization_id"]
    )
    op.create_table(
        "balance_alerts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("leave_type_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        _org_column(),
        *_org_scoped("balance_alerts"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_balance_alerts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["leave_type_id"],
            ["leave_types.id"],
            name=op.f("fk_balance_alerts_leave_type_id_leave_types"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "user_id", "leave_type_id", name=op.f("uq_balance_alerts_user_id_leave_type_id")
        ),
    )
    op.create_index(
        op.f("ix_balance_alerts_organization_id"), "balance_alerts", ["organization_id"]
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("audience_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        _org_column(),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *_org_scoped("broadcasts"),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["users.id"],
            name=op.f("fk_broadcasts_sender_id_users"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(op.f("ix_broadcasts_organization_id"), "broadcasts", ["organization_id"])
    op.add_column("notifications", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    op.add_column("notifications", sa.Column("broadcast_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_notifications_broadcast_id_broadcasts"),
        "notifications",
        "broadcasts",
        ["broadcast_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_notifications_broadcast_id"), "notifications", ["broadcast_id"])
    op.create_index(
        "uq_notifications_dedupe",
        "notifications",
        ["organization_id", "dedupe_key"],
        unique=True,
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.add_column("users", sa.Column("notify_channel", sa.String(length=16), nullable=True))
    op.add_column("users", sa.Column("quiet_start", sa.Time(), nullable=True))
    op.add_column("users", sa.Column("quiet_end", sa.Time(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "muted_automations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    for column in ("muted_automations", "quiet_end", "quiet_start", "notify_channel"):
        op.drop_column("users", column)
    op.drop_index("uq_notifications_dedupe", table_name="notifications")
    op.drop_index(op.f("ix_notifications_broadcast_id"), table_name="notifications")
    op.drop_constraint(
        op.f("fk_notifications_broadcast_id_broadcasts"), "notifications", type_="foreignkey"
    )
    op.drop_column("notifications", "broadcast_id")
    op.drop_column("notifications", "dedupe_key")
    for table in ("broadcasts", "balance_alerts", "automation_settings", "automation_runs"):
        op.drop_table(table)
