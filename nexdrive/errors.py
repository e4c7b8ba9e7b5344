"""Errors a use case (or an adapter) raises; the edges (pages, API, SMS, voice) turn them into messages."""
from __future__ import annotations

__all__ = [
    "ServiceError",
    "ValidationFailed",
    "NotFound",
    "Forbidden",
    "SlotUnavailable",
    "HoldExpired",
    "BookingTooLate",
    "BookingTooFar",
    "NotEligible",
    "InvalidState",
    "PaymentGatewayError",
    "PaymentFailed",
    "WebhookRejected",
    "NoCreditsLeft",
    "VoucherRefused",
    "AuthRequired",
    "RateLimited",
]


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
    # Set by a refusal made under an instructor's lock whose nearest alternatives are still to be completed
    # after its transaction ends (``scheduling.booking.complete_alternatives``); not part of ``details``.
    alternatives_wanted: object | None = None


class HoldExpired(ServiceError):
    code = "HOLD_EXPIRED"
    http_status = 409


class BookingTooLate(ServiceError):
    """Inside the minimum notice (or the change window of the cancellation policy)."""
    code = "BOOKING_TOO_LATE"
    http_status = 422


class BookingTooFar(ServiceError):
    code = "BOOKING_TOO_FAR"
    http_status = 422


class NotEligible(ServiceError):
    """A review or final drive the student's log book does not allow yet."""
    code = "COMPETENCY_LOCKED"
    http_status = 422


class InvalidState(ServiceError):
    """The booking is not in a state that allows this (e.g. cancelling a cancelled lesson)."""
    code = "INVALID_STATE"
    http_status = 409


class PaymentGatewayError(ServiceError):
    """The payment provider could not be reached or refused the request; nothing was changed here."""
    code = "PAYMENT_PROVIDER_ERROR"
    http_status = 502


class PaymentFailed(ServiceError):
    code = "PAYMENT_FAILED"
    http_status = 402


class WebhookRejected(ServiceError):
    """A webhook whose signature (or body) doesn't check out: rejected before anything is read."""
    code = "INVALID_SIGNATURE"
    http_status = 400


class NoCreditsLeft(ServiceError):
    """No package with a credit for this lesson (used up, expired, or not for this lesson type)."""
    code = "NO_CREDITS"
    http_status = 409


class VoucherRefused(ServiceError):
    code = "VOUCHER_INVALID"
    http_status = 422

class AuthRequired(ServiceError):
    code = "AUTH_REQUIRED"
    http_status = 401


class RateLimited(ServiceError):
    code = "RATE_LIMITED"
    http_status = 429

    @property
    def retry_after(self) -> int:
        return int(self.details.get("retry_after_seconds", 60))
