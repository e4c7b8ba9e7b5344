"""/api/v1 lessons and the CBT&A engine (architecture §4.2.4, §4.2.5).

Lessons: record (from a booking or standalone; ``client_id`` makes a retry or an offline sync return the
same record), read, edit a draft, sign (instructor, then learner), correct, dispute, verify; a learner's
lesson history; signatures and their images. Competencies: the task catalogue, a learner's matrix with
``can_assess`` and ``blocked_by``, certificate eligibility, and the audit-unit notice of a final drive.

The rules and the access checks are ``nexdrive.services.compliance``'s; this module only translates HTTP.
Refusals come back in the error envelope: ``COMPETENCY_LOCKED`` (422) names the tasks and the rules,
``VALIDATION_ERROR`` (422) the field, ``INVALID_STATE`` (409) what is already done.
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import MAX_INT, Offset, StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.db import session_scope
from nexdrive.services.compliance import certificates, competencies, lessons, verification

router = APIRouter(tags=["lessons"], route_class=EnvelopeRoute)



# ─────────────────────────────────────────────────────────────────────────────
# OpenAPI shapes
# ─────────────────────────────────────────────────────────────────────────────


class ErrorBody(BaseModel):
    code: str = Field(examples=["COMPETENCY_LOCKED"])
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERRORS = {401: {"model": ErrorEnvelope, "description": "Not signed in (AUTH_REQUIRED)"},
          403: {"model": ErrorEnvelope, "description": "Not allowed (FORBIDDEN)"},
          404: {"model": ErrorEnvelope, "description": "No such record (NOT_FOUND)"},
          409: {"model": ErrorEnvelope, "description": "Not in a state that allows this (INVALID_STATE)"},
          422: {"model": ErrorEnvelope, "description": "Invalid input (VALIDATION_ERROR) or a CBT&A rule "
                                                        "refuses it (COMPETENCY_LOCKED, with the tasks)"}}


class SignatureOut(BaseModel):
    id: uuid.UUID
    signer_role: Literal["instructor", "student"]
    signed_at: AwareDatetime
    device_time: AwareDatetime | None = None
    document_sha256: str | None
    image_sha256: str | None
    seq: int | None


class LessonOut(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    instructor_id: uuid.UUID
    booking_id: uuid.UUID | None = None
    lesson_number: int
    lesson_date: date
    start_time: AwareDatetime
    end_time: AwareDatetime
    total_minutes: int
    odo_start: int | None = None
    odo_end: int | None = None
    transmission: Literal["manual", "auto"]
    competencies_taught: list[int]
    competencies_assessed: list[int]
    competencies_achieved_manual: list[int]
    competencies_achieved_auto: list[int]
    location_suburb: str | None = None
    comments: str | None = Field(None, description="Absent for a parent without 'lesson notes'")
    status: Literal["draft", "pending_student_signature", "completed", "disputed"]
    correction_of: uuid.UUID | None = None
    correction_reason: str | None = None
    signatures: list[SignatureOut]
    disputes: list[dict]
    versions: list[dict]
    is_current: bool


class LessonEnvelope(BaseModel):
    data: LessonOut


class SignOut(BaseModel):
    signature_id: uuid.UUID
    lesson_status: str
    lesson: LessonOut


class BlockerOut(BaseModel):
    rule: str = Field(examples=["PREREQUISITES"])
    message: str
    tasks: list[int]
    opens_at: AwareDatetime | None = None


class CompetencyOut(BaseModel):
    task_number: int
    task_name: str
    kind: Literal["competency", "review", "final_drive"]
    status: Literal["not_started", "taught", "assessed", "competent", "not_yet_competent"]
    transmission: Literal["manual", "auto"]
    taught_at: AwareDatetime | None = None
    assessed_at: AwareDatetime | None = None
    achieved_at: AwareDatetime | None = None
    lesson_id: uuid.UUID | None = None
    can_assess: bool
    blocked_by: list[BlockerOut]


class MatrixOut(BaseModel):
    competencies: list[CompetencyOut]
    summary: dict
    next_tasks: list[int]
    review_opens_at: dict[str, AwareDatetime | None]


class MatrixEnvelope(BaseModel):
    data: MatrixOut


class VerifyOut(BaseModel):
    lesson_id: uuid.UUID
    ok: bool
    summary: str
    problems: list[str]
    checks: list[dict]


# ─────────────────────────────────────────────────────────────────────────────
# Bodies
# ─────────────────────────────────────────────────────────────────────────────


class LessonFields(StrictInput):
    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    odo_start: int | None = Field(None, ge=0, le=MAX_INT)
    odo_end: int | None = Field(None, ge=0, le=MAX_INT)
    transmission: Literal["manual", "auto"] | None = None
    location_suburb: str | None = Field(None, max_length=2000)
    location_detail: str | None = Field(None, max_length=2000)
    comments: str | None = Field(None, max_length=20000)
    competencies_taught: list[int] | None = Field(None, max_length=60)
    competencies_assessed: list[int] | None = Field(None, max_length=60)
    competencies_achieved_manual: list[int] | None = Field(None, max_length=60)
    competencies_achieved_auto: list[int] | None = Field(None, max_length=60)


class LessonBody(LessonFields):
    student_id: uuid.UUID
    booking_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = Field(None, description="The device's own id for this lesson: sending the "
                                                          "same id again returns the same lesson")
    gps_latitude: float | None = Field(None, ge=-90, le=90)
    gps_longitude: float | None = Field(None, ge=-180, le=180)


class CorrectionBody(LessonFields):
    reason: str = Field(min_length=1, max_length=5000)


class SignBody(StrictInput):
    signature_image: str = Field(min_length=1, max_length=800_000, description="A PNG, base64 (or a data URL)")
    signer_role: Literal["instructor", "student"] | None = Field(
        None, description="The instructor's device capturing the learner's signature sends 'student'")
    device_time: AwareDatetime | None = None
    gps_latitude: float | None = Field(None, ge=-90, le=90)
    gps_longitude: float | None = Field(None, ge=-180, le=180)


class DisputeBody(StrictInput):
    reason: str = Field(min_length=1, max_length=5000)


class NoticeBody(StrictInput):
    planned_date: date
    notified_at: AwareDatetime | None = None
    reference: str | None = Field(None, max_length=1000)


def _fields(body: LessonFields, *, drop: tuple[str, ...] = ()) -> dict:
    data = body.model_dump(exclude_unset=True)
    for k in drop:
        data.pop(k, None)
    return {k: v for k, v in data.items() if v is not None or k in ("odo_start", "odo_end", "comments",
                                                                   "location_suburb", "location_detail")}


# ─────────────────────────────────────────────────────────────────────────────
# Lessons
# ─────────────────────────────────────────────────────────────────────────────


@router.post("/lessons", status_code=201, summary="Record a lesson (draft)", responses={
    201: {"model": LessonEnvelope, "description": "The lesson, with its number"},
    200: {"model": LessonEnvelope, "description": "This client_id was recorded before: that lesson"}, **ERRORS})
def create_lesson(body: LessonBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        data = body.model_dump(exclude_unset=True)
        lesson = lessons.record_lesson(session, actor, **data)
        created = lesson.pop("created", True)
    return ok(lesson, status_code=201 if created else 200)


@router.get("/lessons/{lesson_id}", summary="A lesson, with its signatures, disputes and versions",
            responses={200: {"model": LessonEnvelope}, **ERRORS})
def get_lesson(lesson_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lessons.get_lesson(session, actor, lesson_id))


@router.patch("/lessons/{lesson_id}", summary="Edit a draft lesson (its instructor, before signing)",
              responses={200: {"model": LessonEnvelope}, **ERRORS})
def patch_lesson(lesson_id: uuid.UUID, body: LessonFields, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lessons.update_draft(session, actor, lesson_id, **_fields(body)))


@router.post("/lessons/{lesson_id}/sign", summary="Sign a lesson (instructor first, then the learner)",
             responses={200: {"model": SignOut}, **ERRORS})
def sign(lesson_id: uuid.UUID, body: SignBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lessons.sign_lesson(session, actor, lesson_id, **body.model_dump(exclude_unset=True)))


@router.post("/lessons/{lesson_id}/correction", status_code=201,
             summary="Correct a signed lesson (a new record, signed again by both)",
             responses={201: {"model": LessonEnvelope}, **ERRORS})
def correction(lesson_id: uuid.UUID, body: CorrectionBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        fields = _fields(body, drop=("reason",))
        return ok(lessons.correct_lesson(session, actor, lesson_id, reason=body.reason, **fields), status_code=201)


@router.post("/lessons/{lesson_id}/dispute", summary="Dispute a signed lesson (the learner, within 7 days)",
             responses=ERRORS)
def dispute(lesson_id: uuid.UUID, body: DisputeBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lessons.dispute_lesson(session, actor, lesson_id, reason=body.reason))


@router.get("/lessons/{lesson_id}/verify", summary="Verify a lesson: content, signature images and chains",
            responses={200: {"model": VerifyOut}, **ERRORS})
def verify(lesson_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(verification.verify_lesson(session, actor, lesson_id).as_dict())


@router.get("/students/{student_id}/lesson-history",
            summary="A learner's lessons in number order, each with its corrections, signatures and disputes",
            responses=ERRORS)
def history(student_id: uuid.UUID, request: Request, limit: int = Query(100, ge=1, le=200),
            offset: Offset = 0) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok({"lessons": lessons.lesson_history(session, actor, student_id, limit=limit, offset=offset)})


@router.get("/signatures/{signature_id}", summary="A signature's record", responses=ERRORS)
def signature(signature_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(lessons.get_signature(session, actor, signature_id))


@router.get("/signatures/{signature_id}/image", summary="A signature's image (PNG)", response_class=Response,
            responses=ERRORS)
def signature_png(signature_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        data = lessons.signature_image(session, actor, signature_id)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


# ─────────────────────────────────────────────────────────────────────────────
# Competencies
# ─────────────────────────────────────────────────────────────────────────────


@router.get("/competency-tasks", summary="The CBT&A tasks and reviews", tags=["competencies"], responses=ERRORS)
def tasks(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok({"tasks": competencies.task_list(session, actor)})


@router.get("/students/{student_id}/competencies", summary="A learner's competency matrix",
            tags=["competencies"], responses={200: {"model": MatrixEnvelope}, **ERRORS})
def matrix(student_id: uuid.UUID, request: Request,
           transmission: Literal["manual", "auto"] | None = None) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        m = competencies.student_matrix(session, actor, student_id, transmission=transmission)
        return ok(competencies.matrix_dict(m))


@router.get("/students/{student_id}/certificate-eligibility", tags=["competencies"], responses=ERRORS,
            summary="What is missing for the certificate: tasks, reviews, the final drive, log-book hours")
def certificate_eligibility(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(certificates.certificate_eligibility(session, actor, student_id))


@router.post("/students/{student_id}/final-drive-notice", status_code=201, tags=["competencies"],
             summary="Record when the audit unit was told of the learner's final drive", responses=ERRORS)
def final_drive_notice(student_id: uuid.UUID, body: NoticeBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(competencies.record_audit_unit_notice(session, actor, student_id, **body.model_dump()),
                  status_code=201)
