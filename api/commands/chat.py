"""`ajira chat --user PHONE_OR_EMAIL`: a conversation with the assistant in the terminal."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from hrcore.actor import Actor

PROMPT = "you> "
SPEAKER = "ajira> "


def register(app: typer.Typer) -> None:
    """Add `chat` to the `ajira` command line."""
    app.command("chat")(chat)


def chat(
    user: Annotated[
        str,
        typer.Option(
            "--user", help="Chat as this person: their email or phone number (e.g. 0712…)."
        ),
    ],
) -> None:
    """Talk to the assistant as USER, from a terminal on the server.

    No password is asked: an operator's tool, it runs with the server's own database access.

    Type /new to start a new conversation, /quit (or Ctrl-D) to leave.
    """
    from api.cli import Failure, failing

    with failing():
        actor, name = _actor_for(user)
        if actor is None:
            raise Failure(f"no active user has the email or phone {user!r}")
    typer.echo(f"Chatting as {name} ({actor.role}). /new starts afresh, /quit leaves.")
    _converse(actor)


def _actor_for(login: str) -> tuple[Actor | None, str]:
    from hrcore.actor import Channel
    from hrcore.config import get_settings
    from hrcore.db import unit_of_work
    from hrcore.people.service import actor_for, find_user_by_login

    with unit_of_work() as session:
        user = find_user_by_login(session, login, region=get_settings().default_region)
        if user is None or not user.is_active:
            return None, ""
        return actor_for(user, Channel.CLI), user.full_name


def _converse(actor: Actor) -> None:
    from assistant.memory import close_async_checkpointer

    # One event loop for the whole conversation: the memory's connection pool lives in it.
    with asyncio.Runner() as runner:
        try:
            conversation: str | None = None
            while True:
                try:
                    message = input(PROMPT).strip()
                except (EOFError, KeyboardInterrupt):
                    typer.echo()
                    break
                if not message:
                    continue
                if message.lower() in ("/quit", "/exit"):
                    break
                if message.lower() == "/new":
                    conversation = f"cli-{uuid.uuid4().hex[:12]}"
                    typer.echo("(a new conversation)")
                    continue
                _say(runner, actor, message, conversation)
        finally:
            runner.run(close_async_checkpointer())


def _say(runner: asyncio.Runner, actor: Actor, message: str, conversation: str | None) -> None:
    # Registers the outbox's tasks: what this conversation queues is delivered from here.
    import channels.delivery  # noqa: F401
    from channels import pipeline
    from hrcore.errors import HRError

    try:
        reply = runner.run(pipeline.converse(actor, message, conversation_id=conversation))
    except HRError as exc:
        typer.echo(f"{SPEAKER}{exc.message}")
        return
    except pipeline.AssistantUnavailable:
        typer.echo(f"{SPEAKER}{pipeline.UNAVAILABLE['en']}")
        return
    typer.echo(f"{SPEAKER}{reply.text}")
    pending = reply.confirmation
    if pending is not None:
        typer.echo(
            f"   waiting for your {pending.yes.lower()} or {pending.no.lower()}: {pending.tool}"
        )
    for cite in reply.citations:
        where = " › ".join([cite.document_title, *cite.heading_path])
        typer.echo(f"   [{cite.number}] {where}: “{cite.quote}”")
