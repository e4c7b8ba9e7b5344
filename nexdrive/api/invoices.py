"""/api/v1 invoices: download an invoice PDF (architecture §4.2: ``GET /payments/{id}/invoice``), list invoices.

Signed-in callers use their session cookie or bearer token; a visitor who booked
without an account uses the booking's secret manage link (``?token=`` or the
``X-Manage-Token`` header). Who may see which invoice is decided by
``nexdrive.services.money.invoices``.
"""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from nexdrive.db import session_scope
from nexdrive.services.money import invoices
from nexdrive.services.core.actors import Actor
from nexdrive.api.deps import manage_token_of, optional_actor
from nexdrive.api.deps import current_actor
from nexdrive.api.edge import MAX_INT
from nexdrive.api.envelope import EnvelopeRoute

router = APIRouter(tags=["invoices"], route_class=EnvelopeRoute)


def _actor_and_token(session, request: Request) -> tuple[Actor, str | None]:
    token = manage_token_of(request)
    if token:
        return optional_actor(session, request), token
    return current_actor(session, request)[0], None


def _pdf(filename: str, data: bytes) -> Response:
    # Invoices carry personal details: never cached by shared caches.
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@router.get("/payments/{payment_id}/invoice", summary="Download the invoice (PDF) of a payment",
            response_class=Response)
def payment_invoice(payment_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, token = _actor_and_token(session, request)
        return _pdf(*invoices.invoice_pdf_for_payment(session, actor, payment_id, manage_token=token))


@router.get("/invoices/{invoice_id}/pdf", summary="Download an invoice (PDF)", response_class=Response)
def invoice_file(invoice_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, token = _actor_and_token(session, request)
        return _pdf(*invoices.invoice_pdf(session, actor, invoice_id, manage_token=token))


@router.get("/bookings/{booking_id}/invoice", summary="Download the latest invoice (PDF) of a booking",
            response_class=Response)
def booking_invoice(booking_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, token = _actor_and_token(session, request)
        return _pdf(*invoices.invoice_pdf_for_booking(session, actor, booking_id, manage_token=token))


@router.get("/invoices", summary="List invoices (admin: all; student: own; parent: as the student allows)")
def list_invoices(request: Request, student_id: uuid.UUID | None = None,
                  limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_INT)) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        rows = invoices.list_invoices(session, actor, student_id=student_id, limit=limit, offset=offset)
    return JSONResponse({"data": rows})
