"""`ajira eval-retrieval`: recall@1, recall@5 and MRR of policy search on the demo handbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `eval-retrieval` to the `ajira` command line."""
    app.command("eval-retrieval")(eval_retrieval)


def eval_retrieval(
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures as JSON to this file.")
    ] = None,
    show_misses: Annotated[
        bool, typer.Option(help="List the questions whose answer is not in the top 5.")
    ] = False,
) -> None:
    """Score dense, full-text and hybrid search on the demo handbook's question set.

    The handbook is ingested into a throwaway organization in a transaction that is
    rolled back; passage embeddings are cached under AJIRA_DATA_DIR, so re-runs are fast.
    """
    from api.cli import Failure, failing
    from hrcore.db import get_engine
    from hrcore.migrate import current_revision
    from knowledge.evaluate import main

    with failing():
        if current_revision(get_engine()) is None:
            raise Failure("the database has no schema yet: run `ajira migrate` first")
        main(json_path=json_path, show_misses=show_misses)
