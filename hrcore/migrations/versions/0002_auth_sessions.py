"""sign-in sessions checked on every request; sign-in limits move out of the users table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_auth_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_organization_id"), "auth_sessions", ["organization_id"])
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])
    # Every existing token family becomes a session, ended if all its tokens were revoked.
    op.execute(
        """
        INSERT INTO auth_sessions (id, organization_id, user_id, created_at, revoked_at,
                                   revoked_reason)
        SELECT family_id, min(organization_id), min(user_id), min(created_at),
               CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END,
               CASE WHEN bool_and(revoked_at IS NOT NULL) THEN 'logout' END
        FROM refresh_tokens GROUP BY family_id
        """
    )
    op.create_foreign_key(
        op.f("fk_refresh_tokens_family_id_auth_sessions"),
        "refresh_tokens",
        "auth_sessions",
        ["family_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_login_count")


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("failed_login_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(
        op.f("fk_refresh_tokens_family_id_auth_sessions"), "refresh_tokens", type_="foreignkey"
    )
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_index(op.f("ix_auth_sessions_organization_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
