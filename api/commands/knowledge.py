"""`ajira ingest` and `ajira reembed`: policy documents from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def register(app: typer.Typer) -> None:
    """Add `ingest` and `reembed` to the `ajira` command line."""
    app.command("ingest")(ingest)
    app.command("reembed")(reembed)


def _progress() -> Progress:
    from api.cli import out

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeElapsedColumn(),
        console=out(),
    )


def _advance(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    """Report a document's embedded chunks on its own bar."""
    return lambda done, total: progress.update(task, completed=done, total=total)


def ingest(
    path: Annotated[
        Path, typer.Argument(exists=True, help="A policy file, or a directory of them.")
    ],
    org: Annotated[str, typer.Option("--org", help="The organization's slug, e.g. demo.")],
    title: Annotated[
        str | None, typer.Option(help="Title of the document (a single file only).")
    ] = None,
) -> None:
    """Add policy documents (Markdown, text, PDF, .docx) to an organization's search, now.

    A file already ingested unchanged is skipped; a changed one replaces its passages.
    """
    from api.cli import err, failing, out
    from hrcore.db import unit_of_work
    from hrcore.errors import Invalid
    from knowledge.ingest import content_hash, find_document
    from knowledge.maintenance import guess_title, organization_by_slug, policy_files
    from knowledge.search import forget_chunk_count, get_embedder, ingest_text

    failed = 0
    with failing():
        files = list(policy_files(path))
        if not files:
            err().print(f"No Markdown, text, PDF or .docx files under {path}.")
            raise typer.Exit(code=1)
        embedder = get_embedder()
        with _progress() as progress:
            for file in files:
                content = file.read_bytes()
                task = progress.add_task(file.name, total=None)
                try:
                    with unit_of_work() as session:
                        organization = organization_by_slug(session, org)
                        existing = find_document(
                            session, organization_id=organization.id, filename=file.name
                        )
                        if existing is not None and existing.indexed_hash == content_hash(content):
                            progress.update(task, total=existing.chunks_total)
                            progress.update(task, completed=existing.chunks_total)
                            progress.console.print(f"{file.name}: unchanged, skipped")
                            continue
                        document = ingest_text(
                            session,
                            organization_id=organization.id,
                            title=(title if title and len(files) == 1 else None)
                            or guess_title(file.name, content),
                            filename=file.name,
                            content=content,
                            embedder=embedder,
                            on_progress=_advance(progress, task),
                        )
                        chunks = document.chunks_total
                    forget_chunk_count(organization.id)
                    progress.console.print(f"{file.name}: {chunks} chunks")
                except Invalid as exc:
                    failed += 1
                    progress.remove_task(task)
                    progress.console.print(
                        f"[bold red]{file.name}:[/] {exc.message} ({exc.code})", soft_wrap=True
                    )
    if failed:
        err().print(f"{failed} of {len(files)} file(s) could not be added.")
        raise typer.Exit(code=1)
    out().print(f"[green]{len(files)} file(s) in {org}'s policy search.[/]")


def reembed(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (slug); default all.")
    ] = None,
) -> None:
    """Re-embed every passage stored with another model than the configured one."""
    from api.cli import failing, out
    from hrcore.db import unit_of_work
    from hrcore.documents.models import PolicyDocument
    from hrcore.tenancy import Crossing, act_as_owner_of, system
    from knowledge.maintenance import organization_by_slug, outdated_documents, reembed_document
    from knowledge.search import get_embedder

    with failing():
        embedder = get_embedder()
        with unit_of_work() as session, system(session, Crossing.OPERATIONS):
            # Every employer's documents, unless the operator named one.
            organization_id = organization_by_slug(session, org).id if org else None
            documents = outdated_documents(
                session, embedder=embedder, organization_id=organization_id
            )
        if not documents:
            out().print(f"Every passage is embedded with {embedder.model_name}; nothing to do.")
            return
        total = 0
        with _progress() as progress:
            for document_id in documents:
                task = progress.add_task(f"document {document_id}", total=None)
                # One transaction per document: a document never mixes two models.
                with unit_of_work() as session:
                    act_as_owner_of(session, PolicyDocument, document_id)
                    total += reembed_document(
                        session,
                        document_id,
                        embedder=embedder,
                        on_progress=_advance(progress, task),
                    )
        out().print(
            f"[green]Re-embedded {total} passages of {len(documents)} document(s) "
            f"with {embedder.model_name}.[/]"
        )
