"""/api/v1/admin/reports: the owner's reports (revenue, competency progress, instructor utilisation,
leads and conversion) as JSON in the envelope, as CSV and as PDF. Thin over ``services.admin``: the
range is Canberra days (``period`` = today / week / month / last_month / fy, or ``date_from`` and
``date_to`` inclusive, ISO dates), ``grouping`` one of the report's groupings. Administrator only.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.db import session_scope
from nexdrive.services.admin import report_tables, reports

router = APIRouter(tags=["reports"], route_class=EnvelopeRoute)
ReportName = Literal["revenue", "progress", "utilisation", "leads"]
Grouping = Literal["day", "week", "month", "service", "instructor", "method", "learner", "distribution", "source",
                   "utm"]
Preset = Literal["today", "week", "month", "last_month", "fy"]


def _period(session, preset, date_from, date_to):
    return reports.period(session, preset=preset, date_from=date_from, date_to=date_to)


@router.get("/admin/reports", summary="The reports and their groupings (admin)")
def list_reports(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(report_tables.catalogue(actor))


@router.get("/admin/reports/{report}", summary="A report as rows and totals (admin)")
def get_report(report: ReportName, request: Request, grouping: Grouping | None = None, period: Preset | None = None,
               date_from: date | None = None, date_to: date | None = None) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        p = _period(session, period, date_from, date_to)
        data = report_tables.build(session, actor, report, p, grouping)
        data["chart_rows"] = report_tables.chart_rows(data)
        return ok(data)


@router.get("/admin/reports/{report}/csv", summary="A report as a CSV file (admin)")
def get_report_csv(report: ReportName, request: Request, grouping: Grouping | None = None,
                   period: Preset | None = None, date_from: date | None = None,
                   date_to: date | None = None) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        name, text = reports.report_csv(session, actor, report, _period(session, period, date_from, date_to),
                                        grouping)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/admin/reports/{report}/pdf", summary="A report as a PDF file (admin)")
def get_report_pdf(report: ReportName, request: Request, grouping: Grouping | None = None,
                   period: Preset | None = None, date_from: date | None = None,
                   date_to: date | None = None) -> Response:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        name, body = reports.report_pdf(session, actor, report, _period(session, period, date_from, date_to),
                                        grouping)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
