"""phone menu sessions (USSD) and a lock after wrong PINs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("pin_failed_attempts", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("users", sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "menu_sessions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("session_key", sa.String(length=100), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("trail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_status", sa.String(length=16), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("end_hops", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("last_response", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_menu_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_menu_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_sessions")),
        sa.UniqueConstraint(
            "channel", "session_key", name=op.f("uq_menu_sessions_channel_session_key")
        ),
    )
    op.create_index(op.f("ix_menu_sessions_organization_id"), "menu_sessions", ["organization_id"])
    op.create_index(op.f("ix_menu_sessions_user_id"), "menu_sessions", ["user_id"])
    op.create_index("ix_menu_sessions_updated_at", "menu_sessions", ["updated_at"])


def downgrade() -> None:
    op.drop_table("menu_sessions")
    op.drop_column("users", "pin_locked_until")
    op.drop_column("users", "pin_failed_attempts")
