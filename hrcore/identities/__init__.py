"""Who is behind a phone number or a chat account, and which inbound messages were handled."""
