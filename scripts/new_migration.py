"""Autogenerate a migration against a throwaway embedded database at head.

Usage: python scripts/new_migration.py "message" [--rev-id 0002]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from hrcore.db import make_engine, start_embedded_postgres
from hrcore.migrate import alembic_config, upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("message")
    parser.add_argument("--rev-id")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(start_embedded_postgres(Path(tmp), cleanup_mode="delete"))
        upgrade(engine)
        command.revision(
            alembic_config(engine), message=args.message, autogenerate=True, rev_id=args.rev_id
        )
        engine.dispose()


if __name__ == "__main__":
    main()
