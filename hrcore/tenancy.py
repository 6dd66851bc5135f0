"""Organization scoping: every lookup goes through here or filters by organization itself."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from hrcore.actor import Actor
from hrcore.errors import NotFound

M = TypeVar("M")


def get_for_org(
    session: Session, actor: Actor, model: type[M], object_id: Any, *, what: str, lock: bool = False
) -> M:
    """Load `model` by id within the actor's organization; anything else is "not found"."""
    # Ids are BIGINT: a number beyond that range names nothing (and the database would refuse it).
    out_of_range = isinstance(object_id, int) and not -(2**63) <= object_id < 2**63
    obj = None if out_of_range else session.get(model, object_id, with_for_update=lock)
    if obj is None or getattr(obj, "organization_id", None) != actor.organization_id:
        raise NotFound(
            f"No {what} with id {object_id}.", code=f"{what.replace(' ', '_')}_not_found"
        )
    return obj
