"""`ajira eval`: the scenario eval of the assistant, printed as an accuracy table."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ModelChoice(StrEnum):
    OFFLINE = "offline"
    CONFIGURED = "configured"


def register(app: typer.Typer) -> None:
    """Add `eval` to the `ajira` command line."""
    app.command("eval")(eval_scenarios)


def eval_scenarios(
    scenarios: Annotated[
        Path | None,
        typer.Option(help="A scenario file or directory; default: the shipped scenarios."),
    ] = None,
    model: Annotated[
        ModelChoice, typer.Option(help="offline, or the configured OpenAI-compatible model.")
    ] = ModelChoice.OFFLINE,
    min_accuracy: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Exit non-zero when fewer turns than this are fully handled."
        ),
    ] = 0.9,
    show_failures: Annotated[bool, typer.Option(help="List every turn that missed.")] = False,
    by_category: Annotated[bool, typer.Option(help="Also a table per category.")] = False,
    retrieval: Annotated[
        bool,
        typer.Option(
            "--retrieval", help="Instead: recall and MRR of policy search on the demo handbook."
        ),
    ] = False,
) -> None:
    """Run scripted conversations through the assistant and report its accuracy.

    Without --scenarios: the shipped scenarios, then the held-out set (written without
    reading the model, never tuned on). The demo employer is seeded into a throwaway
    embedded database, so your own data is never touched; time is frozen to each file's
    `today`. Any unwanted write (data changed that nobody asked to change) fails the run.
    """
    if retrieval:
        from api.commands.retrieval_eval import eval_retrieval

        eval_retrieval(json_path=None, show_misses=show_failures)
        return
    from api.cli import Failure, failing, out
    from assistant.eval import (
        DEFAULT_SCENARIOS,
        HELD_OUT,
        ScenarioError,
        assistant_factory_for,
        run_eval,
    )

    sets = [(scenarios, "scenarios")] if scenarios else [(DEFAULT_SCENARIOS, "scenarios")]
    if scenarios is None and HELD_OUT.exists():
        sets.append((HELD_OUT, "held-out"))
    console = out()
    below = False
    for path, name in sets:
        with failing():
            try:
                report = run_eval(
                    path, assistant_factory=assistant_factory_for(model.value), name=name
                )
            except (ScenarioError, FileNotFoundError) as exc:
                raise Failure(f"{name}: {exc}") from None
        console.print(report.table())
        if by_category:
            console.print(report.table(by="category"))
        if report.skipped:
            console.print(f"Skipped (a required tool is missing): {', '.join(report.skipped)}")
        if show_failures:
            for turn in report.failures:
                console.print(f"[red]{turn.scenario}[/]: {turn.say!r}: {'; '.join(turn.problems)}")
        if report.unwanted_writes:
            console.print(f"[bold red]{len(report.unwanted_writes)} unwanted writes in {name}.[/]")
            below = True
        if report.overall.handled.accuracy < min_accuracy:
            console.print(f"[bold red]{name}: fewer than {min_accuracy:.0%} fully handled.[/]")
            below = True
    if below:
        raise typer.Exit(code=1)
