"""how far each clock-in and clock-out location can be trusted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for end in ("in", "out"):
        op.add_column(
            "attendance_records",
            sa.Column(f"location_source_{end}", sa.String(length=16), nullable=True),
        )
    # Every location kept so far came from the device at the moment of clocking.
    op.execute(
        "UPDATE attendance_records SET location_source_in = 'device' WHERE latitude_in IS NOT NULL"
    )
    op.execute(
        "UPDATE attendance_records SET location_source_out = 'device' "
        "WHERE latitude_out IS NOT NULL"
    )


def downgrade() -> None:
    for end in ("in", "out"):
        op.drop_column("attendance_records", f"location_source_{end}")
