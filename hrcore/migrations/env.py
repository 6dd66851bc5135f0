"""Alembic environment: runs on the engine handed in by `hrcore.migrate`."""

from __future__ import annotations

from alembic import context

from hrcore.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
