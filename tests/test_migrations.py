"""The migrations produce exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from hrcore.all_models import Base


def _is_checkpointer(change: tuple[Any, ...]) -> bool:
    kind, obj = change[0], change[1]
    if kind == "remove_table":
        return obj.name.startswith("checkpoint")
    if kind == "remove_index":
        return obj.table.name.startswith("checkpoint")
    return False


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # LangGraph's checkpointer owns its own tables; they are not ours to migrate.
    ours = [d for d in diff if not _is_checkpointer(d)]
    assert ours == [], f"run scripts/new_migration.py: {ours}"
