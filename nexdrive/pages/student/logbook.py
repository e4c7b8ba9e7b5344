"""The learner's log book ``/student/logbook``, on a phone: add a supervised drive quickly.

* A start/stop timer kept in the browser's ``localStorage`` (written on the phone itself when Start is
  tapped, so a reload or a lost signal does not lose the drive); Stop fills in the times.
* Or the times typed afterwards.
* The supervisor is one of the linked parents (who then confirms the drive from their own account) or
  typed: name and licence number.
* Day and night minutes are computed by the log-book service (``compliance.logbook.add_drive``) and shown.
* The printable summary is ``GET /api/v1/students/{id}/logbook/pdf`` (``compliance.logbook_pdf``).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time

import reflex as rx

from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_time
from nexdrive.pages.student.views.drive_form import logbook_page_body
from nexdrive.services.compliance import logbook
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/student/logbook"
TITLE = "Your log book | NexDrive Academy"
DESCRIPTION = "Log supervised driving with a timer or typed times, see your day and night hours and print a summary."
TIMER_KEY = "nxd_drive_timer"
DONE_KEY = "nxd_drive_timer_done"
OTHER = "other"

START_JS = (f"(function(){{var t=localStorage.getItem('{TIMER_KEY}')||new Date().toISOString();"
            f"localStorage.setItem('{TIMER_KEY}',t);return t;}})()")
STOP_JS = (f"(function(){{var s=localStorage.getItem('{TIMER_KEY}');if(!s)return null;"
           f"var d={{start:s,end:new Date().toISOString()}};localStorage.setItem('{DONE_KEY}',JSON.stringify(d));"
           f"localStorage.removeItem('{TIMER_KEY}');return d;}})()")
RESTORE_JS = (f"(function(){{var d=null;try{{d=JSON.parse(localStorage.getItem('{DONE_KEY}')||'null');}}"
              f"catch(e){{d=null;}}return {{running:localStorage.getItem('{TIMER_KEY}')||'',done:d}};}})()")
CLEAR_DONE_JS = f"localStorage.removeItem('{DONE_KEY}')"
DISCARD_JS = f"localStorage.removeItem('{TIMER_KEY}');localStorage.removeItem('{DONE_KEY}')"
# Ticks the elapsed time on the page from the stored start (the server is not asked every second).
TICK_JS = (f"(function(){{if(window.__nxdDriveTick)return;window.__nxdDriveTick=setInterval(function(){{"
           f"var el=document.getElementById('drive-timer-elapsed');var s=localStorage.getItem('{TIMER_KEY}');"
           f"if(!el||!s)return;var m=Math.max(0,Math.floor((Date.now()-Date.parse(s))/1000));"
           f"var h=Math.floor(m/3600),mi=Math.floor(m%3600/60),se=m%60;"
           f"el.textContent=(h?h+' h ':'')+String(mi).padStart(2,'0')+' min '+String(se).padStart(2,'0')+' s';"
           f"}},1000);}})()")


def _minutes(m: int) -> str:
    h, mi = divmod(int(m or 0), 60)
    return f"{h} h {mi:02d} min" if h else f"{mi} min"


def _parse_instant(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return dt if dt.tzinfo else None


def _drive_row(d: dict) -> dict[str, str]:
    if d["confirmed"]:
        status = "Confirmed by the supervisor"
    elif d["supervisor_parent_id"]:
        status = f"Waiting for {d['supervisor_name']} to confirm"
    else:
        status = "Typed supervisor"
    return {"id": str(d["id"]), "when": d["when"], "total": _minutes(d["total_minutes"]),
            "night": _minutes(d["night_minutes"]) if d["night_minutes"] else "none",
            "supervisor": f"{d['supervisor_name']} ({d['supervisor_licence_number']})", "status": status,
            "confirmed": "1" if d["confirmed"] else "", "can_edit": "1" if d["can_edit"] else "",
            "roads": ", ".join(logbook.ROAD_LABELS.get(r, r) for r in d["road_conditions"])}


def _load(session, actor) -> dict:
    sid = actor.student_id
    return {"student_id": sid, "summary": logbook.logbook_summary(session, actor, sid),
            "drives": logbook.list_drives(session, actor, sid, limit=100),
            "supervisors": logbook.linked_supervisors(session, actor, sid)}


class LogbookState(rx.State):
    loaded: bool = False
    student_id: str = ""
    error: str = ""
    message: str = ""
    hours: dict[str, str] = {}
    drives: list[dict[str, str]] = []
    supervisors: list[dict[str, str]] = []
    # The timer (the start lives in the browser's localStorage; this is a copy for the page)
    timer_start: str = ""
    timer_label: str = ""
    # The form
    form_open: bool = False
    from_timer: bool = False
    day: str = ""
    start: str = ""
    end: str = ""
    supervisor: str = ""
    supervisor_name: str = ""
    licence: str = ""
    field_errors: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False
    _licences: dict[str, str] = {}

    async def _reload(self) -> None:
        data = await run_as_actor(self, _load)
        self.student_id = str(data["student_id"])
        s = data["summary"]
        self.hours = {"total": f"{s['total_hours']:g}", "target": str(s["target_total_hours"]),
                      "night": f"{s['night_hours']:g}", "night_target": str(s["target_night_hours"]),
                      "supervised": f"{s['supervised_hours']:g}", "day": f"{s['supervised_day_hours']:g}",
                      "sup_night": f"{s['supervised_night_hours']:g}", "credited": f"{s['credited_hours']:g}",
                      "unconfirmed": str(s["unconfirmed_drives"])}
        self.drives = [_drive_row(d) for d in data["drives"]]
        self.supervisors = [{"id": str(p["parent_id"]), "name": p["name"]} for p in data["supervisors"]]
        self._licences = {}
        for d in reversed(data["drives"]):  # the licence number last used with each linked parent
            if d["supervisor_parent_id"]:
                self._licences[str(d["supervisor_parent_id"])] = d["supervisor_licence_number"]

    @rx.event
    async def load(self):
        self.loaded, self.error, self.message = False, "", ""
        self.form_open = False
        try:
            await self._reload()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
        self.loaded = True
        yield rx.call_script(RESTORE_JS, callback=LogbookState.restore_timer)

    # ── timer ──
    @rx.event
    def restore_timer(self, value: dict | None):
        value = value or {}
        running = value.get("running") or ""
        self._set_running(running)
        done = value.get("done")
        if not running and isinstance(done, dict) and done.get("start") and done.get("end"):
            self._fill_from(done["start"], done["end"])
        if running:
            return rx.call_script(TICK_JS)
        return None

    def _set_running(self, iso: str) -> None:
        start = _parse_instant(iso) if iso else None
        self.timer_start = iso if start else ""
        self.timer_label = f"Started at {au_time(start)}" if start else ""

    @rx.event
    def timer_started(self, iso: str):
        self.message = ""
        self._set_running(iso or "")
        return rx.call_script(TICK_JS)

    @rx.event
    def timer_stopped(self, value: dict | None):
        self._set_running("")
        if isinstance(value, dict) and value.get("start") and value.get("end"):
            self._fill_from(value["start"], value["end"])

    def _fill_from(self, start_iso: str, end_iso: str) -> None:
        start, end = _parse_instant(start_iso), _parse_instant(end_iso)
        if start is None or end is None:
            return
        s, e = start.astimezone(BUSINESS_TZ), end.astimezone(BUSINESS_TZ)
        self.day, self.start, self.end = s.date().isoformat(), f"{s:%H:%M}", f"{e:%H:%M}"
        self.form_open, self.from_timer = True, True
        self._default_supervisor()

    @rx.event
    def discard_timer(self):
        self._set_running("")
        self.form_open = self.from_timer = False
        return rx.call_script(DISCARD_JS)

    # ── form ──
    def _default_supervisor(self) -> None:
        if not self.supervisor:
            self._choose(self.supervisors[0]["id"] if self.supervisors else OTHER)

    def _choose(self, value: str) -> None:
        self.supervisor = value
        if value != OTHER and value in self._licences:
            self.licence = self._licences[value]

    @rx.event
    def open_form(self):
        self.form_open, self.from_timer, self.message = True, False, ""
        self.field_errors, self.form_error = {}, ""
        self._default_supervisor()

    @rx.event
    def close_form(self):
        self.form_open = False

    @rx.event
    def set_day(self, value: str):
        self.day = value

    @rx.event
    def set_start(self, value: str):
        self.start = value

    @rx.event
    def set_end(self, value: str):
        self.end = value

    @rx.event
    def set_supervisor_choice(self, value: str):
        self._choose(value)

    @rx.event
    def set_supervisor_name(self, value: str):
        self.supervisor_name = value

    @rx.event
    def set_licence(self, value: str):
        self.licence = value

    def _times(self) -> tuple[datetime, datetime] | None:
        errors = {}
        try:
            day = date.fromisoformat(self.day)
        except ValueError:
            errors["day"] = "Choose the day of the drive."
            day = None
        parsed = {}
        for key in ("start", "end"):
            try:
                parsed[key] = time.fromisoformat(getattr(self, key))
            except ValueError:
                errors[key] = "Enter the time, e.g. 16:30."
        if errors:
            self.field_errors = {**self.field_errors, **errors}
            return None
        start = datetime.combine(day, parsed["start"])
        end = datetime.combine(day, parsed["end"])
        if end <= start:  # a drive past midnight ends the next day
            end = datetime.combine(date.fromordinal(day.toordinal() + 1), parsed["end"])
        return start, end

    @rx.event
    async def save(self, form_data: dict):
        self.field_errors, self.form_error, self.message = {}, "", ""
        times = self._times()
        if times is None:
            return
        parent_id = None
        if self.supervisor and self.supervisor != OTHER:
            try:
                parent_id = uuid.UUID(self.supervisor)
            except ValueError:
                parent_id = None
        roads = [r for r in logbook.ROAD_LABELS if form_data.get(f"road_{r}") in ("on", True, "true")]
        data = logbook.DriveInput(
            start_time=times[0], end_time=times[1], supervisor_licence_number=self.licence,
            supervisor_parent_id=parent_id, supervisor_name=self.supervisor_name if parent_id is None else None,
            road_conditions=roads, weather=form_data.get("weather") or None, notes=form_data.get("notes") or None)
        self.saving = True
        yield
        try:
            sid = uuid.UUID(self.student_id)
            saved = await run_as_actor(self, lambda s, a: logbook.add_drive(s, a, sid, data))
            await self._reload()
        except ValidationFailed as exc:
            name = exc.details.get("field") or ""
            key = {"start_time": "start", "end_time": "end", "supervisor_name": "supervisor_name",
                   "supervisor_licence_number": "licence", "supervisor_parent_id": "supervisor"}.get(name)
            if key:
                self.field_errors = {key: exc.message}
            else:
                self.form_error = exc.message
        except ServiceError as exc:
            self.form_error = exc.message
        else:
            night = _minutes(saved["night_minutes"]) if saved["night_minutes"] else "none"
            self.message = (f"Drive saved: {_minutes(saved['total_minutes'])}, of which at night: {night}."
                            + (f" {saved['supervisor_name']} can confirm it from their account."
                               if saved["supervisor_parent_id"] else ""))
            self.form_open = self.from_timer = False
            self.day = self.start = self.end = ""
            yield rx.call_script(CLEAR_DONE_JS)
        self.saving = False

    @rx.event
    async def delete(self, drive_id: str):
        self.message = self.error = ""
        try:
            did = uuid.UUID(drive_id)
            await run_as_actor(self, lambda s, a: logbook.delete_drive(s, a, did))
            await self._reload()
        except (ValueError, ServiceError) as exc:
            self.error = getattr(exc, "message", "That drive could not be deleted.")
        else:
            self.message = "Drive deleted."


def logbook_page() -> rx.Component:
    return logbook_page_body(LogbookState, start_js=START_JS, stop_js=STOP_JS, other=OTHER)


ON_LOAD = [*require_role("student"), LogbookState.load]
