"""Scheduled HR automations: digests, reminders, escalations and invitations."""
