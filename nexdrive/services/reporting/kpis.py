"""The owner's dashboard: today, this week and this month in Canberra, and the list behind every figure.

Periods are Canberra calendar periods (Australia/Sydney, whatever the server's zone): today is
midnight to midnight, a week runs Monday to Sunday, a month is the calendar month. The whole
period counts, so "lessons this week" includes lessons booked for later in the week. Day
boundaries are turned into UTC instants one by one, so the 23- and 25-hour days when the clocks
change are counted exactly. Money is integer cents (AUD, GST inclusive).

Definitions (each figure and its list come from the same query, so they always agree):

* lessons: bookings whose Canberra date is in the period and that are confirmed, in progress or
  completed (holds, expired holds, cancellations and no-shows are not lessons);
* revenue: money received in the period (payments completed in it, now completed, partly
  refunded or refunded; package credits excluded, that money came when the package was
  bought) less refunds made in the period (succeeded or on their way) — the same rule as
  ``/admin/payments``;
* new leads: contacts first recorded in the period (not deleted);
* conversion: of those new leads, how many have a booking (anything but a hold or an expired hold);
* active learners: learners with at least one lesson (as above) in the period;
* learners completed: learners whose completion date is in the period;
* cancellations: bookings cancelled during the period; no-shows: lessons in the period marked no-show;
* instructor utilisation: minutes booked (lessons and no-shows) over the minutes the active
  instructors offered in their weekly hours (wall-clock hours on each Canberra day, less days
  blocked whole), per instructor and in all;
* pending callbacks and handoffs: open now (callers waiting for a call back; conversations an
  assistant handed to a person); failed messages: outbox messages given up on in the period.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, aud
from nexdrive.services.core import clock
from nexdrive.services.core.access import require_admin
from nexdrive.services.core.actors import Actor

UTC = timezone.utc
TAUGHT = ("confirmed", "in_progress", "completed")
BOOKED_TIME = TAUGHT + ("no_show",)
PAID = ("completed", "partially_refunded", "refunded")
REFUNDS_COUNTED = ("succeeded", "pending")
NOT_A_BOOKING = ("held", "expired")
PERIODS = ("today", "week", "month")
PERIOD_LABELS = {"today": "Today", "week": "This week", "month": "This month"}
TREND_WEEKS = 12
MAX_ROWS = 200

# key -> (label, what the list behind it shows)
FIGURES: dict[str, tuple[str, str]] = {
    "lessons": ("Lessons", "Lessons"),
    "revenue": ("Revenue (net of refunds)", "Payments and refunds"),
    "leads": ("New leads", "New leads"),
    "conversion": ("Lead \u2192 booking", "New leads and whether they booked"),
    "active_learners": ("Active learners", "Learners with a lesson"),
    "completed_learners": ("Learners completed", "Learners who completed"),
    "cancellations": ("Cancellations", "Bookings cancelled"),
    "no_shows": ("No-shows", "Lessons marked no-show"),
    "utilisation": ("Instructor utilisation", "Hours booked and offered, per instructor"),
    "callbacks": ("Pending callbacks", "Callers waiting for a call back"),
    "handoffs": ("Pending handoffs", "Conversations waiting for a person"),
    "failed_messages": ("Failed messages", "Messages that could not be sent"),
}


@dataclass(frozen=True)
class Period:
    key: str
    first: date  # first Canberra day
    end: date  # the day after the last

    @property
    def start_utc(self) -> datetime:
        return midnight(self.first)

    @property
    def end_utc(self) -> datetime:
        return midnight(self.end)

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.first == last:
            return au_date(self.first)
        return f"{au_date(self.first, weekday=False, year=False)} \u2013 {au_date(last, weekday=False)}"

    def params(self) -> dict:
        return {"d0": self.first, "d1": self.end, "a": self.start_utc, "b": self.end_utc}


def midnight(day: date) -> datetime:
    """The first instant of a Canberra day, in UTC (midnight exists every day in Sydney)."""
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def period_for(key: str, today: date) -> Period:
    if key == "today":
        return Period(key, today, today + timedelta(days=1))
    if key == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(key, monday, monday + timedelta(days=7))
    if key == "month":
        first = today.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return Period(key, first, nxt)
    raise ValidationFailed("Choose today, this week or this month.", field="period")


# ─────────────────────────────────────────────────────────────────────────────
# The queries (each returns the rows; the figure is computed from the same rows)
# ─────────────────────────────────────────────────────────────────────────────

_WHO = """COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''), c.full_name,
                   NULLIF(TRIM(b.booker_name), ''), 'Unnamed')"""
_BOOKING_ROWS = f"""
    SELECT b.id, b.student_id, b.start_time, b.end_time, b.status, b.amount_cents, b.duration_minutes,
           b.cancelled_at, sv.name AS service, {_WHO} AS who,
           TRIM(ip.first_name || ' ' || ip.last_name) AS instructor
    FROM bookings b
    JOIN services sv ON sv.id = b.service_id
    JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
    LEFT JOIN students s ON s.id = b.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
    LEFT JOIN contacts c ON c.id = b.contact_id
    WHERE {{where}}
    ORDER BY b.start_time, b.id"""


def _bookings(session: Session, where: str, params: dict) -> list:
    return session.execute(sa.text(_BOOKING_ROWS.format(where=where)), params).all()


def _lessons(session, p: Period):
    return _bookings(session, "b.scheduled_date >= :d0 AND b.scheduled_date < :d1 AND b.status = ANY(:st)",
                     {**p.params(), "st": list(TAUGHT)})


def _no_shows(session, p: Period):
    return _bookings(session, "b.scheduled_date >= :d0 AND b.scheduled_date < :d1 AND b.status = 'no_show'",
                     p.params())


def _cancellations(session, p: Period):
    return _bookings(session, "b.status = 'cancelled' AND b.cancelled_at >= :a AND b.cancelled_at < :b",
                     p.params())


def _money(session, p: Period) -> list[dict]:
    """Payments received and refunds made in the period, oldest first (refunds negative)."""
    received = session.execute(sa.text("""
        SELECT p.id, p.completed_at AS at, p.amount_cents AS cents, p.payment_method AS method,
               COALESCE(p.description, '') AS what, p.student_id, p.booking_id, p.id AS payment_id, p.package_id,
               COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''), c.full_name, '') AS who
        FROM payments p
        LEFT JOIN students s ON s.id = p.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
        LEFT JOIN contacts c ON c.id = p.contact_id
        WHERE p.completed_at >= :a AND p.completed_at < :b AND p.status = ANY(:st)
          AND p.payment_method <> 'package_credit'"""), {**p.params(), "st": list(PAID)}).all()
    back = session.execute(sa.text("""
        SELECT r.id, r.created_at AS at, -r.amount_cents AS cents, p.payment_method AS method,
               'Refund: ' || r.reason AS what, p.student_id, p.booking_id, p.id AS payment_id, p.package_id,
               COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''), c.full_name, '') AS who
        FROM refunds r JOIN payments p ON p.id = r.payment_id
        LEFT JOIN students s ON s.id = p.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
        LEFT JOIN contacts c ON c.id = p.contact_id
        WHERE r.created_at >= :a AND r.created_at < :b AND r.status = ANY(:st)
          AND p.payment_method <> 'package_credit'"""), {**p.params(), "st": list(REFUNDS_COUNTED)}).all()
    rows = [dict(r._mapping) for r in (*received, *back)]
    rows.sort(key=lambda r: (r["at"], str(r["id"])))
    return rows


def _leads(session, p: Period):
    return session.execute(sa.text("""
        SELECT c.id, c.full_name, c.phone, c.email, c.source, c.lifecycle_stage, c.created_at,
               c.utm_source, c.utm_medium, c.utm_campaign,
               EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id AND b.status <> ALL(:nb)) AS booked,
               EXISTS (SELECT 1 FROM profiles pr JOIN students s ON s.profile_id = pr.id
                       WHERE pr.user_id = c.user_id) AS enrolled
        FROM contacts c
        WHERE c.created_at >= :a AND c.created_at < :b AND c.deleted_at IS NULL
        ORDER BY c.created_at, c.id"""), {**p.params(), "nb": list(NOT_A_BOOKING)}).all()


def _active_learners(session, p: Period):
    return session.execute(sa.text("""
        SELECT s.id, TRIM(sp.first_name || ' ' || sp.last_name) AS name, count(*) AS lessons,
               max(b.start_time) AS last_lesson
        FROM bookings b JOIN students s ON s.id = b.student_id JOIN profiles sp ON sp.id = s.profile_id
        WHERE b.scheduled_date >= :d0 AND b.scheduled_date < :d1 AND b.status = ANY(:st)
        GROUP BY s.id, sp.first_name, sp.last_name ORDER BY 2, 1"""), {**p.params(), "st": list(TAUGHT)}).all()


def _completed_learners(session, p: Period):
    return session.execute(sa.text("""
        SELECT s.id, TRIM(sp.first_name || ' ' || sp.last_name) AS name, s.completion_date
        FROM students s JOIN profiles sp ON sp.id = s.profile_id
        WHERE s.completion_date >= :d0 AND s.completion_date < :d1 ORDER BY s.completion_date, 2, 1"""),
        p.params()).all()


def _offered_minutes(session, p: Period) -> dict[uuid.UUID, int]:
    """Minutes each active instructor offered in the period (weekly hours, wall clock, Canberra)."""
    rules = session.execute(sa.text("""
        SELECT r.instructor_id, r.day_of_week, r.start_time, r.end_time, r.effective_from, r.effective_until
        FROM availability_rules r JOIN instructors i ON i.id = r.instructor_id
        WHERE r.is_active AND i.status = 'active'""")).all()
    blocked = {(r.instructor_id, r.date) for r in session.execute(sa.text("""
        SELECT instructor_id, date FROM availability_overrides
        WHERE override_type = 'blocked' AND start_time IS NULL AND date >= :d0 AND date < :d1"""),
        p.params()).all()}
    offered: dict[uuid.UUID, int] = {}
    day = p.first
    while day < p.end:
        dow = (day.weekday() + 1) % 7  # 0 = Sunday in availability_rules
        for r in rules:
            if r.day_of_week != dow or (r.effective_from and r.effective_from > day):
                continue
            if r.effective_until is not None and r.effective_until < day:
                continue
            if (r.instructor_id, day) in blocked:
                continue
            start = datetime.combine(day, r.start_time, tzinfo=BUSINESS_TZ).astimezone(UTC)
            end = datetime.combine(day, r.end_time, tzinfo=BUSINESS_TZ).astimezone(UTC)
            offered[r.instructor_id] = offered.get(r.instructor_id, 0) + int((end - start).total_seconds() // 60)
        day += timedelta(days=1)
    return offered


def _utilisation(session, p: Period) -> list[dict]:
    booked = {r.instructor_id: int(r.minutes) for r in session.execute(sa.text("""
        SELECT instructor_id, sum(duration_minutes) AS minutes FROM bookings
        WHERE scheduled_date >= :d0 AND scheduled_date < :d1 AND status = ANY(:st) GROUP BY 1"""),
        {**p.params(), "st": list(BOOKED_TIME)}).all()}
    offered = _offered_minutes(session, p)
    names = {r.id: (r.name, r.active) for r in session.execute(sa.text("""
        SELECT i.id, TRIM(pr.first_name || ' ' || pr.last_name) AS name, i.status = 'active' AS active
        FROM instructors i JOIN profiles pr ON pr.id = i.profile_id""")).all()}
    every = set(booked) | set(offered) | {k for k, (_, active) in names.items() if active}
    rows = [{"instructor_id": k, "name": names.get(k, ("", False))[0], "booked_minutes": booked.get(k, 0),
             "offered_minutes": offered.get(k, 0)} for k in every]
    rows.sort(key=lambda r: (r["name"], str(r["instructor_id"])))
    return rows


def utilisation(session: Session, p: Period) -> list[dict]:
    """Minutes booked and offered per instructor in the period (the dashboard's own rule)."""
    return _utilisation(session, p)


def lead_rows(session: Session, p: Period) -> list:
    """New leads in the period (the dashboard's rule), each with its source, UTM tags, whether it booked
    (the conversion rule) and whether it became an enrolled learner (its contact has a learner account)."""
    return _leads(session, p)


def money_rows(session: Session, p: Period) -> list[dict]:
    """Payments received and refunds made in the period (refunds negative): the dashboard's revenue rows."""
    return _money(session, p)


def _callbacks(session):
    return session.execute(sa.text("""
        SELECT id, caller_name, caller_phone, caller_reason, summary, started_at, callback_scheduled_at
        FROM call_logs WHERE requires_callback AND callback_completed_at IS NULL ORDER BY started_at, id""")).all()


def _handoffs(session):
    return session.execute(sa.text("""
        SELECT v.id, v.channel, v.channel_identifier, v.handoff_reason, v.last_message_at, c.full_name
        FROM conversations v LEFT JOIN contacts c ON c.id = v.contact_id
        WHERE v.status = 'handoff_requested' ORDER BY v.last_message_at, v.id""")).all()


def _failed(session, p: Period):
    return session.execute(sa.text("""
        SELECT id, channel, recipient, template, last_error, attempts, updated_at FROM outbox_messages
        WHERE status = 'failed' AND updated_at >= :a AND updated_at < :b ORDER BY updated_at, id"""),
        p.params()).all()


def percent(part: int, whole: int) -> str:
    if not whole:
        return "\u2014"
    return f"{round(part * 100 / whole)}%"


def _figures(session: Session, p: Period) -> dict[str, dict]:
    money = _money(session, p)
    net = sum(r["cents"] for r in money)
    leads = _leads(session, p)
    converted = sum(1 for r in leads if r.booked)
    util = _utilisation(session, p)
    booked = sum(r["booked_minutes"] for r in util)
    offered = sum(r["offered_minutes"] for r in util)
    values = {
        "lessons": (len(_lessons(session, p)), None),
        "revenue": (net, aud(net)),
        "leads": (len(leads), None),
        "conversion": (converted, f"{percent(converted, len(leads))} ({converted} of {len(leads)})"),
        "active_learners": (len(_active_learners(session, p)), None),
        "completed_learners": (len(_completed_learners(session, p)), None),
        "cancellations": (len(_cancellations(session, p)), None),
        "no_shows": (len(_no_shows(session, p)), None),
        "utilisation": (booked, f"{percent(booked, offered)} ({_hours(booked)} of {_hours(offered)} h)"),
        "failed_messages": (len(_failed(session, p)), None),
    }
    out = {}
    for key, (value, display) in values.items():
        out[key] = {"key": key, "label": FIGURES[key][0], "value": value,
                    "display": display if display is not None else str(value),
                    "href": f"/admin/figures?figure={key}&period={p.key}"}
    out["revenue"]["gross_cents"] = sum(r["cents"] for r in money if r["cents"] > 0)
    out["revenue"]["refunded_cents"] = -sum(r["cents"] for r in money if r["cents"] < 0)
    out["conversion"]["leads"] = len(leads)
    out["utilisation"]["offered_minutes"] = offered
    return out


def _hours(minutes: int) -> str:
    h = minutes / 60
    return f"{h:.0f}" if h == int(h) else f"{h:.1f}"


def dashboard(session: Session, actor: Actor) -> dict:
    """Admin: every figure for today, this week and this month, the open queues and the charts."""
    require_admin(actor)
    today = clock.today(session)
    periods = {}
    for key in PERIODS:
        p = period_for(key, today)
        periods[key] = {"key": key, "title": PERIOD_LABELS[key], "label": p.label, "figures": _figures(session, p)}
    callbacks, handoffs = len(_callbacks(session)), len(_handoffs(session))
    failed_total = int(session.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status = 'failed'"))
                       .scalar_one())
    return {
        "today": today.isoformat(),
        "periods": periods,
        "queues": {
            "callbacks": {"key": "callbacks", "label": FIGURES["callbacks"][0], "value": callbacks,
                          "display": str(callbacks), "href": "/admin/figures?figure=callbacks&period=today"},
            "handoffs": {"key": "handoffs", "label": FIGURES["handoffs"][0], "value": handoffs,
                         "display": str(handoffs), "href": "/admin/figures?figure=handoffs&period=today"},
            "failed_total": {"key": "failed_total", "label": "Failed messages (all)", "value": failed_total,
                             "display": str(failed_total), "href": "/admin/outbox?status=failed"},
        },
        "trend": weekly_trend(session, today),
        "by_service": revenue_by_service(session, today),
    }


def _weeks(today: date, weeks: int = TREND_WEEKS) -> list[Period]:
    monday = today - timedelta(days=today.weekday())
    return [Period("week", monday - timedelta(weeks=n), monday - timedelta(weeks=n - 1))
            for n in range(weeks - 1, -1, -1)]


def weekly_trend(session: Session, today: date, weeks: int = TREND_WEEKS) -> list[dict]:
    """The last ``weeks`` Canberra weeks (Monday first), this one last: lessons, net revenue, new leads."""
    out = []
    for w in _weeks(today, weeks):
        net = sum(r["cents"] for r in _money(session, w))
        out.append({"week": au_date(w.first, weekday=False, year=False), "first": w.first.isoformat(),
                    "lessons": len(_lessons(session, w)), "net_cents": net, "revenue": round(net / 100, 2),
                    "leads": len(_leads(session, w))})
    return out


def revenue_by_service(session: Session, today: date, weeks: int = TREND_WEEKS) -> list[dict]:
    """Net revenue over the same weeks as the trend, by what was paid for (the lesson's service,
    a lesson package, or anything else), biggest first."""
    span = Period("trend", _weeks(today, weeks)[0].first, _weeks(today, weeks)[-1].end)
    rows = session.execute(sa.text("""
        WITH money AS (
            SELECT p.id AS payment_id, p.amount_cents AS cents FROM payments p
            WHERE p.completed_at >= :a AND p.completed_at < :b AND p.status = ANY(:paid)
              AND p.payment_method <> 'package_credit'
            UNION ALL
            SELECT r.payment_id, -r.amount_cents FROM refunds r JOIN payments p ON p.id = r.payment_id
            WHERE r.created_at >= :a AND r.created_at < :b AND r.status = ANY(:back)
              AND p.payment_method <> 'package_credit')
        SELECT CASE WHEN sv.name IS NOT NULL THEN sv.name
                    WHEN p.package_id IS NOT NULL THEN 'Lesson packages' ELSE 'Other' END AS service,
               sum(m.cents) AS cents
        FROM money m JOIN payments p ON p.id = m.payment_id
        LEFT JOIN bookings b ON b.id = p.booking_id LEFT JOIN services sv ON sv.id = b.service_id
        GROUP BY 1"""), {**span.params(), "paid": list(PAID), "back": list(REFUNDS_COUNTED)}).all()
    out = [{"service": r.service, "net_cents": int(r.cents), "revenue": round(int(r.cents) / 100, 2),
            "display": aud(int(r.cents))} for r in rows]
    out.sort(key=lambda r: (-r["net_cents"], r["service"]))
    return out


# ─────────────────────────────────────────────────────────────────────────────
# The list behind a figure
# ─────────────────────────────────────────────────────────────────────────────


def _when(dt: datetime | None) -> str:
    return f"{au_date(dt)}, {au_time(dt)}" if dt else ""


def _learner_href(student_id) -> str:
    return f"/admin/students/view?id={student_id}" if student_id else ""


def _booking_table(rows, *, cancelled: bool = False) -> tuple[list[str], list[dict]]:
    cols = ["When", "Learner", "Service", "Instructor", "Status"] + (["Cancelled"] if cancelled else [])
    out = []
    for r in rows:
        cells = [_when(r.start_time), r.who, r.service, r.instructor, r.status.replace("_", " ")]
        if cancelled:
            cells.append(_when(r.cancelled_at))
        out.append({"id": str(r.id), "cells": cells, "href": _learner_href(r.student_id)})
    return cols, out


def figure_rows(session: Session, actor: Actor, figure: str, period: str) -> dict:
    """Admin: the rows behind one figure of the dashboard (the same query as the figure)."""
    require_admin(actor)
    if figure not in FIGURES:
        raise ValidationFailed("No such figure.", field="figure")
    p = period_for(period, clock.today(session))
    title, what = FIGURES[figure]
    total = ""
    if figure == "lessons":
        cols, rows = _booking_table(_lessons(session, p))
    elif figure == "no_shows":
        cols, rows = _booking_table(_no_shows(session, p))
    elif figure == "cancellations":
        cols, rows = _booking_table(_cancellations(session, p), cancelled=True)
    elif figure == "revenue":
        money = _money(session, p)
        cols = ["When", "Who", "What", "Method", "Amount"]
        rows = [{"id": str(r["id"]), "cells": [_when(r["at"]), r["who"], r["what"],
                                               str(r["method"]).replace("_", " "), aud(r["cents"])],
                 "href": _learner_href(r["student_id"])} for r in money]
        total = aud(sum(r["cents"] for r in money))
    elif figure in ("leads", "conversion"):
        leads = _leads(session, p)
        cols = ["First contact", "Name", "Source", "Stage", "Booked"]
        rows = [{"id": str(r.id), "cells": [_when(r.created_at), r.full_name or "Unnamed", r.source or "",
                                            r.lifecycle_stage, "yes" if r.booked else "no"],
                 "href": f"/admin/contacts/view?id={r.id}"} for r in leads]
        if figure == "conversion":
            rows = [row for row, r in zip(rows, leads) if r.booked]
    elif figure == "active_learners":
        cols = ["Learner", "Lessons", "Last lesson"]
        rows = [{"id": str(r.id), "cells": [r.name, str(r.lessons), _when(r.last_lesson)],
                 "href": _learner_href(r.id)} for r in _active_learners(session, p)]
    elif figure == "completed_learners":
        cols = ["Learner", "Completed"]
        rows = [{"id": str(r.id), "cells": [r.name, au_date(r.completion_date)], "href": _learner_href(r.id)}
                for r in _completed_learners(session, p)]
    elif figure == "utilisation":
        util = _utilisation(session, p)
        cols = ["Instructor", "Hours booked", "Hours offered", "Utilisation"]
        rows = [{"id": str(r["instructor_id"]), "cells": [
            r["name"], _hours(r["booked_minutes"]), _hours(r["offered_minutes"]),
            percent(r["booked_minutes"], r["offered_minutes"])], "href": ""} for r in util]
        total = percent(sum(r["booked_minutes"] for r in util), sum(r["offered_minutes"] for r in util))
    elif figure == "callbacks":
        cols = ["Called", "Caller", "Phone", "Reason", "Call back at"]
        rows = [{"id": str(r.id), "cells": [_when(r.started_at), r.caller_name or "Unknown caller", r.caller_phone,
                                            r.caller_reason or r.summary or "", _when(r.callback_scheduled_at)],
                 "href": ""} for r in _callbacks(session)]
    elif figure == "handoffs":
        cols = ["Last message", "Who", "Channel", "Reason"]
        rows = [{"id": str(r.id), "cells": [_when(r.last_message_at), r.full_name or r.channel_identifier or "",
                                            r.channel, r.handoff_reason or ""], "href": ""}
                for r in _handoffs(session)]
    else:  # failed_messages
        cols = ["Given up", "Channel", "To", "Message", "Error"]
        rows = [{"id": str(r.id), "cells": [_when(r.updated_at), r.channel, r.recipient, r.template or "",
                                            r.last_error or ""], "href": f"/admin/outbox?status=failed&id={r.id}"}
                for r in _failed(session, p)]
    now_only = figure in ("callbacks", "handoffs")
    return {"figure": figure, "title": title, "what": what, "period": period,
            "period_label": "Open now" if now_only else f"{PERIOD_LABELS[period]} ({p.label})",
            "columns": cols, "rows": rows[:MAX_ROWS], "count": len(rows), "total": total,
            "truncated": len(rows) > MAX_ROWS}


__all__ = ["FIGURES", "PERIODS", "Period", "dashboard", "figure_rows", "lead_rows", "midnight", "period_for",
           "money_rows", "revenue_by_service", "utilisation", "weekly_trend"]
