"""State of the parents' centre ``/parent`` (see ``dashboard.py``): plain data reloaded from
``compliance.parent_centre`` on every visit, learner switch and handler."""
from __future__ import annotations

import dataclasses
import uuid

import reflex as rx

from nexdrive.errors import ServiceError
from nexdrive.formats import au_date, aud
from nexdrive.pages.account._display import BookingRow, LessonRow, lesson_rows, upcoming_bookings
from nexdrive.services.compliance import logbook, parent_centre
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import run_as_actor


@dataclasses.dataclass
class GuideItem:
    label: str = ""
    name: str = ""
    path: str = ""
    status_label: str = ""
    detail: str = ""
    tips: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class BridgeRow:
    date: str = ""
    skills: str = ""
    positives: str = ""
    practice: str = ""
    focus: str = ""
    next_lesson: str = ""
    page_url: str = ""
    pdf_url: str = ""


@dataclasses.dataclass
class DriveRow:
    drive_id: str = ""
    when: str = ""
    duration: str = ""
    supervisor: str = ""
    confirmed: bool = False
    can_confirm: bool = False


def _minutes(m: int) -> str:
    h, r = divmod(int(m or 0), 60)
    return f"{h} h {r:02d} min" if h else f"{r} min"


class ParentCentreState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    first_name: str = ""
    learners: list[dict[str, str]] = []  # student_id, name, relationship
    selected: str = ""
    selected_name: str = ""
    has_progress: bool = False
    has_lessons: bool = False
    notes_shared: bool = False
    has_bridge: bool = False
    has_bookings: bool = False
    has_payments: bool = False
    has_drives: bool = False
    can_book: bool = False
    progress_summary: str = ""
    progress_rows: list[dict[str, str]] = []  # label, name, status, status_label, detail, path, next
    guide: list[GuideItem] = []
    lessons: list[LessonRow] = []
    bridge: list[BridgeRow] = []
    bookings: list[BookingRow] = []
    payments: list[dict[str, str]] = []
    drives: list[DriveRow] = []
    hours: str = ""

    def _clear(self) -> None:
        self.has_progress = self.has_lessons = self.notes_shared = self.has_bridge = False
        self.has_bookings = self.has_payments = self.has_drives = self.can_book = False
        self.progress_summary = self.hours = ""
        self.progress_rows, self.guide, self.lessons, self.bridge = [], [], [], []
        self.bookings, self.payments, self.drives = [], [], []

    async def _refresh(self, wanted: str = "") -> None:
        """Reload the learners and the chosen learner's views from the services."""
        self.error = ""

        def work(session, actor):
            learners = parent_centre.linked_learners(session, actor)
            ids = [str(x["student_id"]) for x in learners]
            chosen = wanted if wanted in ids else (ids[0] if ids else "")
            centre = parent_centre.learner_centre(session, actor, uuid.UUID(chosen)) if chosen else None
            first_name = (accounts.get_me(session, actor).get("profile") or {}).get("first_name") or ""
            return learners, chosen, centre, first_name

        try:
            learners, chosen, centre, self.first_name = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self._clear()
            self.error = exc.message
            self.loaded = True
            return
        self.learners = [{"student_id": str(x["student_id"]), "name": x["name"],
                          "relationship": x["relationship"]} for x in learners]
        self.selected = chosen
        self.selected_name = next((x["name"] for x in self.learners if x["student_id"] == chosen), "")
        self._clear()
        if centre is not None:
            self._apply(centre)
        self.loaded = True

    def _apply(self, c: dict) -> None:
        if c["progress"] is not None:
            p = c["progress"]
            self.has_progress = True
            self.progress_summary = f"{p['competent']} of {p['total']} tasks competent" + (
                f", {len(p['reviews_passed'])} of 2 reviews passed" if p["reviews_passed"] else "")
            self.progress_rows = [{"label": r["label"], "name": r["name"], "status": r["status"],
                                   "status_label": r["status_label"], "detail": r["detail"], "path": r["path"],
                                   "next": "yes" if r["is_next"] else ""} for r in p["rows"]]
        if c["guide"] is not None:
            self.guide = [GuideItem(label=g["label"], name=g["name"], path=g["path"],
                                    status_label=g["status_label"], detail=g["detail"], tips=list(g["tips"]))
                          for g in c["guide"]]
        if c["lessons"] is not None:
            self.has_lessons = True
            self.lessons = lesson_rows(c["lessons"], limit=20)
        self.notes_shared = bool(c["lesson_notes"])
        if c["bridge_forms"] is not None:
            self.has_bridge = True
            self.bridge = [BridgeRow(date=b["date"], skills=", ".join(b["skills"]), positives=b["positives"],
                                     practice=b["practice_instructions"], focus=b["focus_areas"],
                                     next_lesson=b["next_lesson_recommendation"], page_url=b["page_url"],
                                     pdf_url=b["pdf_url"]) for b in c["bridge_forms"]]
        if c["bookings"] is not None:
            self.has_bookings = True
            self.bookings = upcoming_bookings(c["bookings"])
        if c["payments"] is not None:
            self.has_payments = True
            self.payments = [{"date": au_date(p["created_at"], weekday=False), "amount": aud(p["amount_cents"]),
                              "status": str(p["status"]).replace("_", " ").capitalize(),
                              "description": p.get("description") or "Payment"} for p in c["payments"]]
        if c["drives"] is not None:
            self.has_drives = True
            self.drives = [DriveRow(drive_id=str(d["id"]), when=d["when"], duration=_minutes(d["minutes"]) + (
                f" ({_minutes(d['night_minutes'])} at night)" if d["night_minutes"] else ""),
                supervisor=d["supervisor"] or "", confirmed=bool(d["confirmed"]), can_confirm=bool(d["can_confirm"]))
                for d in (parent_centre.drive_row(x) for x in c["drives"])]
            h = c["hours"] or {}
            if h:
                self.hours = (f"{h['total_hours']:g} of {h['target_total_hours']} hours logged "
                              f"({h['night_hours']:g} of {h['target_night_hours']} at night)")
        self.can_book = bool(c["can_book"])

    @rx.event
    async def load(self):
        self.loaded, self.notice = False, ""
        await self._refresh(self.router.url.query_parameters.get("learner", "") or self.selected)

    @rx.event
    async def choose(self, student_id: str):
        self.notice = ""
        await self._refresh(student_id)

    @rx.event
    async def confirm_drive(self, drive_id: str):
        self.notice = ""
        try:
            await run_as_actor(self, lambda s, a: logbook.confirm_drive(s, a, uuid.UUID(drive_id)))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.notice = exc.message
        else:
            self.notice = "Drive confirmed. Thank you for supervising."
        await self._refresh(self.selected)

