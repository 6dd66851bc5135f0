"""Telegram's webhook: updates in, checked against the secret token Telegram echoes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/channels/telegram", tags=["channels"])
