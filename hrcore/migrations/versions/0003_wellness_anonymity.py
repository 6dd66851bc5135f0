"""wellness stays anonymous over time: weekly moods, participation pseudonyms, no small departments

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00

Mood entries keep the ISO week (its Monday) instead of the day, and lose the foreign
key on their department so that deleting a department cannot move rows between the
groups of a closed week. Departments with fewer than 5 active members are erased from
existing mood entries and issue reports, as new ones are stored. `mood_participation`
counts distinct people per week and department with keyed pseudonyms; moods recorded
before it have no participation rows, so their weeks show in no summary (the safe side:
their number of distinct people is unknown).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SMALL_DEPARTMENT = """
UPDATE {table} SET department_id = NULL
WHERE department_id IS NOT NULL
  AND (SELECT count(*) FROM users
       WHERE users.department_id = {table}.department_id AND users.is_active) < 5
"""


def upgrade() -> None:
    op.drop_constraint(
        "fk_mood_entries_department_id_departments", "mood_entries", type_="foreignkey"
    )
    op.execute(_SMALL_DEPARTMENT.format(table="mood_entries"))
    op.execute(_SMALL_DEPARTMENT.format(table="issue_reports"))

    op.drop_index("ix_mood_entries_day", table_name="mood_entries")
    op.alter_column("mood_entries", "day", new_column_name="week")
    op.execute("UPDATE mood_entries SET week = week - (EXTRACT(ISODOW FROM week)::int - 1)")
    op.create_index(op.f("ix_mood_entries_week"), "mood_entries", ["week"], unique=False)
    op.create_check_constraint(
        op.f("ck_mood_entries_week_is_monday"), "mood_entries", "EXTRACT(ISODOW FROM week) = 1"
    )

    op.create_table(
        "mood_participation",
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=True),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "EXTRACT(ISODOW FROM week) = 1", name=op.f("ck_mood_participation_week_is_monday")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mood_participation_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_mood_participation")),
    )
    op.create_index(
        op.f("ix_mood_participation_organization_id"),
        "mood_participation",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_mood_participation_week"), "mood_participation", ["week"], unique=False
    )


def downgrade() -> None:
    # The days and the erased departments are gone for good; entries keep their Mondays.
    op.drop_index(op.f("ix_mood_participation_week"), table_name="mood_participation")
    op.drop_index(op.f("ix_mood_participation_organization_id"), table_name="mood_participation")
    op.drop_table("mood_participation")

    op.drop_constraint(op.f("ck_mood_entries_week_is_monday"), "mood_entries", type_="check")
    op.drop_index(op.f("ix_mood_entries_week"), table_name="mood_entries")
    op.alter_column("mood_entries", "week", new_column_name="day")
    op.create_index("ix_mood_entries_day", "mood_entries", ["day"], unique=False)

    op.execute(
        "UPDATE mood_entries SET department_id = NULL WHERE department_id IS NOT NULL "
        "AND department_id NOT IN (SELECT id FROM departments)"
    )
    op.create_foreign_key(
        "fk_mood_entries_department_id_departments",
        "mood_entries",
        "departments",
        ["department_id"],
        ["id"],
        ondelete="SET NULL",
    )
