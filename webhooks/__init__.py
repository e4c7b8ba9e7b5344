"""FastAPI routers mounted into the Reflex app: webhooks and the public /api/v1."""
