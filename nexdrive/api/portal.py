"""/api/v1 the learner's portal (architecture §4.2.3): progress, self-assessments, the privacy switch and
the printable log-book summary.

``GET /students/{id}/progress`` (in ``accounts.py``, with the other scoped reads) answers from
``compliance.learner_home.progress_summary``; lessons, bookings, payments and bridge forms are in
``accounts.py`` / ``lessons.py`` already. Thin: the caller, one use case, the envelope.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import Offset, PageLimit, StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.api.logbook import ERRORS, SummaryOut
from nexdrive.db import session_scope
from nexdrive.services.compliance import logbook_pdf, self_assessment
from nexdrive.services.identity import privacy

router = APIRouter(tags=["learner portal"], route_class=EnvelopeRoute)

Checkpoint = Literal["review_1", "review_2", "final_drive"]


# ── Bodies ──

class AnswerBody(StrictInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    task_number: int = Field(..., ge=1, le=999)
    confidence: int = Field(..., ge=1, le=5, description="1 = not yet, 5 = confident")
    note: str | None = Field(None, max_length=self_assessment.MAX_NOTE)


class SelfAssessmentBody(StrictInput):
    model_config = ConfigDict(extra="forbid")
    checkpoint: Checkpoint
    responses: list[AnswerBody] = Field(..., max_length=40)


class PrivacyBody(StrictInput):
    model_config = ConfigDict(extra="forbid")
    parent_visibility: StrictBool = Field(..., description="false hides everything from every linked parent")


# ── Response models (the ``data`` member of the envelope) ──

class MapItemOut(BaseModel):
    task_number: int
    name: str
    kind: Literal["competency", "review", "final_drive"]
    status: str
    status_label: str
    label: str
    date: datetime | None
    date_label: str
    lesson_number: int | None
    is_next: bool
    locked: bool
    lock_reason: str = Field(..., description="e.g. 'Review 1 opens on Thu 14 May, 3:40 pm, 36 hours after task 17'")
    opens_at: datetime | None
    open_now: bool


class CertificateOut(BaseModel):
    eligible: bool
    missing_tasks: list[int]
    missing_reviews: list[int]
    final_drive_done: bool
    hours_missing: list[str]


class ProgressOut(BaseModel):
    student_id: uuid.UUID
    as_of: datetime
    transmission: str
    competent: int = Field(..., description="Tasks 1–23 competent in the learner's transmission (never above total)")
    total: int
    in_progress: int
    not_started: int
    reviews_passed: list[int]
    reviews_total: int
    next_tasks: list[int]
    map: list[MapItemOut]
    hours: SummaryOut
    certificate: CertificateOut


class AnswerOut(BaseModel):
    task_number: int
    name: str
    confidence: int
    confidence_label: str
    note: str


class SelfAssessmentOut(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    checkpoint: str
    title: str
    assessment_type: str
    responses: list[AnswerOut]
    low_confidence_tasks: list[int]
    completed_at: datetime | None
    reviewed: bool
    reviewed_at: datetime | None
    reviewed_by: uuid.UUID | None


class PrivacyOut(BaseModel):
    student_id: uuid.UUID
    parent_visibility: bool
    linked_parents: int


class ProgressEnvelope(BaseModel):
    data: ProgressOut


class SelfAssessmentEnvelope(BaseModel):
    data: SelfAssessmentOut


class SelfAssessmentListEnvelope(BaseModel):
    data: list[SelfAssessmentOut]


class PrivacyEnvelope(BaseModel):
    data: PrivacyOut


# ── Routes ──

@router.get("/students/{student_id}/self-assessments", summary="Self-assessment history, newest first",
            response_model=SelfAssessmentListEnvelope, responses=ERRORS)
def list_self_assessments(student_id: uuid.UUID, request: Request, limit: PageLimit = 50,
                          offset: Offset = 0) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(self_assessment.list_for_student(session, actor, student_id, limit=limit, offset=offset))


@router.post("/students/{student_id}/self-assessments", status_code=201,
             summary="Record a self-assessment before Review 1, Review 2 or the final drive (the learner)",
             response_model=SelfAssessmentEnvelope, responses=ERRORS)
def submit_self_assessment(student_id: uuid.UUID, body: SelfAssessmentBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        answers = [a.model_dump() for a in body.responses]
        return ok(self_assessment.submit(session, actor, student_id, body.checkpoint, answers), status_code=201)


@router.post("/self-assessments/{assessment_id}/review", summary="Mark a self-assessment reviewed (instructor)",
             response_model=SelfAssessmentEnvelope, responses=ERRORS)
def review_self_assessment(assessment_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(self_assessment.mark_reviewed(session, actor, assessment_id))


@router.get("/students/{student_id}/privacy", summary="The learner's privacy switch",
            response_model=PrivacyEnvelope, responses=ERRORS)
def get_privacy(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(privacy.get_privacy(session, actor, student_id))


@router.patch("/students/{student_id}/privacy", summary="Let linked parents see what each link allows, or nothing",
              response_model=PrivacyEnvelope, responses=ERRORS)
def set_privacy(student_id: uuid.UUID, body: PrivacyBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(privacy.set_parent_visibility(session, actor, student_id, body.parent_visibility))


@router.get("/students/{student_id}/logbook/pdf", summary="The printable log-book summary (PDF)",
            response_class=Response, responses=ERRORS)
def logbook_summary_pdf(student_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        name, data = logbook_pdf.logbook_pdf(session, actor, student_id)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store"})
