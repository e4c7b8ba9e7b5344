"""Errors a use case raises; the edges (pages, API, SMS, voice) turn them into messages."""
from __future__ import annotations


class ServiceError(Exception):
    code = "ERROR"
    http_status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(ServiceError):
    code = "VALIDATION_ERROR"
    http_status = 422


class NotFound(ServiceError):
    code = "NOT_FOUND"
    http_status = 404


class Forbidden(ServiceError):
    code = "FORBIDDEN"
    http_status = 403


class SlotUnavailable(ServiceError):
    code = "BOOKING_CONFLICT"
    http_status = 409


class HoldExpired(ServiceError):
    code = "HOLD_EXPIRED"
    http_status = 409
