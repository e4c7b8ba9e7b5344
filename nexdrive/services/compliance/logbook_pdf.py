"""The printable log-book summary (fpdf2): what a licensing officer at Access Canberra looks for.

One A4 landscape document, computed from the records when asked (nothing stored):

1. the learner (name, date of birth, learner licence number, transmission) and the school;
2. the totals: supervised day / night / total, professional hours with an accredited instructor and the
   hours they are credited (3:1 for the first 10 hours, 1:1 after), the total toward the target, the target
   for the learner's age, and what remains: the same figures as :func:`logbook.logbook_summary`;
3. every supervised drive: date, start, finish, minutes, of which at night, the supervising driver's name and
   licence number, odometer, roads, and whether the supervisor confirmed it from their own account;
4. every signed lesson with the instructor (date, lesson number, instructor and their ADI number, minutes);
5. a declaration with spaces for the learner's and a supervising driver's signatures.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fpdf.enums import XPos, YPos
from sqlmodel import Session

from nexdrive.formats import BUSINESS_TZ, au_date, au_date_short, au_time
from nexdrive.services.compliance import logbook
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.pdf_layout import BRAND, INK, MUTED, RULE, SHADE, LayoutPdf

PAGE_SIZE = 200  # drives read per query
MAX_DRIVES = 5000


class _Pdf(LayoutPdf):
    """The shared page in landscape (a wide table of drives), with a table header repeated on each page."""

    def __init__(self, footer_text: str):
        super().__init__(footer_text, landscape=True, margin=14, bottom=18)
        self.repeat_header: list[tuple[str, float, str]] | None = None

    def section(self, title: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(3)
        self.font(11, bold=True, color=BRAND)
        self.cell(0, 7, self.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_header(self, cols: list[tuple[str, float, str]]) -> None:
        self.font(7.5, bold=True, color=INK)
        self.set_fill_color(*SHADE)
        self.set_draw_color(*RULE)
        for label, width, align in cols:
            self.cell(width, 6, self.t(label), border="B", align=align, fill=True)
        self.ln(6)

    def row(self, cols: list[tuple[str, float, str]], values: list[str], *, bold: bool = False) -> None:
        if self.get_y() > self.h - 24:
            self.add_page()
            self.table_header(cols)
        self.font(7.5, bold=bold)
        for (_, width, align), value in zip(cols, values):
            text = self.t(value)
            while text and self.get_string_width(text) > width - 1.5:
                text = text[:-2] + "…" if self.unicode else text[:-1]
            self.cell(width, 5.2, text, border="B", align=align)
        self.ln(5.2)


def _hm(minutes: int) -> str:
    """95 -> '1 h 35 min' (an officer adds up hours and minutes, not decimals)."""
    h, m = divmod(int(minutes or 0), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def _h(hours: float) -> str:
    return _hm(round(float(hours or 0) * 60))


def _learner(session: Session, student_id: uuid.UUID) -> dict[str, Any]:
    row = session.execute(sa.text("""
        SELECT p.first_name, p.last_name, p.date_of_birth, p.address_line1, p.suburb, p.postcode,
               s.licence_number, s.transmission
        FROM students s JOIN profiles p ON p.id = s.profile_id WHERE s.id = :s"""), {"s": student_id}).first()
    return dict(row._mapping) if row else {}


def _school(session: Session) -> dict[str, Any]:
    row = session.execute(sa.text("SELECT * FROM business_settings WHERE id = 1")).first()
    data = dict(row._mapping) if row else {}
    return {"name": data.get("business_name") or "NexDrive Academy", "abn": data.get("abn") or "",
            "phone": data.get("phone") or data.get("business_phone") or ""}


def _lessons(session: Session, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """Signed lessons that stand (a corrected one counts once, as corrected): the log book's own rule."""
    rows = session.execute(sa.text("""
        SELECT l.lesson_number, l.start_time, l.end_time, l.total_minutes, p.first_name, p.last_name,
               i.adi_number
        FROM lessons l JOIN instructors i ON i.id = l.instructor_id JOIN profiles p ON p.id = i.profile_id
        WHERE l.student_id = :s AND l.status = 'completed' AND l.signed_at IS NOT NULL
          AND l.id NOT IN (SELECT c.correction_of FROM lessons c WHERE c.student_id = :s
                           AND c.correction_of IS NOT NULL AND c.status = 'completed')
        ORDER BY l.start_time"""), {"s": student_id}).all()
    return [dict(r._mapping) for r in rows]


