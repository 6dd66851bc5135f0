"""The FastAPI application: auth, REST, webhooks, web chat."""
