"""Email: notifications sent over SMTP (`SMTP_URL`)."""
