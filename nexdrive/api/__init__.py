"""The REST API under /api/v1 (FastAPI, mounted in the Reflex app): thin routers over the services.

Shared dependencies in ``deps`` (the caller, client details, the success envelope), strict input types in
``edge``, the error envelope in ``envelope``, operations (request id, JSON logs, ``/metrics``) in
``observability`` and the optional Sentry reporting in ``error_reporting``; ``nexdrive/http_app.py:
build_api`` assembles it with the providers' webhooks.
"""
