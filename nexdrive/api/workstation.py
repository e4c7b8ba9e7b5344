"""/api/v1/workstation (the instructor's phone): the week's snapshot kept on the phone for offline use, and
lessons handed in from the phone's outbox (the same ``client_id`` twice is one lesson).

Thin: the signed-in instructor (cookie or bearer; the origin check on cookie writes), then
``nexdrive.services.scheduling.workstation``. A refusal comes back in the error envelope, its message
shown on the phone beside the waiting lesson.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.db import session_scope
from nexdrive.services.scheduling import workstation

router = APIRouter(tags=["workstation"], route_class=EnvelopeRoute)


class LessonIn(StrictInput):
    model_config = ConfigDict(extra="ignore")
    client_id: str
    student_id: str
    booking_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    transmission: str | None = None
    odo_start: str | int | None = None
    odo_end: str | int | None = None
    suburb: str | None = None
    comments: str | None = None
    tasks: dict[str, str] = {}
    went_well: str | None = None
    practise: str | None = None
    focus: str | None = None
    next_lesson: str | None = None
    instructor_signature: str | None = None
    learner_signature: str | None = None
    signed_at: str | None = None
    offline: bool = False
    send_bridge_form: bool = False
    private_note: str | None = None
    private_note_type: str | None = None


@router.get("/workstation/snapshot")
def my_snapshot(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(workstation.snapshot(session, actor))


@router.post("/workstation/lessons")
def submit_lesson(body: LessonIn, request: Request) -> JSONResponse:
    record: dict[str, Any] = body.model_dump()
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        result = workstation.submit_lesson(session, actor, record)
    return ok(result, status_code=201 if result["created"] else 200)
