"""The owner's reports as plain tables: revenue, competency progress, instructor utilisation, leads.

Each report takes a period of Canberra calendar days (``reporting.kpis.Period``: day boundaries are
turned into UTC instants one by one, so the 23- and 25-hour days when the clocks change count
exactly) and a grouping, and returns plain data: the columns, one row per group, a totals row that
is the sum of the rows, and what to chart. The rules are the dashboard's own
(``reporting.kpis``: revenue net of refunds, utilisation, leads and conversion), so a report over a
dashboard period agrees with the dashboard to the cent. Money is integer cents, GST inclusive; for a
GST-registered business (business settings) each payment or refund carries 1/11 of its amount as GST,
rounded to the cent, and a group's GST is the sum of its lines'. The administrator's alone.

Column kinds: ``text``, ``int``, ``money`` (cents), ``minutes`` (shown as hours), ``percent``
(``part``/``whole`` columns named by the column's ``of``).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_date_short
from nexdrive.models import BusinessSettings
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.reporting import kpis

REPORTS: dict[str, str] = {
    "revenue": "Revenue",
    "progress": "Competency progress",
    "utilisation": "Instructor utilisation",
    "leads": "Leads and conversion",
}
GROUPINGS: dict[str, dict[str, str]] = {
    "revenue": {"day": "By day", "week": "By week", "month": "By month", "service": "By lesson type",
                "instructor": "By instructor", "method": "By payment method"},
    "progress": {"learner": "Each learner", "distribution": "Distribution (tasks competent)"},
    "utilisation": {"week": "Each instructor, each week", "instructor": "Each instructor"},
    "leads": {"source": "By source", "utm": "By UTM source / medium / campaign"},
}
DEFAULT_GROUPING = {"revenue": "month", "progress": "learner", "utilisation": "instructor", "leads": "source"}
METHOD_LABELS = {"card": "Card", "direct_debit": "Direct debit", "afterpay": "Afterpay", "paypal": "PayPal",
                 "voucher": "Voucher", "cash": "Cash", "other": "Other"}
TASKS_TOTAL = 23  # the ACT CBT&A catalogue: 23 tasks and 2 reviews (DESIGN §3.5)
DISTRIBUTION = ((0, 0, "No tasks yet"), (1, 5, "1\u20135 tasks"), (6, 11, "6\u201311 tasks"),
                (12, 17, "12\u201317 tasks"), (18, 22, "18\u201322 tasks"), (23, 23, "All 23 tasks"))


def gst_of(cents: int) -> int:
    """1/11 of a GST-inclusive amount, to the nearest cent (refunds negative)."""
    sign = -1 if cents < 0 else 1
    return sign * ((abs(cents) + 5) // 11)


def business(session: Session) -> dict[str, Any]:
    row = session.get(BusinessSettings, 1)
    return {"name": getattr(row, "business_name", None) or "NexDrive Academy",
            "abn": getattr(row, "abn", None) or "",
            "gst_registered": bool(getattr(row, "gst_registered", False))}


def _col(key: str, title: str, kind: str = "text", **extra) -> dict[str, Any]:
    return {"key": key, "title": title, "kind": kind, **extra}


def _check(report: str, grouping: str | None) -> str:
    if report not in REPORTS:
        raise ValidationFailed("Choose a report.", field="report")
    grouping = grouping or DEFAULT_GROUPING[report]
    if grouping not in GROUPINGS[report]:
        raise ValidationFailed("Choose how to group the report.", field="grouping")
    return grouping


def _result(session: Session, report: str, grouping: str, p: kpis.Period, columns: list[dict], rows: list[dict],
            totals: dict, chart: dict, notes: list[str]) -> dict[str, Any]:
    last = p.end - timedelta(days=1)
    return {"report": report, "grouping": grouping, "title": f"{REPORTS[report]} \u2013 "
            f"{GROUPINGS[report][grouping].lower()}", "first": p.first.isoformat(), "last": last.isoformat(),
            "range_label": f"{au_date(p.first, weekday=False)} \u2013 {au_date(last, weekday=False)}",
            "business": business(session), "columns": columns, "rows": rows, "totals": totals,
            "chart": chart, "notes": notes}


def _sum(rows: list[dict], columns: list[dict], label: str) -> dict:
    """The totals row: every number column summed (percentages recomputed from the summed parts)."""
    out: dict[str, Any] = {}
    for c in columns:
        if c["kind"] in ("int", "money", "minutes"):
            out[c["key"]] = sum(int(r[c["key"]]) for r in rows)
    for c in columns:
        if c["kind"] == "percent":
            part, whole = out.get(c["part"], 0), out.get(c["whole"], 0)
            out[c["key"]] = round(part * 100 / whole, 1) if whole else None
        elif c["kind"] == "text":
            out[c["key"]] = ""
    out[columns[0]["key"]] = label
    return out


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


# ─────────────────────────────────────────────────────────────────────────────
# Periods inside the range (Canberra days, weeks from Monday, calendar months)
# ─────────────────────────────────────────────────────────────────────────────


def _buckets(p: kpis.Period, grouping: str) -> list[tuple[date, date, str]]:
    """(first day, day after the last, label) for each day / week / month of the range, clipped to it."""
    out, day = [], p.first
    while day < p.end:
        if grouping == "day":
            nxt, label = day + timedelta(days=1), au_date_short(day)
        elif grouping == "week":
            nxt = day - timedelta(days=day.weekday()) + timedelta(days=7)
            label = f"Week of {au_date_short(day)}"
        else:
            nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            label = day.strftime("%B %Y")
        nxt = min(nxt, p.end)
        out.append((day, nxt, label))
        day = nxt
    return out


def _local_day(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


# ─────────────────────────────────────────────────────────────────────────────
# Revenue
# ─────────────────────────────────────────────────────────────────────────────


def revenue_report(session: Session, actor: Actor, p: kpis.Period, grouping: str = "month") -> dict[str, Any]:
    """Money received less refunds made in the range (the dashboard's rule), grouped by day, week, month,
    lesson type, instructor or payment method: payments, gross, refunds, net (and GST when registered)."""
    access.require_admin(actor)
    grouping = _check("revenue", grouping)
    money = kpis.money_rows(session, p)
    ids = list({r["booking_id"] for r in money if r.get("booking_id")})
    booked = {r.id: r for r in session.execute(sa.text("""
        SELECT b.id, sv.name AS service, TRIM(ip.first_name || ' ' || ip.last_name) AS instructor, b.instructor_id
        FROM bookings b JOIN services sv ON sv.id = b.service_id
        JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
        WHERE b.id = ANY(:ids)"""), {"ids": ids}).all()} if ids else {}
    biz = business(session)
    buckets = _buckets(p, grouping) if grouping in ("day", "week", "month") else []
    groups: dict[str, dict] = {}
    for first, _end, label in buckets:
        groups[first.isoformat()] = {"label": label, "key": first.isoformat()}

    def key_of(r: dict) -> tuple[str, str]:
        b = booked.get(r.get("booking_id"))
        if grouping in ("day", "week", "month"):
            day = _local_day(r["at"])
            for first, end, label in buckets:
                if first <= day < end:
                    return first.isoformat(), label
            raise AssertionError("a row outside the range")  # pragma: no cover
        if grouping == "service":
            name = b.service if b else ("Lesson packages" if r.get("package_id") else "Other")
            return name, name
        if grouping == "instructor":
            return (str(b.instructor_id), b.instructor) if b else ("", "No instructor (packages and other)")
        method = str(r["method"] or "other")
        return method, METHOD_LABELS.get(method, method.replace("_", " ").capitalize())

    for r in money:
        key, label = key_of(r)
        g = groups.setdefault(key, {"label": label, "key": key})
        cents = int(r["cents"])
        g["payments"] = g.get("payments", 0) + (1 if cents > 0 else 0)
        g["gross_cents"] = g.get("gross_cents", 0) + max(cents, 0)
        g["refunds_cents"] = g.get("refunds_cents", 0) + max(-cents, 0)
        g["net_cents"] = g.get("net_cents", 0) + cents
        g["gst_cents"] = g.get("gst_cents", 0) + gst_of(cents)
    rows = []
    for g in groups.values():
        row = {"label": g["label"], "key": g["key"], "payments": g.get("payments", 0),
               "gross_cents": g.get("gross_cents", 0), "refunds_cents": g.get("refunds_cents", 0),
               "net_cents": g.get("net_cents", 0)}
        if biz["gst_registered"]:
            row["gst_cents"] = g.get("gst_cents", 0)
        rows.append(row)
    if not buckets:
        rows.sort(key=lambda r: (-r["net_cents"], r["label"]))
    first_title = {"day": "Day", "week": "Week", "month": "Month", "service": "Lesson type",
                   "instructor": "Instructor", "method": "Payment method"}[grouping]
    columns = [_col("label", first_title), _col("payments", "Payments", "int"),
               _col("gross_cents", "Received", "money"), _col("refunds_cents", "Refunded", "money"),
               _col("net_cents", "Net", "money")]
    if biz["gst_registered"]:
        columns.append(_col("gst_cents", "GST included", "money"))
    notes = ["Money received in the range less refunds made in it, as on the dashboard; package credits are "
             "not takings (the money came when the package was bought)."]
    if biz["gst_registered"]:
        notes.append("Amounts include GST. GST is 1/11 of each payment and refund, to the cent; a group's GST is "
                     "the sum of its lines'.")
    else:
        notes.append("The business is not registered for GST: no GST is shown.")
    return _result(session, "revenue", grouping, p, columns, rows, _sum(rows, columns, "Total"),
                   {"series": [{"key": "net_cents", "title": "Net revenue (AUD)", "kind": "money"}]}, notes)


# ─────────────────────────────────────────────────────────────────────────────
# Competency progress
# ─────────────────────────────────────────────────────────────────────────────


def progress_report(session: Session, actor: Actor, p: kpis.Period, grouping: str = "learner") -> dict[str, Any]:
    """Every learner's progress at the end of the range: tasks competent (of 23), reviews passed (of 2),
    lesson hours and last lesson (lessons taught, as the learners list counts them), instructor; or how
    many learners are at each stage."""
    access.require_admin(actor)
    grouping = _check("progress", grouping)
    as_of = min(p.end_utc, clock.now(session))
    learners = session.execute(sa.text("""
        WITH latest AS (
            SELECT DISTINCT ON (sc.student_id, sc.task_id) sc.student_id, sc.task_id, sc.status
            FROM student_competencies sc WHERE sc.status_changed_at < :end
            ORDER BY sc.student_id, sc.task_id, sc.seq DESC),
        done AS (
            SELECT l.student_id, count(*) FILTER (WHERE NOT t.is_review) AS tasks,
                   count(*) FILTER (WHERE t.is_review) AS reviews
            FROM latest l JOIN competency_tasks t ON t.id = l.task_id
            WHERE l.status = 'competent' GROUP BY l.student_id),
        taught AS (
            SELECT b.student_id, sum(b.duration_minutes) AS minutes, max(b.start_time) AS last_lesson
            FROM bookings b WHERE b.status = ANY(:taught) AND b.start_time <= :as_of AND b.student_id IS NOT NULL
            GROUP BY b.student_id)
        SELECT s.id, TRIM(p.first_name || ' ' || p.last_name) AS name, s.status,
               TRIM(ip.first_name || ' ' || ip.last_name) AS instructor,
               COALESCE(d.tasks, 0) AS tasks, COALESCE(d.reviews, 0) AS reviews,
               COALESCE(t.minutes, 0) AS minutes, t.last_lesson
        FROM students s JOIN profiles p ON p.id = s.profile_id
        LEFT JOIN instructors i ON i.id = s.instructor_id LEFT JOIN profiles ip ON ip.id = i.profile_id
        LEFT JOIN done d ON d.student_id = s.id LEFT JOIN taught t ON t.student_id = s.id
        ORDER BY 2, 1"""), {"end": p.end_utc, "as_of": as_of, "taught": list(kpis.TAUGHT)}).all()
    if grouping == "learner":
        rows = [{"label": r.name, "key": str(r.id), "instructor": r.instructor or "",
                 "status": r.status.replace("_", " "),
                 "tasks": int(r.tasks), "reviews": int(r.reviews), "minutes": int(r.minutes),
                 "last_lesson": au_date_short(_local_day(r.last_lesson)) if r.last_lesson else ""}
                for r in learners]
        columns = [_col("label", "Learner"), _col("instructor", "Instructor"), _col("status", "Status"),
                   _col("tasks", f"Tasks competent (of {TASKS_TOTAL})", "int"),
                   _col("reviews", "Reviews passed (of 2)", "int"), _col("minutes", "Lesson hours", "minutes"),
                   _col("last_lesson", "Last lesson")]
        totals = _sum(rows, columns, f"Total ({len(rows)} learners)")
    else:
        rows = []
        for low, high, label in DISTRIBUTION:
            inside = [r for r in learners if low <= int(r.tasks) <= high]
            rows.append({"label": label, "learners": len(inside), "minutes": sum(int(r.minutes) for r in inside)})
        columns = [_col("label", "Tasks competent"), _col("learners", "Learners", "int"),
                   _col("minutes", "Lesson hours", "minutes")]
        totals = _sum(rows, columns, "Total")
    distribution = [{"label": label, "learners": sum(1 for r in learners if low <= int(r.tasks) <= high)}
                    for low, high, label in DISTRIBUTION]
    out = _result(session, "progress", grouping, p, columns, rows, totals,
                  {"series": [{"key": "learners", "title": "Learners", "kind": "int"}], "rows": distribution},
                  [f"As at the end of {au_date(p.end - timedelta(days=1), weekday=False)} (or now, if sooner): "
                   "each task's latest record, corrections included. Lesson hours and the last lesson count "
                   "lessons taught (confirmed, in progress or completed) that have started."])
    return out


# ─────────────────────────────────────────────────────────────────────────────
# Instructor utilisation
# ─────────────────────────────────────────────────────────────────────────────


def utilisation_report(session: Session, actor: Actor, p: kpis.Period,
                       grouping: str = "instructor") -> dict[str, Any]:
    """Hours booked (lessons and no-shows) over hours offered (weekly hours less days blocked whole), per
    instructor, or per instructor per week (weeks from Monday, clipped to the range) — the dashboard's rule."""
    access.require_admin(actor)
    grouping = _check("utilisation", grouping)
    rows, chart_rows = [], []
    if grouping == "week":
        for first, end, label in _buckets(p, "week"):
            util = kpis.utilisation(session, kpis.Period("week", first, end))
            for u in util:
                rows.append({"label": u["name"], "key": f"{u['instructor_id']}:{first.isoformat()}", "week": label,
                             "booked_minutes": u["booked_minutes"],
                             "offered_minutes": u["offered_minutes"],
                             "utilisation": _pct(u["booked_minutes"], u["offered_minutes"])})
            booked, offered = sum(u["booked_minutes"] for u in util), sum(u["offered_minutes"] for u in util)
            chart_rows.append({"label": label, "utilisation": _pct(booked, offered) or 0})
        rows.sort(key=lambda r: (r["label"], r["key"]))  # each instructor's weeks in order
        columns = [_col("label", "Instructor"), _col("week", "Week")]
    else:
        for u in kpis.utilisation(session, p):
            rows.append({"label": u["name"], "key": str(u["instructor_id"]), "booked_minutes": u["booked_minutes"],
                         "offered_minutes": u["offered_minutes"],
                         "utilisation": _pct(u["booked_minutes"], u["offered_minutes"])})
        chart_rows = [{"label": r["label"], "utilisation": r["utilisation"] or 0} for r in rows]
        columns = [_col("label", "Instructor")]
    columns += [_col("booked_minutes", "Hours booked", "minutes"), _col("offered_minutes", "Hours offered", "minutes"),
                _col("utilisation", "Utilisation", "percent", part="booked_minutes", whole="offered_minutes")]
    return _result(session, "utilisation", grouping, p, columns, rows, _sum(rows, columns, "Total"),
                   {"series": [{"key": "utilisation", "title": "Utilisation (%)", "kind": "percent"}],
                    "rows": chart_rows},
                   ["Hours booked: lessons (confirmed, in progress, completed) and no-shows on the day. Hours "
                    "offered: each active instructor's weekly hours on each Canberra day (wall clock), less days "
                    "blocked whole \u2014 as on the dashboard."])


# ─────────────────────────────────────────────────────────────────────────────
# Leads and conversion
# ─────────────────────────────────────────────────────────────────────────────


def leads_report(session: Session, actor: Actor, p: kpis.Period, grouping: str = "source") -> dict[str, Any]:
    """New leads in the range (the dashboard's rule) by source or UTM tags: how many booked (anything but
    a hold) and how many became enrolled learners."""
    access.require_admin(actor)
    grouping = _check("leads", grouping)
    groups: dict[str, dict] = {}
    for r in kpis.lead_rows(session, p):
        if grouping == "source":
            label = (r.source or "").strip() or "Unknown"
            label = label[:1].upper() + label[1:]
        else:
            tags = [(x or "").strip() for x in (r.utm_source, r.utm_medium, r.utm_campaign)]
            label = " / ".join(t or "\u2013" for t in tags) if any(tags) else "No UTM tags"
        g = groups.setdefault(label, {"label": label, "key": label, "leads": 0, "booked": 0, "enrolled": 0})
        g["leads"] += 1
        g["booked"] += 1 if r.booked else 0
        g["enrolled"] += 1 if r.enrolled else 0
    rows = sorted(groups.values(), key=lambda g: (-g["leads"], g["label"]))
    for g in rows:
        g["booked_rate"] = _pct(g["booked"], g["leads"])
        g["enrolled_rate"] = _pct(g["enrolled"], g["leads"])
    columns = [_col("label", "Source" if grouping == "source" else "UTM source / medium / campaign"),
               _col("leads", "New leads", "int"), _col("booked", "Booked", "int"),
               _col("booked_rate", "Lead \u2192 booking", "percent", part="booked", whole="leads"),
               _col("enrolled", "Enrolled learners", "int"),
               _col("enrolled_rate", "Lead \u2192 learner", "percent", part="enrolled", whole="leads")]
    return _result(session, "leads", grouping, p, columns, rows, _sum(rows, columns, "Total"),
                   {"series": [{"key": "leads", "title": "New leads", "kind": "int"},
                               {"key": "booked", "title": "Booked", "kind": "int"}]},
                   ["New leads: contacts first recorded in the range (deleted ones left out). Booked: the lead "
                    "has a booking (not a hold). Enrolled: the lead now has a learner account."])


BUILDERS = {"revenue": revenue_report, "progress": progress_report, "utilisation": utilisation_report,
            "leads": leads_report}


def build(session: Session, actor: Actor, report: str, p: kpis.Period, grouping: str | None = None) -> dict:
    """Any report by name (the page and the API call this)."""
    access.require_admin(actor)
    grouping = _check(report, grouping)
    return BUILDERS[report](session, actor, p, grouping)


def catalogue(actor: Actor) -> list[dict]:
    """The reports, their groupings and the default grouping of each (the administrator's)."""
    access.require_admin(actor)
    return [{"report": k, "title": v, "groupings": dict(GROUPINGS[k]), "default_grouping": DEFAULT_GROUPING[k]}
            for k, v in REPORTS.items()]


def chart_rows(data: dict) -> list[dict]:
    """The chart's points: {label, <series key>: value (dollars for money)} per group."""
    series = data["chart"]["series"]
    source = data["chart"].get("rows") or data["rows"]
    out = []
    for r in source:
        point = {"label": r["label"]}
        for s in series:
            value = r.get(s["key"]) or 0
            point[s["key"]] = round(value / 100, 2) if s["kind"] == "money" else value
        out.append(point)
    return out


__all__ = ["BUILDERS", "DEFAULT_GROUPING", "GROUPINGS", "REPORTS", "build", "business", "catalogue", "chart_rows",
           "gst_of",
           "leads_report", "progress_report", "revenue_report", "utilisation_report"]
