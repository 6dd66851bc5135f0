"""Telegram: webhook updates in, answers and notifications out through the Bot API."""
