"""WhatsApp Cloud API: signed webhooks in, messages and templates out through the Graph API."""
