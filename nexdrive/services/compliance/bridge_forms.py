"""The lesson bridge form (spec C25): after a signed lesson, a page and a PDF for the learner and the person
who supervises their practice drives: the skills covered with their status, the instructor's words (what
went well, what to practise, focus areas, next lesson) and, per task, what the supervising driver can
practise with the learner, each task linked to its page in the Competency Hub (``/hub/<slug>``).

Public functions:

* ``hub_slug(task_number, name)``: the Hub's page slug of a task (``task-1-controls``, ``review-1``);
* ``practice_tip(task_number)``: the default suggestion for the supervising driver;
* ``get_bridge_form(session, actor, form_id)`` / ``latest_bridge_form(session, actor, student_id)`` /
  ``list_bridge_forms(session, actor, student_id)``: the form as plain data, for whoever may see it;
* ``bridge_form_for_lesson(session, actor, lesson_id)``: the form of one lesson (or None);
* ``bridge_form_pdf(session, actor, form_id)``: ``(filename, PDF bytes)`` (fpdf2);
* ``send_bridge_form(session, actor, form_id)``: the learner and each parent allowed to see bridge forms
  get the link by email and SMS (``bridge_form_ready``; their notification preferences apply when the
  dispatcher sends); sending twice queues nothing new.

Who sees a form: the office; the learner's instructor (or the one who wrote it); the learner (forms marked
visible to them); a parent whose active link has "Practice guides" (``can_view_bridge_forms``) on, for
forms marked visible to parents. Learners and parents see only forms of signed lessons. No private note
is ever part of a bridge form.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fpdf import FPDF
from sqlmodel import Session, select

from nexdrive.errors import Forbidden, NotFound
from nexdrive.formats import au_date, au_time, e164_au_phone
from nexdrive.models import Lesson, LessonBridgeForm, Profile, Student
from nexdrive.services.core import access, audit
from nexdrive.services.core.actors import Actor
from nexdrive.services.messaging import notify

__all__ = ["PRACTICE_TIPS", "bridge_form_for_lesson", "bridge_form_pdf", "get_bridge_form", "hub_slug",
           "hub_url", "latest_bridge_form", "list_bridge_forms", "page_url", "pdf_url", "practice_tip",
           "send_bridge_form"]

SIGNED = ("completed", "disputed")
REVIEWS = {101: "review-1", 102: "review-2"}

# What a supervising driver can practise with the learner, per task (ACT CBT&A catalogue numbering).
PRACTICE_TIPS: dict[int, str] = {
    1: "Before moving, name each control and say what it does; practise smooth use of the pedals in a car park.",
    2: "Run the cabin drill every time: doors, seat, mirrors, seatbelt, handbrake, neutral or park.",
    3: "Practise the starting-up routine in a quiet place until it is the same every time.",
    4: "Move off from the kerb on quiet streets: mirrors, signal, head check, then go smoothly.",
    5: "Change gears on a quiet road: smooth clutch, right gear for the speed, eyes up.",
    6: "Steer with both hands (pull-push) around gentle curves, looking where you want to go.",
    7: "Practise left and right turns at quiet intersections: slow early, signal, position, look, turn.",
    8: "Hold a steady speed at the limit on suburban roads; check the speedometer often.",
    9: "Slow down early and smoothly before corners and stops; no late braking.",
    10: "Stop smoothly at a chosen line or kerb; practise stopping at stop signs with a full stop.",
    11: "Find a gentle hill on a quiet street: hold the car, move off without rolling back.",
    12: "Talk through who gives way at each intersection and roundabout before you reach it.",
    13: "Reverse in a straight line in a quiet car park, looking over the shoulder, at walking pace.",
    14: "Park front-on in an empty car park between two bays, then between cars.",
    15: "Practise reverse parallel parking beside the kerb on a quiet street, slowly.",
    16: "Practise U-turns where legal and quiet: check every direction, one smooth turn.",
    17: "Practise the three-point turn on a wide, quiet street: full observation each time you move.",
    18: "Practise lane changes and merging on multi-lane roads: mirror, signal, head check, gap.",
    19: "On a rural road, discuss when overtaking would be safe; overtake only with a long clear view.",
    20: "Play 'what could happen here': the learner names hazards aloud as they drive.",
    21: "Practise the system of car control on every approach: position, speed, gear, acceleration.",
    22: "Drive near schools, shops and cycle lanes at low speed, watching for people on foot and on bikes.",
    23: "Drive on busy and unfamiliar roads at different times of day, with the learner planning the route.",
    101: "Drive a mix of the first 17 tasks on familiar roads, with as little help as possible.",
    102: "Drive a mix of all 22 tasks on varied roads, with the learner making every decision.",
}

STATUS_WORDS = {"Taught": "taught in this lesson", "Assessed": "assessed, not yet competent: keep practising",
                "Achieved": "assessed and achieved (competent)"}


def hub_slug(task_number: int, name: str | None = None) -> str:
    """The Competency Hub's slug of a task: ``task-<n>-<name in lowercase words>`` (``task-1-controls``,
    ``task-7-turns-left-and-right``); the reviews are ``review-1`` and ``review-2``."""
    n = int(task_number)
    if n in REVIEWS:
        return REVIEWS[n]
    words = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")
    return f"task-{n}-{words}" if words else f"task-{n}"


def hub_url(task_number: int, name: str | None = None) -> str:
    return f"/hub/{hub_slug(task_number, name)}"


def practice_tip(task_number: int) -> str:
    return PRACTICE_TIPS.get(int(task_number), "Practise this task on quiet roads first, then busier ones.")


def page_url(form_id: uuid.UUID | str) -> str:
    return f"/lessons/bridge?id={form_id}"


def pdf_url(form_id: uuid.UUID | str) -> str:
    return f"/api/v1/bridge-forms/{form_id}/pdf"


# ─────────────────────────────────────────────────────────────────────────────
# Who may see a form
# ─────────────────────────────────────────────────────────────────────────────


def _visible(session: Session, actor: Actor, form: LessonBridgeForm, lesson: Lesson | None) -> bool:
    if actor.sees_everything:
        return True
    if actor.is_instructor:
        return actor.instructor_id is not None and (
            form.instructor_id == actor.instructor_id
            or access.can_access_student(session, actor, form.student_id, "bridge_forms"))
    if not actor.is_family or lesson is None or lesson.status not in SIGNED:
        return False
    if actor.is_student and not form.is_visible_to_student:
        return False
    if actor.is_parent and not form.is_visible_to_parent:
        return False
    return access.can_access_student(session, actor, form.student_id, "bridge_forms")


def _load(session: Session, actor: Actor, form_id: uuid.UUID) -> tuple[LessonBridgeForm, Lesson | None]:
    access.require_signed_in(actor)
    form = session.get(LessonBridgeForm, form_id)
    lesson = session.get(Lesson, form.lesson_id) if form is not None else None
    access.require_visible(actor, form, form is not None and _visible(session, actor, form, lesson), "bridge form")
    return form, lesson


def _person(session: Session, profile_id: uuid.UUID | None) -> Profile | None:
    return session.get(Profile, profile_id) if profile_id else None


def _full_name(p: Profile | None, default: str) -> str:
    return f"{p.first_name or ''} {p.last_name or ''}".strip() if p else default


def _view(session: Session, form: LessonBridgeForm, lesson: Lesson | None) -> dict[str, Any]:
    student = session.get(Student, form.student_id)
    learner = _person(session, student.profile_id if student else None)
    instructor_name = session.execute(sa.text(
        "SELECT p.first_name || ' ' || p.last_name FROM instructors i JOIN profiles p ON p.id = i.profile_id "
        "WHERE i.id = :i"), {"i": form.instructor_id}).scalar() or "Your instructor"
    skills = []
    for s in form.skills_covered or []:
        n = int(s.get("task_number") or 0)
        name = s.get("task_name") or f"Task {n}"
        status = s.get("status") or ""
        skills.append({"task_number": n, "task_name": name, "status": status,
                       "status_text": STATUS_WORDS.get(status, status.lower()),
                       "hub_slug": hub_slug(n, name), "hub_url": hub_url(n, name), "practice": practice_tip(n)})
    when = ""
    if lesson is not None:
        when = f"{au_date(lesson.start_time)}, {au_time(lesson.start_time)} \u2013 {au_time(lesson.end_time)}"
    return {
        "id": str(form.id), "lesson_id": str(form.lesson_id), "student_id": str(form.student_id),
        "learner_name": _full_name(learner, "The learner"), "learner_first_name": (learner.first_name if learner
                                                                                   else "") or "",
        "instructor_name": instructor_name,
        "lesson_number": lesson.lesson_number if lesson else None,
        "lesson_date": lesson.lesson_date.isoformat() if lesson else "",
        "lesson_date_label": au_date(lesson.start_time) if lesson else "", "when": when,
        "lesson_signed": bool(lesson is not None and lesson.status in SIGNED),
        "skills": skills, "went_well": form.positives or "", "practise": form.practice_instructions or "",
        "focus": form.focus_areas or "", "next_lesson": form.next_lesson_recommendation or "",
        "created_at": form.created_at.isoformat() if form.created_at else "",
        "page_url": page_url(form.id), "pdf_url": pdf_url(form.id),
    }


# ─────────────────────────────────────────────────────────────────────────────
# Reading
# ─────────────────────────────────────────────────────────────────────────────


def get_bridge_form(session: Session, actor: Actor, form_id: uuid.UUID) -> dict[str, Any]:
    """One bridge form as plain data, for whoever may see it (Forbidden otherwise; NotFound for the office)."""
    form, lesson = _load(session, actor, form_id)
    return _view(session, form, lesson)


def _visible_query(session: Session, actor: Actor, student_id: uuid.UUID):
    access.require_student(session, actor, student_id, "bridge_forms")
    query = (select(LessonBridgeForm, Lesson).join(Lesson, Lesson.id == LessonBridgeForm.lesson_id)
             .where(LessonBridgeForm.student_id == student_id))
    if actor.is_family:
        query = query.where(Lesson.status.in_(SIGNED))
        if actor.is_student:
            query = query.where(LessonBridgeForm.is_visible_to_student.is_(True))
        else:
            query = query.where(LessonBridgeForm.is_visible_to_parent.is_(True))
    return query.order_by(Lesson.start_time.desc(), LessonBridgeForm.created_at.desc())


def list_bridge_forms(session: Session, actor: Actor, student_id: uuid.UUID, *, limit: int = 50) -> list[dict]:
    """The learner's bridge forms, newest lesson first."""
    rows = session.exec(_visible_query(session, actor, student_id).limit(max(1, min(int(limit), 200)))).all()
    return [_view(session, f, lesson) for f, lesson in rows]