def _drives(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < MAX_DRIVES:
        page = logbook.list_drives(session, actor, student_id, limit=PAGE_SIZE, offset=len(out))
        out.extend(page)
        if len(page) < PAGE_SIZE:
            break
    return sorted(out, key=lambda d: d["start_time"])


def logbook_summary_data(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """Everything the PDF prints, as plain data (for tests and other formats)."""
    access.require_student(session, actor, student_id, "logbook")
    return {"learner": _learner(session, student_id), "school": _school(session),
            "summary": logbook.logbook_summary(session, actor, student_id),
            "drives": _drives(session, actor, student_id), "lessons": _lessons(session, student_id),
            "generated_at": clock.now(session)}


def render(data: dict[str, Any]) -> bytes:
    learner, school, s = data["learner"], data["school"], data["summary"]
    generated: datetime = data["generated_at"]
    name = f"{learner.get('first_name', '')} {learner.get('last_name', '')}".strip() or "Learner"
    pdf = _Pdf(f"{school['name']} · Log-book summary for {name} · produced {au_date(generated)} "
               f"{au_time(generated)} (Canberra time) from the school's records")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_title(f"Learner driver log-book summary - {name}")
    pdf.set_author(school["name"])

    # Title block
    pdf.set_fill_color(*BRAND)
    pdf.rect(pdf.l_margin, pdf.t_margin, 6, 14, style="F")
    pdf.set_xy(pdf.l_margin + 9, pdf.t_margin)
    pdf.font(16, bold=True)
    pdf.cell(0, 8, pdf.t("Learner driver log-book summary"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 9)
    pdf.font(9, color=MUTED)
    pdf.cell(0, 5, pdf.t(f"Supervised driving and professional lessons, ACT · {school['name']}"
                         + (f" · ABN {school['abn']}" if school["abn"] else "")),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    # Learner
    dob = learner.get("date_of_birth")
    pairs = [("Learner", name), ("Date of birth", au_date_short(dob) if dob else "Not recorded"),
             ("Learner licence no.", learner.get("licence_number") or "Not recorded"),
             ("Transmission", {"manual": "Manual", "auto": "Automatic"}.get(learner.get("transmission"), "-")),
             ("Address", ", ".join(x for x in (learner.get("address_line1"), learner.get("suburb"),
                                               learner.get("postcode")) if x) or "Not recorded")]
    pdf.font(9)
    for label, value in pairs:
        pdf.font(8.5, color=MUTED)
        pdf.cell(38, 5.2, pdf.t(label))
        pdf.font(9, bold=True)
        pdf.cell(0, 5.2, pdf.t(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Totals
    pdf.section("Hours")
    target = f"{s['target_total_hours']} h including {s['target_night_hours']} h at night"
    age = f" (learner aged {s['age']})" if s.get("age_known") else " (age not recorded: the under-25 target applies)"
    totals = [
        ("Supervised driving: day", _h(s["supervised_day_hours"])),
        ("Supervised driving: night", _h(s["supervised_night_hours"])),
        ("Supervised driving: total", _h(s["supervised_hours"])),
        ("Professional lessons with an accredited instructor", _h(s["professional_hours"])),
        ("Credited for professional lessons (3:1 for the first 10 h, 1:1 after)", _h(s["credited_hours"])),
        ("Night hours (supervised + professional)", _h(s["night_hours"])),
        ("Total toward the log-book requirement", _h(s["total_hours"])),
        ("Requirement" + age, target),
        ("Still to log", "Requirement met" if s["target_met"] else
         f"{_h(s['remaining_hours'])} including {_h(s['remaining_night_hours'])} at night"),
    ]
    pdf.set_draw_color(*RULE)
    for i, (label, value) in enumerate(totals):
        bold = i in (6, 8)
        pdf.set_fill_color(*SHADE)
        pdf.font(9, bold=bold)
        pdf.cell(120, 5.6, pdf.t(label), border="B", fill=bold)
        pdf.cell(60, 5.6, pdf.t(value), border="B", align="R", fill=bold, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if s.get("unconfirmed_drives"):
        pdf.font(8, color=MUTED)
        pdf.cell(0, 5, pdf.t(f"{s['unconfirmed_drives']} drive(s), {_h(s['unconfirmed_hours'])}, not yet "
                             "confirmed by a linked supervisor from their own account (marked below)."),
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Drives
    pdf.section(f"Supervised drives ({len(data['drives'])})")
    cols = [("Date", 24, "L"), ("Start", 17, "L"), ("Finish", 17, "L"), ("Time", 22, "R"),
            ("of which night", 22, "R"), ("Supervising driver", 46, "L"), ("Licence no.", 27, "L"),
            ("Odometer", 30, "L"), ("Roads / weather", 46, "L"), ("Confirmed", 18, "L")]
    pdf.table_header(cols)
    day_total = night_total = 0
    for d in data["drives"]:
        start, end = d["start_time"].astimezone(BUSINESS_TZ), d["end_time"].astimezone(BUSINESS_TZ)
        odo = f"{d['odo_start']:,}–{d['odo_end']:,}" if d.get("odo_start") is not None and \
            d.get("odo_end") is not None else ""
        roads = ", ".join(logbook.ROAD_LABELS.get(r, r) for r in d.get("road_conditions") or [])
        weather = logbook.WEATHER_LABELS.get(d.get("weather") or "", "")
        pdf.row(cols, [au_date_short(start.date()), au_time(start), au_time(end), _hm(d["total_minutes"]),
                       _hm(d["night_minutes"]) if d["night_minutes"] else "-", d["supervisor_name"],
                       d["supervisor_licence_number"], odo, " · ".join(x for x in (roads, weather) if x),
                       "Yes" if d["confirmed"] else "Not yet"])
        day_total += d["day_minutes"]
        night_total += d["night_minutes"]
    if not data["drives"]:
        pdf.font(8.5, color=MUTED)
        pdf.cell(0, 6, pdf.t("No supervised drives logged yet."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.row(cols, ["Total", "", "", _hm(day_total + night_total), _hm(night_total), "", "", "", "", ""],
                bold=True)

    # Lessons
    pdf.section(f"Professional lessons with an accredited instructor ({len(data['lessons'])})")
    lcols = [("Date", 26, "L"), ("Lesson", 16, "R"), ("Start", 18, "L"), ("Finish", 18, "L"), ("Time", 24, "R"),
             ("Instructor", 60, "L"), ("ADI no.", 30, "L")]
    pdf.table_header(lcols)
    minutes = 0
    for ln in data["lessons"]:
        start, end = ln["start_time"].astimezone(BUSINESS_TZ), ln["end_time"].astimezone(BUSINESS_TZ)
        pdf.row(lcols, [au_date_short(start.date()), str(ln["lesson_number"]), au_time(start), au_time(end),
                        _hm(ln["total_minutes"]), f"{ln['first_name']} {ln['last_name']}", ln["adi_number"] or ""])
        minutes += int(ln["total_minutes"] or 0)
    if data["lessons"]:
        pdf.row(lcols, ["Total", "", "", "", _hm(minutes), f"credited {_h(s['credited_hours'])}", ""], bold=True)
    else:
        pdf.font(8.5, color=MUTED)
        pdf.cell(0, 6, pdf.t("No signed lessons yet."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Declaration
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.section("Declaration")
    pdf.font(8.5)
    pdf.multi_cell(0, 4.6, pdf.t(
        "I declare that the supervised driving listed above is a true record of driving I did as a learner "
        "driver, each time supervised by the person named, who held a full driver licence. Professional lessons "
        "are listed from the school's signed lesson records."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    y = pdf.get_y()
    pdf.set_draw_color(*INK)
    for i, label in enumerate(("Learner's signature and date", "Supervising driver's signature, name and date")):
        x = pdf.l_margin + i * 135
        pdf.line(x, y, x + 115, y)
        pdf.set_xy(x, y + 1)
        pdf.font(8, color=MUTED)
        pdf.cell(115, 4, pdf.t(label))
    return bytes(pdf.output())


def logbook_pdf(session: Session, actor: Actor, student_id: uuid.UUID) -> tuple[str, bytes]:
    """(file name, PDF bytes): the learner, a parent with "Progress", the learner's instructor, the office."""
    data = logbook_summary_data(session, actor, student_id)
    learner = data["learner"]
    slug = "-".join(x for x in (learner.get("first_name"), learner.get("last_name")) if x).lower() or "learner"
    slug = "".join(c if c.isalnum() or c == "-" else "-" for c in slug)
    day = data["generated_at"].astimezone(BUSINESS_TZ).date().isoformat()
    return f"logbook-{slug}-{day}.pdf", render(data)


__all__ = ["logbook_pdf", "logbook_summary_data", "render"]
