"""The REST API under /api/v1 (FastAPI, mounted in the Reflex app): thin routers over the services.

Shared dependencies in ``deps`` (the caller, client details, the success envelope), strict input types in
``edge``, the error envelope in ``envelope``; ``nexdrive/http_app.py: build_api`` assembles it with the
providers' webhooks.
"""