def latest_bridge_form(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any] | None:
    """The bridge form of the learner's latest lesson that has one (None when there is none)."""
    row = session.exec(_visible_query(session, actor, student_id).limit(1)).first()
    return _view(session, row[0], row[1]) if row else None


def bridge_form_for_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID) -> dict[str, Any] | None:
    form_id = session.exec(select(LessonBridgeForm.id).where(LessonBridgeForm.lesson_id == lesson_id)).first()
    return get_bridge_form(session, actor, form_id) if form_id else None


# ─────────────────────────────────────────────────────────────────────────────
# Sending: the learner and the parents allowed to see bridge forms
# ─────────────────────────────────────────────────────────────────────────────


def recipients(session: Session, form: LessonBridgeForm) -> list[dict[str, Any]]:
    """Who gets the link: the learner (form visible to them) and each parent with an active link, the learner
    letting parents see things and the "Practice guides" switch on (form visible to parents)."""
    out = []
    student = session.get(Student, form.student_id)
    if student is None:
        return out
    if form.is_visible_to_student:
        p = _person(session, student.profile_id)
        if p is not None:
            out.append({"user_id": student.user_id, "email": p.email, "phone": p.phone, "first_name": p.first_name,
                        "role": "student"})
    if form.is_visible_to_parent and student.parent_visibility:
        rows = session.execute(sa.text("""
            SELECT pa.user_id, p.email, p.phone, p.first_name FROM parent_student_links l
            JOIN parents pa ON pa.id = l.parent_id JOIN profiles p ON p.id = pa.profile_id
            WHERE l.student_id = :s AND l.status = 'active' AND l.can_view_bridge_forms
            ORDER BY l.created_at"""), {"s": form.student_id}).all()
        out.extend({"user_id": r.user_id, "email": r.email, "phone": r.phone, "first_name": r.first_name,
                    "role": "parent"} for r in rows)
    return out


