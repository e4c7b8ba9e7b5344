"""Reports for the office as CSV: revenue (every payment received and refund made in a period, the
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
from nexdrive.formats import BUSINESS_TZ
from nexdrive.models import BusinessSettings
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.reporting import kpis

MAX_DAYS = 400
PRESETS = ("today", "week", "month")


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
        return kpis.period_for(preset, clock.today(session))
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    if last < first:
        raise ValidationFailed("The end date is before the start date.", field="date_to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(f"Choose at most {MAX_DAYS} days.", field="date_to")
    return kpis.Period("custom", first, last + timedelta(days=1))


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _gst(cents: int) -> int:
    sign = -1 if cents < 0 else 1
    return sign * ((abs(cents) + 5) // 11)  # 1/11 of a GST-inclusive amount, to the nearest cent


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


__all__ = ["PRESETS", "lessons_csv", "period", "revenue", "revenue_csv"]
