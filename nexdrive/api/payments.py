"""/api/v1 payments (spec architecture §4.2.7): checkout, history, refunds, packages, vouchers.

Stripe's webhook is in ``webhooks/stripe/``. Every rule lives in the services.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from nexdrive.db import session_scope
from nexdrive.services.money import packages
from nexdrive.services.money import payments
from nexdrive.services.core import ratelimit
from nexdrive.services.money import vouchers
from nexdrive.errors import ValidationFailed
from nexdrive.api.deps import manage_token_of, ok, optional_actor
from nexdrive.api.deps import client_ip, current_actor, iso
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute

log = logging.getLogger(__name__)
router = APIRouter(tags=["payments"], route_class=EnvelopeRoute)


class _Strict(StrictInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CheckoutBody(_Strict):
    booking_id: uuid.UUID
    manage_token: str | None = Field(None, max_length=100)
    voucher_code: str | None = Field(None, max_length=40)
    use_package: bool = False
    pay_later: bool = False


class RefundBody(_Strict):
    amount_cents: int | None = Field(None, ge=1, description="Leave out for a full refund")
    reason: str = Field(..., min_length=1, max_length=300)


class VoucherBody(_Strict):
    code: str = Field(..., max_length=40)
    service_id: str = Field(..., max_length=100, description="Service id or slug")


@router.post("/payments/checkout", summary="Pay for a booking (card, package, voucher or pay later)")
def checkout(body: CheckoutBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        ratelimit.enforce(session, "confirm", ip=client_ip(request))
        started = payments.start_booking_checkout(
            session, actor, booking_id=body.booking_id, manage_token=body.manage_token or manage_token_of(request),
            voucher_code=body.voucher_code, use_package=body.use_package, pay_later=body.pay_later)
    return ok(started.as_dict())


@router.get("/payments/result", summary="The outcome of a checkout (for the result page)")
def result(request: Request, checkout: str = Query(..., max_length=200)) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        return ok(payments.payment_result(session, actor, checkout_id=checkout,
                                             manage_token=manage_token_of(request)))


@router.get("/payments/summary", summary="Revenue summary (admin)")
def summary(request: Request, days: int = Query(30, ge=1, le=366)) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(payments.revenue_summary(session, actor, days=days))


@router.get("/payments", summary="Payment history")
def list_payments(
    request: Request,
    student_id: uuid.UUID | None = None,
    status: Literal["pending", "processing", "completed", "failed", "expired", "refunded",
                    "partially_refunded", "disputed"] | None = None,
    page_cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        page = payments.list_payments(session, actor, student_id=student_id, status=status, limit=limit,
                                      cursor=page_cursor)
    return JSONResponse({"data": jsonable_encoder(page["items"], custom_encoder={datetime: iso}),
                         "meta": {"cursor": page["next_cursor"], "has_more": page["next_cursor"] is not None}})


@router.get("/payments/{payment_id}", summary="Payment detail")
def get_payment(payment_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(payments.get_payment(session, actor, payment_id))


@router.post("/payments/{payment_id}/refund", summary="Refund a payment, in full or in part (admin)")
def refund(payment_id: uuid.UUID, body: RefundBody, request: Request,
           idempotency_key: str | None = Header(None, max_length=100)) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(payments.refund_payment(session, actor, payment_id=payment_id, amount_cents=body.amount_cents,
                                             reason=body.reason, idempotency_key=idempotency_key))


@router.get("/packages", summary="Lesson packages on sale")
def list_packages(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        return ok(packages.list_packages(session, actor))


@router.post("/packages/{package_id}/purchase", summary="Buy a package (card checkout)")
def purchase(package_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        started = payments.start_package_checkout(session, actor, package_id=package_id)
    return ok(started.as_dict())


@router.get("/me/packages", summary="My packages and credits left")
def my_packages(request: Request, student_id: uuid.UUID | None = None) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(packages.my_packages(session, actor, student_id=student_id))


@router.post("/vouchers/validate", summary="Check a voucher code for a lesson type")
def validate_voucher(body: VoucherBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        ratelimit.enforce(session, "voucher", ip=client_ip(request))
        check = vouchers.check_voucher(session, body.code, service_id=body.service_id,
                                       student_id=actor.student_id if actor.is_student else None)
        if not check.code and not check.ok:
            raise ValidationFailed(check.message, field="code")
        return ok({"valid": check.ok, "message": check.message, "code": check.code,
                      "discount_cents": check.discount_cents})