def send_bridge_form(session: Session, actor: Actor, form_id: uuid.UUID) -> dict[str, Any]:
    """Queue the link to the learner and their parents (email and SMS, per their preferences at send time).
    The instructor of the lesson or the office; only a signed lesson's form; twice is once."""
    form, lesson = _load(session, actor, form_id)
    if not (actor.sees_everything or (actor.is_instructor and actor.instructor_id == form.instructor_id)):
        raise Forbidden("Only the lesson's instructor or the office can send its bridge form.")
    if lesson is None or lesson.status not in SIGNED:
        raise NotFound("The lesson is not signed yet: the bridge form goes out once both have signed.")
    view = _view(session, form, lesson)
    url = notify.public_url(page_url(form.id))
    queued = 0
    people = recipients(session, form)
    for person in people:
        to = {k: person.get(k) for k in ("user_id", "email", "first_name")}
        to["phone"] = notify_phone(person.get("phone"))
        key = f"bridge_form_ready:{form.id}:{person.get('user_id') or person.get('email')}"
        queued += len(notify.queue_message(
            session, "bridge_form_ready", to=to, idempotency_key=key, related_type="lesson_bridge_form",
            related_id=form.id,
            data={"when": view["lesson_date_label"], "url": url,
                  "learner_first_name": person["first_name"] if person["role"] == "student" else None}))
    audit.record_event(session, actor, "bridge_form.sent", subject_type="lesson_bridge_form", subject_id=form.id,
                       details={"recipients": len(people)})
    return {"id": str(form.id), "recipients": len(people), "messages": queued, "url": url}


