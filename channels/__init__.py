"""Channels: one pipeline every way in shares, and one small adapter per provider.

An adapter parses and verifies what its provider sends (`Inbound`), renders a `Reply` for
its medium and sends; `channels.pipeline` does the rest: deduplication, who is speaking,
one turn at a time, the assistant, and errors.
"""
