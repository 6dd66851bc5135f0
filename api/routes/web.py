"""The web chat: the embeddable widget script and the page that hosts it for the demo."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["web chat"])
