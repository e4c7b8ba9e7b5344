"""/api/v1 booking (architecture §4.2.2): services, availability, reserve → confirm, and managing bookings.

Public endpoints work without an account; when the caller is signed in, the
booking is made as them (a student skips the contact details). A visitor
manages their booking with the secret ``manage_token`` returned by reserve (and
emailed with the confirmation), sent as the ``X-Manage-Token`` header or
``?token=``. All rules live in ``nexdrive.services.scheduling.booking``; the widget, this
API, the SMS bot and the voice agent call the same functions.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from nexdrive.db import session_scope
from nexdrive.services.scheduling import booking
from nexdrive.services.scheduling import catalogue
from nexdrive.services.crm import contacts
from nexdrive.services.scheduling import ics
from nexdrive.services.core import ratelimit
from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.api.deps import actor_for_manage, manage_token_of, ok, optional_actor
from nexdrive.api.deps import client_ip, current_actor
from nexdrive.api.edge import SaneDate, StrictInput
from nexdrive.api.envelope import EnvelopeRoute

router = APIRouter(tags=["booking"], route_class=EnvelopeRoute)


class _Strict(StrictInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_Strict):
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30, description="Australian mobile, e.g. 0412 345 678")
    email: str | None = Field(None, max_length=254)


class UtmIn(_Strict):
    source: str | None = Field(None, max_length=100)
    medium: str | None = Field(None, max_length=100)
    campaign: str | None = Field(None, max_length=100)


class ReserveBody(_Strict):
    service_id: str = Field(..., description="Service id or slug")
    instructor_id: uuid.UUID | None = None
    date: SaneDate = Field(..., description="Lesson date in Canberra (YYYY-MM-DD)")
    start_time: str = Field(..., pattern=r"^\d{2}:\d{2}$", description="Canberra wall-clock start, HH:MM")
    contact: ContactIn = Field(default_factory=ContactIn)
    student_id: uuid.UUID | None = Field(None, description="Book for this student (staff, or a parent allowed to)")
    pickup_address: str = Field(..., max_length=300)
    suburb: str = Field(..., max_length=100)
    notes: str | None = Field(None, max_length=300)
    utm: UtmIn | None = None


class ConfirmBody(_Strict):
    reservation_id: uuid.UUID
    manage_token: str | None = Field(None, max_length=100)
    payment_intent_id: str | None = Field(None, max_length=200, description="Reserved for the payments release")


class RescheduleBody(_Strict):
    date: SaneDate
    start_time: str = Field(..., pattern=r"^\d{2}:\d{2}$")


class CancelBody(_Strict):
    reason: str | None = Field(None, max_length=300)
    waive_fee: bool = False


@router.get("/booking/services", summary="List bookable services")
def list_services() -> JSONResponse:
    with session_scope() as session:
        services = catalogue.list_services(session)
    return JSONResponse({"data": {"services": services}, "services": services})


class TimeOut(BaseModel):
    start: str = Field(..., description="Canberra wall-clock start, HH:MM")
    end: str = Field(..., description="Canberra wall-clock end, HH:MM")
    start_at: str = Field(..., description="The start as an instant (UTC, ISO 8601)")
    label: str = Field(..., description="The start for people, e.g. 9:30 am")
    available: bool = True
    instructor_ids: list[str] = Field(..., description="Instructors free then; reserve without one = the first")


class DayOut(BaseModel):
    date: str = Field(..., description="Canberra date, YYYY-MM-DD")
    label: str = Field(..., description="The date for people, e.g. Tue 3 March 2026")
    times: list[TimeOut]


class AvailabilityMeta(BaseModel):
    service_id: str
    timezone: str = "Australia/Sydney"
    date_from: str
    date_to: str


class AvailabilityOut(BaseModel):
    """Days with free times, each sent once (gzip-compressed when the client accepts it)."""
    data: AvailabilityMeta
    slots: list[DayOut]


@router.get("/booking/availability", summary="Available slots (Canberra time)",
            responses={200: {"model": AvailabilityOut, "description": "Days with their free times"}})
def get_availability(
    service_id: str = Query(..., description="Service id or slug"),
    instructor_id: uuid.UUID | None = None,
    date_from: SaneDate | None = None,
    date_to: SaneDate | None = None,
) -> JSONResponse:
    today = datetime.now(BUSINESS_TZ).date()
    date_from = date_from or today
    date_to = date_to or (date_from + timedelta(days=27))
    with session_scope() as session:
        result = booking.availability_by_day(session, service_ref=service_id, date_from=date_from, date_to=date_to,
                                             instructor_id=instructor_id)
    slots = result.pop("slots")
    return JSONResponse({"data": result, "slots": slots})


@router.post("/booking/reserve", status_code=201, summary="Reserve a slot (a short hold)",
             description="A retry returns the same hold only to the same caller: send the hold's manage token "
                         "(X-Manage-Token) or the same Idempotency-Key header (16-200 characters), or be the "
                         "same signed-in user (then manage_token is null).")
def reserve(body: ReserveBody, request: Request) -> JSONResponse:
    # A refusal's alternatives are completed after the transaction (and the instructor's lock) ended.
    with booking.refusals_with_alternatives(), session_scope() as session:
        actor = optional_actor(session, request)
        ratelimit.enforce(session, "reserve", ip=client_ip(request),
                          contacts=(body.contact.email, body.contact.phone))
        start = booking.local_start(body.date, body.start_time)
        result = booking.book_lesson(
            session, actor, service_id=body.service_id, start_time=start, instructor_id=body.instructor_id,
            name=body.contact.name, phone=body.contact.phone, email=body.contact.email,
            pickup_address=body.pickup_address, suburb=body.suburb, notes=body.notes, student_id=body.student_id,
            utm=contacts.Utm.clean(**body.utm.model_dump()) if body.utm else None,
            manage_token=manage_token_of(request), idempotency_key=request.headers.get("idempotency-key") or None,
        )
        payload = {"reservation_id": str(result.booking.id), "expires_at": result.summary["hold_expires_at"],
                   "manage_token": result.manage_token, "booking_summary": result.summary}
    return ok(payload, 201)


@router.post("/booking/confirm", summary="Confirm a reservation (pay later)")
def confirm(body: ConfirmBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        ratelimit.enforce(session, "confirm", ip=client_ip(request))
        confirmed = booking.confirm_booking(session, actor, body.reservation_id, manage_token=body.manage_token)
        return ok({"booking": booking.booking_summary(session, confirmed)})


@router.get("/bookings", summary="List my bookings")
def list_bookings(
    request: Request,
    status: Literal["held", "confirmed", "in_progress", "completed", "cancelled", "no_show"] | None = None,
    date_from: SaneDate | None = None,
    date_to: SaneDate | None = None,
    page_cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=100),
) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        page = booking.list_my_bookings(session, actor, status=status, date_from=date_from, date_to=date_to,
                                        cursor=page_cursor, limit=limit)
    return JSONResponse({"data": page["bookings"],
                         "meta": {"cursor": page["next_cursor"], "has_more": page["next_cursor"] is not None}})


@router.get("/bookings/upcoming", summary="My next bookings")
def upcoming(request: Request, limit: int = Query(5, ge=1, le=20)) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        page = booking.list_my_bookings(session, actor, upcoming=True, limit=limit)
    return JSONResponse({"data": page["bookings"]})


@router.get("/bookings/{booking_id}", summary="Booking detail")
def get_booking(booking_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, token = actor_for_manage(session, request)
        return ok(booking.get_booking(session, actor, booking_id, manage_token=token))


@router.get("/bookings/{booking_id}/calendar.ics", summary="Add to calendar (.ics)")
def calendar_file(booking_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, token = actor_for_manage(session, request)
        summary = booking.get_booking(session, actor, booking_id, manage_token=token)
    return Response(ics.booking_ics(summary), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{summary["reference"]}.ics"'})


@router.patch("/bookings/{booking_id}", summary="Reschedule a booking")
def reschedule(booking_id: uuid.UUID, body: RescheduleBody, request: Request) -> JSONResponse:
    with booking.refusals_with_alternatives(), session_scope() as session:
        actor, token = actor_for_manage(session, request)
        moved = booking.reschedule_booking(session, actor, booking_id, booking.local_start(body.date, body.start_time),
                                           manage_token=token)
        return ok({"booking": booking.booking_summary(session, moved)})


@router.post("/bookings/{booking_id}/cancel", summary="Cancel a booking under the cancellation policy")
def cancel(booking_id: uuid.UUID, request: Request, body: CancelBody | None = None) -> JSONResponse:
    body = body or CancelBody()
    with session_scope() as session:
        actor, token = actor_for_manage(session, request)
        outcome = booking.cancel_booking(session, actor, booking_id, reason=body.reason, manage_token=token,
                                         waive_fee=body.waive_fee)
        return ok({"booking": booking.booking_summary(session, outcome.booking), "message": outcome.message,
                      "cancellation_fee": {"amount": outcome.fee_cents, "currency": "AUD"}})


@router.post("/bookings/{booking_id}/no-show", summary="Record a no-show (instructor/admin)")
def no_show(booking_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok({"booking": booking.booking_summary(session, booking.mark_no_show(session, actor, booking_id))})


@router.post("/bookings/{booking_id}/waive-fee", summary="Waive a late-cancellation fee (instructor/admin)")
def waive_fee(booking_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        waived = booking.waive_cancellation_fee(session, actor, booking_id)
        return ok({"booking": booking.booking_summary(session, waived)})


class WaitlistBody(_Strict):
    service_id: str | None = None
    preferred_day: int | None = Field(None, ge=0, le=6, description="0 = Sunday")
    time_start: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    time_end: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    contact: ContactIn = Field(default_factory=ContactIn)


@router.post("/booking/waitlist", status_code=201, summary="Join the waitlist for a preferred day and time")
def join_waitlist(body: WaitlistBody, request: Request) -> JSONResponse:
    def hhmm(value: str | None):
        if value is None:
            return None
        try:
            return datetime.strptime(value, "%H:%M").time()
        except ValueError:
            raise ValidationFailed("Use a time like 15:30.", field="time_start") from None
    with session_scope() as session:
        actor = optional_actor(session, request)
        ratelimit.enforce(session, "waitlist", ip=client_ip(request), contacts=(body.contact.email, body.contact.phone))
        entry = booking.join_waitlist(session, actor, service_id=body.service_id, preferred_day=body.preferred_day,
                                      time_start=hhmm(body.time_start), time_end=hhmm(body.time_end),
                                      name=body.contact.name, phone=body.contact.phone, email=body.contact.email)
        return ok({"waitlist_id": str(entry.id), "status": entry.status}, 201)
