"""What every agent run carries at runtime: who is acting, and the facts the prompt needs."""

from __future__ import annotations

from dataclasses import dataclass

from hrcore.actor import Actor


@dataclass(frozen=True, slots=True)
class AssistantContext:
    """Runtime context of one turn. The model never sees or fills it; tools read `actor`."""

    actor: Actor
    user_name: str
    employer: str
    timezone: str
    language: str = "en"
