"""State of ``/instructor/availability``: plain rows only, every change through ``services.schedule``.

The service checks who may change which schedule; this state only picks which
instructor is shown (an instructor: their own; the administrator: ``?instructor=``
or the owner-instructor) and turns service dicts into rows the page can draw.
"""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import reflex as rx

from nexdrive.services.scheduling import schedule
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.state.auth import run_as_actor

# Monday first, as Australian calendars are; values are the stored day numbers (0 = Sunday).
WEEK_ORDER = (1, 2, 3, 4, 5, 6, 0)
PREVIEW_DAYS = 28
AXIS_DEFAULT = (7 * 60, 19 * 60)  # the calendar's time axis covers at least 7 am - 7 pm


@dataclasses.dataclass
class WindowRow:
    start: str = ""
    end: str = ""
    start_error: str = ""
    end_error: str = ""


@dataclasses.dataclass
class DayRow:
    day: int = 0
    name: str = ""
    windows: list[WindowRow] = dataclasses.field(default_factory=list)
    summary: str = ""


@dataclasses.dataclass
class OverrideRow:
    override_id: str = ""
    date: str = ""
    label: str = ""
    kind: str = ""
    kind_label: str = ""
    time_label: str = ""
    reason: str = ""
    holiday: str = ""


@dataclasses.dataclass
class LessonRow:
    booking_id: str = ""
    when: str = ""
    time: str = ""
    learner: str = ""
    service: str = ""


@dataclasses.dataclass
class Bar:
    left: str = "0%"
    width: str = "0%"
    label: str = ""


@dataclasses.dataclass
class CalDay:
    date: str = ""
    label: str = ""
    weekday: str = ""
    status: str = ""  # working / off / holiday / closed
    hours_label: str = ""
    holiday: str = ""
    opened: bool = False
    time_off: bool = False
    extra_hours: bool = False
    is_today: bool = False
    lesson_count: int = 0
    free_slots: int = 0
    week_title: str = ""  # set on the first day of each week
    windows: list[Bar] = dataclasses.field(default_factory=list)
    lessons: list[Bar] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Tick:
    left: str = "0%"
    label: str = ""


def _load(session, actor, wanted: str) -> dict:
    """Everything the page shows, for the instructor the actor may edit."""
    who = schedule.whose_schedule(session, actor, wanted or None)
    iid = who["id"]
    return {
        "instructor_id": str(iid),
        "name": who["name"],
        "role": actor.role,
        "hours": schedule.weekly_hours(session, actor, iid),
        "overrides": schedule.upcoming_overrides(session, actor, iid),
        "calendar": schedule.calendar_preview(session, actor, iid, None, days=PREVIEW_DAYS),
    }


def _week_rows(hours: list[dict]) -> list[DayRow]:
    by_day: dict[int, list[dict]] = {}
    for h in hours:
        by_day.setdefault(h["day_of_week"], []).append(h)
    rows = []
    for day in WEEK_ORDER:
        items = sorted(by_day.get(day, []), key=lambda h: h["start"])
        rows.append(DayRow(day=day, name=schedule.DAY_NAMES[day],
                           windows=[WindowRow(start=h["start"], end=h["end"]) for h in items],
                           summary=", ".join(h["label"] for h in items) or "Not working"))
    return rows


def _pct(minutes: int, lo: int, hi: int) -> str:
    return f"{max(0.0, min(100.0, (minutes - lo) * 100 / (hi - lo))):.2f}%"


