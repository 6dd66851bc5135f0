"""The one rule for list pages, so every list refuses a bad page the same way."""

from __future__ import annotations

from hrcore.errors import Invalid

MAX_PAGE = 100


def check_page(limit: int, offset: int, *, max_limit: int = MAX_PAGE) -> None:
    """Raise `Invalid` (`invalid_limit`, `invalid_offset`) for a page that cannot be served."""
    if not 1 <= limit <= max_limit:
        raise Invalid(f"limit must be from 1 to {max_limit}.", code="invalid_limit")
    if offset < 0:
        raise Invalid("offset may not be negative.", code="invalid_offset")
