"""The migrations produce exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from hrcore.models import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # LangGraph's checkpointer owns its own tables; they are not ours to migrate.
    ours = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("checkpoint"))]
    assert ours == [], f"run scripts/new_migration.py: {ours}"
