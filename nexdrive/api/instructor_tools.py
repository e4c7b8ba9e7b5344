"""/api/v1: bridge forms (spec C25), private notes (C15) and a lesson's status on its booking (§4.2.2).

* ``GET /bridge-forms/{id}``, ``GET /bridge-forms/{id}/pdf``, ``POST /bridge-forms/{id}/send``,
  ``GET /students/{id}/bridge-forms``: whoever may see the form (learner, parents with "Practice guides",
  the instructor, the office); sending: the lesson's instructor or the office.
* ``GET|POST /students/{id}/private-notes``, ``PATCH|DELETE /private-notes/{id}``: the author instructor
  and the office only. A learner or parent gets 403 on every one of them.
* ``POST /bookings/{id}/start`` and ``/complete``: the booking's instructor or the office.

Thin: the caller, then one service call (``compliance.bridge_forms``, ``compliance.private_notes``,
``scheduling.lesson_status``).
"""
from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.db import session_scope
from nexdrive.services.compliance import bridge_forms, private_notes
from nexdrive.services.scheduling import lesson_status

router = APIRouter(route_class=EnvelopeRoute)

NoteType = Literal["general", "lesson_specific", "safety_concern", "coaching_strategy", "personal_interest"]


class NoteIn(StrictInput):
    note: str
    note_type: NoteType = "general"
    lesson_id: uuid.UUID | None = None


class NoteChange(StrictInput):
    note: str
    note_type: NoteType | None = None


@router.get("/bridge-forms/{form_id}", summary="A lesson bridge form", tags=["bridge forms"])
def get_form(form_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(bridge_forms.get_bridge_form(session, actor, form_id))


@router.get("/bridge-forms/{form_id}/pdf", summary="A lesson bridge form (PDF)", response_class=Response,
            tags=["bridge forms"])
def form_pdf(form_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        filename, data = bridge_forms.bridge_form_pdf(session, actor, form_id)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@router.post("/bridge-forms/{form_id}/send", summary="Send the bridge form to the learner and their parents",
             tags=["bridge forms"])
def send_form(form_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(bridge_forms.send_bridge_form(session, actor, form_id))


@router.get("/students/{student_id}/bridge-forms", summary="A learner's bridge forms, newest first",
            tags=["bridge forms"])
def student_forms(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(bridge_forms.list_bridge_forms(session, actor, student_id))


@router.get("/students/{student_id}/private-notes", summary="Private notes (author instructor and office only)",
            tags=["private notes"])
def list_notes(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(private_notes.list_notes(session, actor, student_id=student_id))


@router.post("/students/{student_id}/private-notes", status_code=201, summary="Write a private note",
             tags=["private notes"])
def add_note(student_id: uuid.UUID, body: NoteIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        note = private_notes.add_note(session, actor, student_id=student_id, note=body.note,
                                      note_type=body.note_type, lesson_id=body.lesson_id)
    return ok(note, status_code=201)


@router.patch("/private-notes/{note_id}", summary="Change a private note (its author)", tags=["private notes"])
def change_note(note_id: uuid.UUID, body: NoteChange, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(private_notes.update_note(session, actor, note_id, note=body.note, note_type=body.note_type))


@router.delete("/private-notes/{note_id}", status_code=204, response_class=Response,
               summary="Delete a private note (its author)", tags=["private notes"])
def delete_note(note_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        private_notes.delete_note(session, actor, note_id)
    return Response(status_code=204)


@router.post("/bookings/{booking_id}/start", summary="Mark a lesson in progress (its instructor)",
             tags=["bookings"])
def start(booking_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lesson_status.start_lesson(session, actor, booking_id))


@router.post("/bookings/{booking_id}/complete", summary="Mark a lesson complete; links it to its lesson record",
             tags=["bookings"])
def complete(booking_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lesson_status.complete_lesson(session, actor, booking_id))
