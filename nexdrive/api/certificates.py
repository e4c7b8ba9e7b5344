"""/api/v1 certificate of competency, auditor's packs and competency status changes (architecture §4.2.5),
and the public verification page ``/verify/<code>``.

The rules and the access checks are ``nexdrive.services.compliance``'s (``certificates``,
``auditors_pack``, ``status_changes``); this module only translates HTTP.
"""
from __future__ import annotations

import html
import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime, Field

from nexdrive.api.deps import current_actor, ok, optional_actor
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.api.lessons import ERRORS
from nexdrive.db import session_scope
from nexdrive.formats import au_date
from nexdrive.services.compliance import auditors_pack, certificates, status_changes

router = APIRouter(tags=["certificates"], route_class=EnvelopeRoute)
public_router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "private, no-store"}


class CertificateBody(StrictInput):
    form_serial: str = Field(min_length=1, max_length=200,
                             description="The serial number printed on the official certificate form handed over")
    instructor_signature: str = Field(min_length=1, max_length=800_000, description="A PNG, base64 (or a data URL)")
    student_signature: str = Field(min_length=1, max_length=800_000, description="A PNG, base64 (or a data URL)")
    device_time: AwareDatetime | None = None
    gps_latitude: float | None = Field(None, ge=-90, le=90)
    gps_longitude: float | None = Field(None, ge=-180, le=180)


class StatusChangeBody(StrictInput):
    task_number: int = Field(ge=1, le=1000)
    status: Literal["not_started", "taught", "assessed", "competent", "not_yet_competent"]
    transmission: Literal["manual", "auto"] | None = None
    lesson_id: uuid.UUID | None = Field(None, description="The draft lesson the change is recorded in (required)")


@router.get("/students/{student_id}/certificate", summary="The learner's certificate of competency",
            responses=ERRORS)
def get_certificate(student_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(certificates.get_certificate(session, actor, student_id))


@router.post("/students/{student_id}/certificate", status_code=201, responses=ERRORS,
             summary="Issue the certificate of competency (signed by the instructor and the learner)")
def issue_certificate(student_id: uuid.UUID, body: CertificateBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(certificates.issue_certificate(session, actor, student_id, **body.model_dump()), status_code=201)


@router.get("/students/{student_id}/certificate.pdf", summary="The completion statement (PDF)",
            response_class=Response, responses=ERRORS)
def certificate_pdf(student_id: uuid.UUID, request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        data = certificates.completion_statement_pdf(session, actor, student_id)
    return Response(data, media_type="application/pdf", headers={
        **_NO_STORE, "Content-Disposition": 'inline; filename="completion-statement.pdf"'})


@router.get("/students/{student_id}/auditors-pack.{kind}", summary="The learner's auditor's pack (PDF or ZIP)",
            response_class=Response, responses=ERRORS)
def auditors_pack_file(student_id: uuid.UUID, kind: Literal["pdf", "zip"], request: Request) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        data, name = auditors_pack.student_pack_files(session, actor, student_id, kind)
    media = "application/pdf" if kind == "pdf" else "application/zip"
    return Response(data, media_type=media,
                    headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/auditors-pack.zip", summary="The auditor's pack of every learner with lessons in a date range",
            response_class=Response, responses=ERRORS)
def auditors_pack_range(request: Request, date_from: Annotated[date, Query(alias="from")],
                        date_to: Annotated[date, Query(alias="to")]) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        data, _index = auditors_pack.range_pack_zip(session, actor, date_from, date_to)
    name = f"auditors-pack-{date_from.isoformat()}-to-{date_to.isoformat()}.zip"
    return Response(data, media_type="application/zip",
                    headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/students/{student_id}/competencies", tags=["competencies"], responses=ERRORS,
             summary="Record a competency status change (in a draft lesson; it counts once both sign)")
def status_change(student_id: uuid.UUID, body: StatusChangeBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(status_changes.record_status_change(session, actor, student_id, **body.model_dump()))


@router.get("/certificates/verify/{code}", summary="Is a certificate valid? (public: initials, date, valid)",
            responses=ERRORS)
def verify_json(code: str, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        result = certificates.verify_certificate(session, actor, code[:40])
    return ok({k: result[k] for k in ("found", "valid", "code", "initials", "issued_on")})


_PAGE = """<!doctype html><html lang="en-AU"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Certificate check | NexDrive Academy</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#212529}}
.card{{border:1px solid #d6dbe2;border-radius:12px;padding:1.5rem}}.ok{{color:#19783c}}.bad{{color:#b41e1e}}
dt{{color:#606770;font-size:.9rem}}dd{{margin:0 0 .8rem;font-weight:600}}</style></head>
<body><main class="card"><h1>Certificate check</h1>{body}
<p style="color:#606770;font-size:.85rem">NexDrive Academy, Canberra. This page shows only whether a completion
statement is genuine, the learner's initials and the date it was issued.</p></main></body></html>"""


@public_router.get("/verify/{code}", response_class=HTMLResponse)
def verify_page(code: str, request: Request) -> HTMLResponse:
    with session_scope() as session:
        actor = optional_actor(session, request)
        result = certificates.verify_certificate(session, actor, code[:40])
    if not result["found"]:
        body = ('<p class="bad" id="result"><strong>Invalid</strong>: no certificate has this verification code.</p>')
        status = 404
    else:
        word, css = ("Valid", "ok") if result["valid"] else ("Invalid", "bad")
        body = (f'<p class="{css}" id="result"><strong>{word}</strong></p><dl>'
                f'<dt>Learner</dt><dd id="initials">{html.escape(result["initials"])}</dd>'
                f'<dt>Issued</dt><dd id="issued">{html.escape(au_date(result["issued_on"], weekday=False))}</dd>'
                f'<dt>Code</dt><dd>{html.escape(result["code"])}</dd></dl>')
        if not result["valid"]:
            body += "<p>The record no longer matches what was signed. Please contact NexDrive Academy.</p>"
        status = 200
    return HTMLResponse(_PAGE.format(body=body), status_code=status,
                        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})
