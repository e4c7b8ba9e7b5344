"""Reports for the office as files. The four reports of ``report_tables`` (revenue, competency
progress, instructor utilisation, leads and conversion) as CSV (Australian formats: dates
dd/mm/yyyy, dollars with two decimals and no sign, hours as decimals, then a totals row that is the
sum of the rows) and as PDF (title, business name and ABN, range, the chart as bars, the table with
its totals); and the older line-by-line CSVs: revenue (every payment received and refund made in a period, the
dashboard's own rows, so the total agrees with its revenue figure to the cent) and lessons.

Periods are Canberra calendar days, ``date_from`` to ``date_to`` inclusive (at most about a year and a
bit at a time). Amounts are dollars with two decimals (GST inclusive); for a GST-registered business
each line also shows its GST (1/11 of the amount, to the cent). The administrator's alone.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, aud
from nexdrive.models import BusinessSettings
from nexdrive.services.admin import report_tables
from nexdrive.services.core import access, clock, pdf_layout
from nexdrive.services.core.actors import Actor
from nexdrive.services.reporting import kpis

MAX_DAYS = 400
PRESETS = ("today", "week", "month", "last_month", "fy")


def _day(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("Choose a date.", field=field) from None


def period(session: Session, *, preset: str | None = None, date_from: Any = None, date_to: Any = None) -> kpis.Period:
    """A dashboard period (today / week / month) or the days from ``date_from`` to ``date_to`` inclusive."""
    if preset:
        if preset not in PRESETS:
            raise ValidationFailed("Choose today, this week or this month.", field="period")
        today = clock.today(session)
        if preset == "last_month":
            end = today.replace(day=1)
            return kpis.Period("custom", (end - timedelta(days=1)).replace(day=1), end)
        if preset == "fy":  # the Australian financial year, 1 July to 30 June
            start = date(today.year if today.month >= 7 else today.year - 1, 7, 1)
            return kpis.Period("custom", start, date(start.year + 1, 7, 1))
        return kpis.period_for(preset, today)
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    if last < first:
        raise ValidationFailed("The end date is before the start date.", field="date_to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(f"Choose at most {MAX_DAYS} days.", field="date_to")
    return kpis.Period("custom", first, last + timedelta(days=1))


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


_gst = report_tables.gst_of  # 1/11 of a GST-inclusive amount, to the nearest cent


def revenue(session: Session, actor: Actor, p: kpis.Period) -> dict:
    """The rows (payments received, refunds negative) and the net total, as the dashboard counts them."""
    access.require_admin(actor)
    rows = kpis.money_rows(session, p)
    ids = list({r["booking_id"] for r in rows if r.get("booking_id")})
    extra = {r.id: r for r in session.execute(sa.text("""
        SELECT b.id, sv.name AS service, TRIM(ip.first_name || ' ' || ip.last_name) AS instructor
        FROM bookings b JOIN services sv ON sv.id = b.service_id
        JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
        WHERE b.id = ANY(:ids)"""), {"ids": ids}).all()} if ids else {}
    gst = bool(getattr(session.get(BusinessSettings, 1), "gst_registered", False))
    out = []
    for r in rows:
        b = extra.get(r.get("booking_id"))
        out.append({"at": r["at"].astimezone(BUSINESS_TZ), "kind": "refund" if r["cents"] < 0 else "payment",
                    "cents": int(r["cents"]), "method": r["method"] or "", "what": r["what"] or "",
                    "who": r["who"] or "", "service": b.service if b else "", "instructor": b.instructor if b else "",
                    "id": str(r["id"])})
    net = sum(r["cents"] for r in out)
    return {"rows": out, "net_cents": net, "gst_registered": gst, "first": p.first, "last": p.end - timedelta(days=1)}


def revenue_csv(session: Session, actor: Actor, p: kpis.Period) -> tuple[str, str]:
    """(file name, CSV text): one line per payment or refund, then the total."""
    data = revenue(session, actor, p)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    head = ["Date", "Time", "Type", "Amount (AUD)"] + (["GST (AUD)"] if data["gst_registered"] else []) + [
        "Method", "Description", "Customer", "Lesson type", "Instructor", "Reference"]
    w.writerow(head)
    gst_total = 0
    for r in data["rows"]:
        line = [r["at"].strftime("%Y-%m-%d"), r["at"].strftime("%H:%M"), r["kind"], _dollars(r["cents"])]
        if data["gst_registered"]:
            gst_total += _gst(r["cents"])
            line.append(_dollars(_gst(r["cents"])))
        w.writerow(line + [r["method"], r["what"], r["who"], r["service"], r["instructor"], r["id"]])
    total = ["", "", "Total (net of refunds)", _dollars(data["net_cents"])]
    if data["gst_registered"]:
        total.append(_dollars(gst_total))
    w.writerow(total + [""] * 6)
    name = f"revenue-{data['first'].isoformat()}-to-{data['last'].isoformat()}.csv"
    return name, buf.getvalue()


def lessons_csv(session: Session, actor: Actor, p: kpis.Period) -> tuple[str, str]:
    """(file name, CSV text): every booking on a day in the period that is or was a lesson (holds left out)."""
    access.require_admin(actor)
    rows = session.execute(sa.text("""
        SELECT b.id, b.start_time, b.end_time, b.status, b.payment_status, b.amount_cents, b.duration_minutes,
               sv.name AS service, TRIM(ip.first_name || ' ' || ip.last_name) AS instructor,
               COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''), c.full_name,
                        NULLIF(TRIM(b.booker_name), ''), '') AS learner, b.suburb
        FROM bookings b JOIN services sv ON sv.id = b.service_id
        JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
        LEFT JOIN students s ON s.id = b.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
        LEFT JOIN contacts c ON c.id = b.contact_id
        WHERE b.scheduled_date >= :d0 AND b.scheduled_date < :d1 AND b.status NOT IN ('held', 'expired')
        ORDER BY b.start_time, b.id"""), p.params()).all()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["Date", "Start", "End", "Minutes", "Lesson type", "Instructor", "Learner", "Suburb", "Status",
                "Payment", "Price (AUD)", "Reference"])
    for r in rows:
        start, end = r.start_time.astimezone(BUSINESS_TZ), r.end_time.astimezone(BUSINESS_TZ)
        w.writerow([start.strftime("%Y-%m-%d"), start.strftime("%H:%M"), end.strftime("%H:%M"), r.duration_minutes,
                    r.service, r.instructor, r.learner, r.suburb or "", r.status, r.payment_status or "",
                    _dollars(int(r.amount_cents or 0)), str(r.id)])
    last = p.end - timedelta(days=1)
    return f"lessons-{p.first.isoformat()}-to-{last.isoformat()}.csv", buf.getvalue()


# ─────────────────────────────────────────────────────────────────────────────
# The four reports as CSV and PDF
# ─────────────────────────────────────────────────────────────────────────────


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}"


def cell(column: dict, value: Any, *, for_csv: bool) -> str:
    """A value as the CSV (plain numbers) or the page and PDF (dollars, hours, per cent) show it."""
    kind = column["kind"]
    if kind == "money":
        return _dollars(int(value or 0)) if for_csv else aud(int(value or 0))
    if kind == "minutes":
        return _hours(int(value or 0)) if for_csv else f"{int(value or 0) / 60:.1f}"
    if kind == "percent":
        return "" if value is None and for_csv else ("\u2014" if value is None else f"{value:.1f}%")
    if kind == "int":
        return str(int(value or 0))
    return "" if value is None else str(value)


def _csv_title(column: dict) -> str:
    return {"money": f"{column['title']} (AUD)", "minutes": column["title"]}.get(column["kind"], column["title"])


def _file_name(data: dict, ext: str) -> str:
    return f"{data['report']}-by-{data['grouping']}-{data['first']}-to-{data['last']}.{ext}"


def report_csv(session: Session, actor: Actor, report: str, p: kpis.Period,
               grouping: str | None = None) -> tuple[str, str]:
    """(file name, CSV text): a header line, one line per group, then the totals (the sum of the lines)."""
    data = report_tables.build(session, actor, report, p, grouping)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    cols = data["columns"]
    w.writerow([_csv_title(c) for c in cols])
    for r in data["rows"]:
        w.writerow([cell(c, r.get(c["key"]), for_csv=True) for c in cols])
    w.writerow([cell(c, data["totals"].get(c["key"]), for_csv=True) for c in cols])
    return _file_name(data, "csv"), buf.getvalue()


def _abn(abn: str) -> str:
    digits = "".join(ch for ch in abn if ch.isdigit())
    if len(digits) != 11:
        return abn
    return f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"


def report_pdf(session: Session, actor: Actor, report: str, p: kpis.Period,
               grouping: str | None = None) -> tuple[str, bytes]:
    """(file name, PDF bytes): title, business name and ABN, range, the chart as bars, the table and totals."""
    data = report_tables.build(session, actor, report, p, grouping)
    biz, cols = data["business"], data["columns"]
    now = clock.now(session)
    lines = [biz["name"] + (f"  \u00b7  ABN {_abn(biz['abn'])}" if biz["abn"] else ""),
             f"{data['range_label']} (Canberra time)"]
    if report == "revenue":
        lines.append("Registered for GST: amounts include GST" if biz["gst_registered"]
                     else "Not registered for GST")
    lines.append(f"Produced {au_date(now)}, {au_time(now)}")
    series = data["chart"]["series"]
    points = report_tables.chart_rows(data)
    kind = series[0]["kind"]

    def value_text(v: float) -> str:
        if kind == "money":
            return f"${v:,.0f}" if abs(v) >= 10 else f"${v:,.2f}"
        return f"{v:g}%" if kind == "percent" else f"{v:g}"
    weights = [3.2 if c["kind"] == "text" and i == 0 else (2.0 if c["kind"] == "text" else 1.4)
               for i, c in enumerate(cols)]
    doc = pdf_layout.TableDocument(
        title=data["title"], lines=lines, headers=[_csv_title(c) if c["kind"] != "money" else c["title"]
                                                    for c in cols],
        rows=[[cell(c, r.get(c["key"]), for_csv=False) for c in cols] for r in data["rows"]],
        aligns=["L" if c["kind"] == "text" else "R" for c in cols], weights=weights,
        totals=[cell(c, data["totals"].get(c["key"]), for_csv=False) for c in cols],
        chart_title=" and ".join(s["title"] for s in series),
        chart_labels=[pt["label"] for pt in points],
        chart_series=[(s["title"], [float(pt[s["key"]] or 0) for pt in points]) for s in series],
        chart_value_text=value_text, notes=data["notes"],
        footer=f"{biz['name']} \u00b7 {data['title']} \u00b7 {data['range_label']}")
    return _file_name(data, "pdf"), pdf_layout.render_table_document(doc)


__all__ = ["PRESETS", "cell", "lessons_csv", "period", "report_csv", "report_pdf", "revenue", "revenue_csv"]
