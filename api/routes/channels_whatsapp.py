"""The WhatsApp Cloud API webhook: the verification handshake, then signed messages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/channels/whatsapp", tags=["channels"])
