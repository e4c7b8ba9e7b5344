"""/api/v1 log book: a learner's supervised practice drives and their hours toward the licence test.

Thin: the caller (cookie or bearer), then ``nexdrive.services.compliance.logbook``, which decides who
may read (learner, linked parent per their switch, the learner's instructor, the administrator),
who may add (the learner or a linked parent), change (whoever entered it, until confirmed) and
confirm (the linked parent who supervised it). Errors come back in the envelope.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import MAX_INT, StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.db import session_scope
from nexdrive.models.logbook import (
    MAX_LICENCE_NUMBER,
    MAX_NOTES,
    MAX_ODOMETER,
    MAX_SUPERVISOR_NAME,
    ROAD_CONDITIONS,
    WEATHER,
)
from nexdrive.services.compliance import logbook

router = APIRouter(tags=["log book"], route_class=EnvelopeRoute)

RoadCondition = Literal[ROAD_CONDITIONS]  # type: ignore[valid-type]
Weather = Literal[WEATHER]  # type: ignore[valid-type]


class DriveBody(StrictInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start_time: datetime = Field(..., description="When the drive started (ISO 8601; without an offset: Canberra time)")
    end_time: datetime = Field(..., description="When it ended; not in the future, at most 12 hours after the start")
    supervisor_parent_id: uuid.UUID | None = Field(None, description="One of the learner's linked parents, or ...")
    supervisor_name: str | None = Field(None, max_length=MAX_SUPERVISOR_NAME, description="... the supervisor's name")
    supervisor_licence_number: str = Field(..., min_length=1, max_length=MAX_LICENCE_NUMBER)
    odo_start: int | None = Field(None, ge=0, le=MAX_ODOMETER, description="Odometer at the start, km")
    odo_end: int | None = Field(None, ge=0, le=MAX_ODOMETER, description="Odometer at the end, km (≥ start)")
    road_conditions: list[RoadCondition] = Field(default_factory=list, max_length=len(ROAD_CONDITIONS))
    weather: Weather | None = None
    notes: str | None = Field(None, max_length=MAX_NOTES)

    def as_input(self) -> logbook.DriveInput:
        return logbook.DriveInput(**self.model_dump())


# ── Response models (documentation of the ``data`` member of the envelope) ──

class DriveOut(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    entered_by_user_id: uuid.UUID
    entered_by_role: str
    supervisor_parent_id: uuid.UUID | None
    supervisor_name: str
    supervisor_licence_number: str
    start_time: datetime
    end_time: datetime
    total_minutes: int
    day_minutes: int
    night_minutes: int
    odo_start: int | None
    odo_end: int | None
    distance_km: int | None
    road_conditions: list[str]
    weather: str | None
    notes: str | None
    confirmed: bool
    confirmed_at: datetime | None
    when: str = Field(..., description="Canberra time, e.g. 'Sat 5 December 2026, 5:00 pm – 6:30 pm'")
    can_edit: bool
    can_confirm: bool


class WeekOut(BaseModel):
    week_start: date
    label: str
    supervised_minutes: int
    night_minutes: int
    professional_minutes: int
    cumulative_hours: float


class SummaryOut(BaseModel):
    student_id: uuid.UUID
    age: int | None
    age_known: bool
    target_total_hours: int
    target_night_hours: int
    professional_hours: float
    credited_hours: float
    supervised_day_hours: float
    supervised_night_hours: float
    supervised_hours: float
    night_hours: float = Field(..., description="Supervised night plus professional lessons at night (1:1)")
    total_hours: float = Field(..., description="Credited professional hours plus supervised hours")
    remaining_hours: float
    remaining_night_hours: float
    target_met: bool
    drives: int
    unconfirmed_drives: int
    unconfirmed_hours: float
    lessons: int
    weekly: list[WeekOut]


class DriveEnvelope(BaseModel):
    data: DriveOut


class DriveListEnvelope(BaseModel):
    data: list[DriveOut]


class SummaryEnvelope(BaseModel):
    data: SummaryOut


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict | list | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERRORS = {status: {"model": ErrorEnvelope} for status in (401, 403, 404, 409, 422)}


@router.get("/students/{student_id}/logbook/drives", summary="A learner's supervised drives, newest first",
            response_model=DriveListEnvelope, responses=ERRORS)
def list_drives(student_id: uuid.UUID, request: Request, limit: int = Query(50, ge=1, le=200),
                offset: int = Query(0, ge=0, le=MAX_INT)) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.list_drives(session, actor, student_id, limit=limit, offset=offset))


@router.post("/students/{student_id}/logbook/drives", status_code=201, summary="Add a supervised drive",
             response_model=DriveEnvelope, responses=ERRORS)
def add_drive(student_id: uuid.UUID, body: DriveBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.add_drive(session, actor, student_id, body.as_input()), status_code=201)


@router.get("/students/{student_id}/logbook", summary="A learner's log-book hours (computed from the records)",
            response_model=SummaryEnvelope, responses=ERRORS)
def summary(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.logbook_summary(session, actor, student_id))


@router.get("/logbook/drives/{drive_id}", summary="One supervised drive", response_model=DriveEnvelope,
            responses=ERRORS)
def get_drive(drive_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.get_drive(session, actor, drive_id))


@router.put("/logbook/drives/{drive_id}", summary="Correct a drive (whoever entered it, until it is confirmed)",
            response_model=DriveEnvelope, responses=ERRORS)
def update_drive(drive_id: uuid.UUID, body: DriveBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.update_drive(session, actor, drive_id, body.as_input()))


@router.delete("/logbook/drives/{drive_id}", status_code=204, response_class=Response,
               summary="Delete a drive (whoever entered it, until it is confirmed)", responses=ERRORS)
def delete_drive(drive_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        logbook.delete_drive(session, actor, drive_id)
    return Response(status_code=204)


@router.post("/logbook/drives/{drive_id}/confirm", summary="Confirm a drive you supervised (linked parent)",
             response_model=DriveEnvelope, responses=ERRORS)
def confirm_drive(drive_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(logbook.confirm_drive(session, actor, drive_id))