def notify_phone(raw: str | None) -> str | None:
    return e164_au_phone(raw) or None


# ─────────────────────────────────────────────────────────────────────────────
# The PDF (fpdf2)
# ─────────────────────────────────────────────────────────────────────────────

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2022": "-", "\u2026": "...", "\u00a0": " "})


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.family_name, self.unicode = "Helvetica", False
        for folder in _FONT_DIRS:
            regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
            if regular.is_file() and bold.is_file():
                self.add_font("Body", "", str(regular))
                self.add_font("Body", "B", str(bold))
                self.family_name, self.unicode = "Body", True
                break
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)

    def t(self, text: Any) -> str:
        value = "" if text is None else str(text)
        if self.unicode:
            return value
        return value.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)

    def para(self, text: str, size: float = 10.5, bold: bool = False, h: float = 5.5) -> None:
        self.font(size, bold)
        self.multi_cell(0, h, self.t(text), new_x="LMARGIN", new_y="NEXT")


def bridge_form_pdf(session: Session, actor: Actor, form_id: uuid.UUID) -> tuple[str, bytes]:
    """The form as a PDF: ``(filename, bytes)``, for whoever may see the form."""
    form, lesson = _load(session, actor, form_id)
    v = _view(session, form, lesson)
    base = notify.public_url("")
    pdf = _Pdf()
    pdf.set_title(f"Bridge form - {v['learner_name']}")
    pdf.add_page()
    pdf.set_text_color(11, 92, 173)
    pdf.para(notify.business_facts(session)["business_name"], 16, True, 8)
    pdf.set_text_color(33, 37, 41)
    pdf.para("Notes for the supervising driver", 13, True, 7)
    pdf.para(f"{v['learner_name']} \u00b7 lesson {v['lesson_number'] or ''} \u00b7 {v['when']}")
    pdf.para(f"Instructor: {v['instructor_name']}")
    pdf.ln(3)
    for title, key in (("What went well", "went_well"), ("What to practise", "practise"),
                       ("Focus areas", "focus"), ("Next lesson", "next_lesson")):
        if v[key]:
            pdf.para(title, 11.5, True, 6)
            pdf.para(v[key])
            pdf.ln(2)
    pdf.para("Skills covered and how to practise them", 11.5, True, 6)
    if not v["skills"]:
        pdf.para("No tasks were marked in this lesson.")
    for s in v["skills"]:
        pdf.para(f"{s['task_number'] if s['task_number'] < 100 else ''} {s['task_name']}: {s['status_text']}".strip(),
                 10.5, True)
        pdf.para(f"Practice: {s['practice']}")
        pdf.set_text_color(11, 92, 173)
        pdf.font(9)
        link = base + s["hub_url"]
        pdf.cell(0, 5, pdf.t(link), link=link, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(33, 37, 41)
        pdf.ln(1.5)
    pdf.ln(2)
    pdf.para("Practise only with a fully licensed supervising driver, with L plates displayed, and record every "
             "drive in the log book.", 8.5)
    name = re.sub(r"[^A-Za-z0-9]+", "-", v["learner_name"]).strip("-") or "learner"
    return f"bridge-form-{name}-{v['lesson_date'] or 'lesson'}.pdf", bytes(pdf.output())