def _calendar_rows(days: list[dict]) -> tuple[list[CalDay], list[Tick], dict]:
    lo, hi = AXIS_DEFAULT
    for d in days:
        for w in d["windows"]:
            lo, hi = min(lo, w["start_minute"]), max(hi, w["end_minute"])
        for ls in d["lessons"]:
            lo, hi = min(lo, ls["start_minute"]), max(hi, min(ls["end_minute"], 1440))
    lo, hi = (lo // 60) * 60, min(1440, -(-hi // 60) * 60)
    rows: list[CalDay] = []
    for i, d in enumerate(days):
        title = ""
        if i == 0:
            title = "This week"
        elif d["day_of_week"] == 1:
            title = f"Week of {d['label']}"
        rows.append(CalDay(
            date=d["date"], label=d["label"], weekday=d["weekday"], status=d["status"],
            hours_label=d["hours_label"], holiday=d["holiday"], opened=d["opened"], time_off=d["time_off"],
            extra_hours=d["extra_hours"], is_today=d["is_today"], lesson_count=d["lesson_count"],
            free_slots=d["free_slots"], week_title=title,
            windows=[Bar(_pct(w["start_minute"], lo, hi), _pct(w["end_minute"], lo, hi), w["label"])
                     for w in d["windows"]],
            lessons=[Bar(_pct(ls["start_minute"], lo, hi), _pct(min(ls["end_minute"], 1440), lo, hi),
                         f"{ls['time']} {ls['learner']}") for ls in d["lessons"]],
        ))
    for row in rows:  # widths, not right edges
        for bar in [*row.windows, *row.lessons]:
            bar.width = f"{float(bar.width[:-1]) - float(bar.left[:-1]):.2f}%"
    step = 180 if hi - lo > 10 * 60 else 120
    ticks = []
    m = -(-lo // step) * step
    while m <= hi:
        hour = (m // 60) % 24
        ticks.append(Tick(_pct(m, lo, hi), f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"))
        m += step
    totals = {"hours": round(sum(d["working_minutes"] for d in days) / 60),
              "lessons": sum(d["lesson_count"] for d in days),
              "free": sum(d["free_slots"] for d in days)}
    return rows, ticks, totals


def _lesson_rows(items: list[dict]) -> list[LessonRow]:
    return [LessonRow(booking_id=b["id"], when=b["when"], time=b["time"], learner=b["learner"],
                      service=b["service"]) for b in items]


class AvailabilityState(rx.State):
    loaded: bool = False
    load_error: str = ""
    instructor_id: str = ""
    instructor_name: str = ""
    is_admin: bool = False
    today: str = ""

    # Weekly hours
    week: list[DayRow] = []
    hours_saving: bool = False
    hours_message: str = ""
    hours_error: str = ""
    outside_hours: list[LessonRow] = []

    # Time off and extra hours
    overrides: list[OverrideRow] = []
    off_kind: str = "Time off"
    off_whole_day: bool = True
    off_date: str = ""
    off_start: str = ""
    off_end: str = ""
    off_reason: str = ""
    off_errors: dict[str, str] = {}
    off_saving: bool = False
    off_message: str = ""
    off_error: str = ""
    affected: list[LessonRow] = []
    removing: str = ""

    # Calendar
    calendar: list[CalDay] = []
    ticks: list[Tick] = []
    total_hours: int = 0
    total_lessons: int = 0
    total_free: int = 0

    # ── loading ─────────────────────────────────────────────────────────────
    def _apply(self, data: dict) -> None:
        self.instructor_id = data["instructor_id"]
        self.instructor_name = data["name"]
        self.week = _week_rows(data["hours"])
        self._apply_overrides(data["overrides"])
        self._apply_calendar(data["calendar"])

    def _apply_overrides(self, items: list[dict]) -> None:
        self.overrides = [OverrideRow(override_id=o["id"], date=o["date"], label=o["label"], kind=o["kind"],
                                      kind_label=o["kind_label"], time_label=o["time_label"], reason=o["reason"],
                                      holiday=o["holiday"]) for o in items]

    def _apply_calendar(self, days: list[dict]) -> None:
        self.calendar, self.ticks, totals = _calendar_rows(days)
        self.total_hours, self.total_lessons, self.total_free = totals["hours"], totals["lessons"], totals["free"]

    @rx.event
    async def load(self):
        self.loaded = False
        self.load_error = self.hours_message = self.hours_error = self.off_message = self.off_error = ""
        self.off_errors, self.affected, self.outside_hours = {}, [], []
        self.hours_saving = self.off_saving = False
        self.removing = ""
        self.today = datetime.now(BUSINESS_TZ).date().isoformat()
        wanted = self.router.url.query_parameters.get("instructor", "") or ""
        try:
            data = await run_as_actor(self, lambda s, a: _load(s, a, wanted))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.load_error = exc.message
            self.loaded = True
            return
        self.is_admin = data["role"] == "admin"
        self._apply(data)
        self.loaded = True

    async def _refresh_calendar(self) -> None:
        iid = uuid.UUID(self.instructor_id)
        data = await run_as_actor(self, lambda s, a: {
            "overrides": schedule.upcoming_overrides(s, a, iid),
            "calendar": schedule.calendar_preview(s, a, iid, None, days=PREVIEW_DAYS)})
        self._apply_overrides(data["overrides"])
        self._apply_calendar(data["calendar"])

    # ── weekly hours ────────────────────────────────────────────────────────
    def _edit(self, day: int, fn) -> None:
        """Apply ``fn`` to the row of one day of the week (0 = Sunday; not a list position: nested
        foreach indexes share one name in the rendered page)."""
        week = [dataclasses.replace(d, windows=[dataclasses.replace(w) for w in d.windows]) for d in self.week]
        row = next((d for d in week if d.day == day), None)
        if row is not None:
            fn(row)
        if week != self.week:  # a repeated notification of the same value changes nothing
            self.week = week
            self.hours_message = ""

    @rx.event
    def add_window(self, day: int):
        def add(row: DayRow):
            if len(row.windows) >= schedule.MAX_WINDOWS_PER_DAY:
                return
            last_end = row.windows[-1].end if row.windows else ""
            if not row.windows:
                row.windows.append(WindowRow(start="09:00", end="17:00"))
            elif last_end and last_end <= "21:00":
                h, m = map(int, last_end.split(":"))
                row.windows.append(WindowRow(start=f"{h + 1:02d}:{m:02d}", end=f"{min(h + 3, 23):02d}:{m:02d}"))
            else:
                row.windows.append(WindowRow())
        self._edit(day, add)

    @rx.event
    def remove_window(self, day: int, window_index: int):
        self._edit(day, lambda row: row.windows.pop(window_index) if window_index < len(row.windows) else None)

    @rx.event
    def set_window_start(self, day: int, window_index: int, value: str):
        def put(row: DayRow):
            if window_index < len(row.windows) and row.windows[window_index].start != value:
                row.windows[window_index].start = value
                row.windows[window_index].start_error = ""
        self._edit(day, put)

    @rx.event
    def set_window_end(self, day: int, window_index: int, value: str):
        def put(row: DayRow):
            if window_index < len(row.windows) and row.windows[window_index].end != value:
                row.windows[window_index].end = value
                row.windows[window_index].end_error = ""
        self._edit(day, put)

    def _show_hours_errors(self, exc: ValidationFailed, sent: dict[int, list[int]]) -> None:
        """Put each ``hours.<day>.<n>.start|end`` error next to its field (n counts what was sent)."""
        week = [dataclasses.replace(d, windows=[dataclasses.replace(w) for w in d.windows]) for d in self.week]
        placed_days: list[str] = []
        for item in exc.details.get("fields") or [{"field": exc.details.get("field"), "message": exc.message}]:
            parts = str(item.get("field") or "").split(".")
            if len(parts) == 4 and parts[0] == "hours":
                day, n, which = int(parts[1]), int(parts[2]), parts[3]
                row = next((d for d in week if d.day == day), None)
                indexes = sent.get(day, [])
                if row is not None and n < len(indexes):
                    setattr(row.windows[indexes[n]], f"{which}_error", item["message"])
                    if row.name not in placed_days:
                        placed_days.append(row.name)
        self.week = week
        self.hours_error = (f"Nothing was saved. Please check the times for {' and '.join(placed_days)}."
                            if placed_days else exc.message)

    @rx.event
    async def save_hours(self):
        self.hours_message = self.hours_error = ""
        self.outside_hours = []
        windows: list[tuple[int, str, str]] = []
        sent: dict[int, list[int]] = {}
        week = [dataclasses.replace(d, windows=[dataclasses.replace(w, start_error="", end_error="")
                                                for w in d.windows]) for d in self.week]
        self.week = week
        for d in week:
            for i, w in enumerate(d.windows):
                if not w.start and not w.end:
                    continue  # an empty row is simply not a window
                sent.setdefault(d.day, []).append(i)
                windows.append((d.day, w.start, w.end))
        self.hours_saving = True
        yield
        iid = uuid.UUID(self.instructor_id)
        try:
            result = await run_as_actor(self, lambda s, a: schedule.set_weekly_hours(s, a, iid, windows))
        except AuthRequired:
            self.hours_saving = False
            yield rx.redirect("/sign-in?next=/instructor/availability")
            return
        except ValidationFailed as exc:
            self._show_hours_errors(exc, sent)
            self.hours_saving = False
            return
        except ServiceError as exc:
            self.hours_error = exc.message
            self.hours_saving = False
            return
        self.week = _week_rows(result["hours"])
        self.outside_hours = _lesson_rows(result["outside_hours"])
        self.hours_message = ("Saved. Your new weekly hours apply from today." if result["changed"]
                              else "No changes to save.")
        try:
            await self._refresh_calendar()
        except ServiceError:
            pass
        self.hours_saving = False

    # ── time off and extra hours ────────────────────────────────────────────
    def _off_touched(self, key: str) -> None:
        self.off_message = ""
        if key in self.off_errors:
            self.off_errors = {k: v for k, v in self.off_errors.items() if k != key}

    @rx.event
    def set_off_kind(self, value: str):
        self.off_kind = value if value in ("Time off", "Extra hours") else "Time off"
        self.off_errors, self.off_message, self.off_error = {}, "", ""

    @rx.event
    def set_off_whole_day(self, value: bool):
        self.off_whole_day = bool(value)
        self._off_touched("time.start")
        self._off_touched("time.end")

    @rx.event
    def set_off_date(self, value: str):
        if value != self.off_date:
            self.off_date = value
            self._off_touched("date")

    @rx.event
    def set_off_start(self, value: str):
        if value != self.off_start:
            self.off_start = value
            self._off_touched("time.start")

    @rx.event
    def set_off_end(self, value: str):
        if value != self.off_end:
            self.off_end = value
            self._off_touched("time.end")

    @rx.event
    def set_off_reason(self, value: str):
        if value != self.off_reason:
            self.off_reason = value
            self._off_touched("reason")

    @rx.event
    async def add_override(self):
        self.off_errors, self.off_message, self.off_error, self.affected = {}, "", "", []
        if not self.off_date:
            self.off_errors = {"date": "Please choose a date."}
            return
        extra = self.off_kind == "Extra hours"
        whole = self.off_whole_day and not extra
        day, start, end, reason = self.off_date, self.off_start, self.off_end, self.off_reason
        iid = uuid.UUID(self.instructor_id)
        self.off_saving = True
        yield
        try:
            if extra:
                result = await run_as_actor(self, lambda s, a: schedule.add_extra_hours(s, a, iid, day, start, end,
                                                                                        reason))
            else:
                result = await run_as_actor(self, lambda s, a: schedule.add_time_off(
                    s, a, iid, day, None if whole else start, None if whole else end, reason))
        except AuthRequired:
            self.off_saving = False
            yield rx.redirect("/sign-in?next=/instructor/availability")
            return
        except ValidationFailed as exc:
            field = exc.details.get("field") or ""
            if field in ("date", "time.start", "time.end", "reason"):
                self.off_errors = {field: exc.message}
            else:
                self.off_error = exc.message
            self.off_saving = False
            return
        except ServiceError as exc:
            self.off_error = exc.message
            self.off_saving = False
            return
        o = result["override"]
        if extra:
            self.off_message = (f"Extra hours added: {o['label']}, {o['time_label']}."
                                + (f" {result['public_holiday']} is now open for bookings."
                                   if result.get("public_holiday") else ""))
        else:
            self.affected = _lesson_rows(result["affected"])
            self.off_message = f"Time off added: {o['label']}, {o['time_label'].lower()}."
        self.off_date = self.off_start = self.off_end = self.off_reason = ""
        try:
            await self._refresh_calendar()
        except ServiceError:
            pass
        self.off_saving = False

    @rx.event
    async def remove_override(self, override_id: str):
        self.off_message, self.off_error, self.affected = "", "", []
        self.removing = override_id
        yield
        try:
            view = await run_as_actor(self, lambda s, a: schedule.remove_override(s, a, override_id))
        except AuthRequired:
            self.removing = ""
            yield rx.redirect("/sign-in?next=/instructor/availability")
            return
        except ServiceError as exc:
            self.off_error = exc.message
            self.removing = ""
            return
        self.off_message = f"Removed: {view['kind_label'].lower()} on {view['label']}."
        try:
            await self._refresh_calendar()
        except ServiceError:
            pass
        self.removing = ""
