"""The learner's home ``/student``, phone first: where they are in the log book at a glance.

The map of the 23 tasks and 2 reviews (status, date, lesson; what's next; what's locked and why), hours
toward the target with a chart over time, the next booking, the latest bridge form and the certificate
status: all from ``compliance.learner_home.learner_home`` (the engine's matrix, the log book's summary),
never recomputed here.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, file_link, route_link_button
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import BookingRow, booking_list, panel, role_home, stat, upcoming_bookings
from nexdrive.pages.student.views import tap_targets
from nexdrive.pages.student.views.progress_map import hours_chart, map_rows, progress_map
from nexdrive.services.compliance import learner_home
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_STUDENT
TITLE = "Student area | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy student area: your CBT&A log book at a glance, your hours toward the licence test, "
    "your next lesson and what to practise."
)


def _hours_text(h: float) -> str:
    return f"{h:g}"


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    if not actor.student_id:
        return {"me": me, "home": None, "bookings": []}
    home = learner_home.learner_home(session, actor, actor.student_id)
    bookings = access.list_bookings(session, actor, limit=100)
    return {"me": me, "home": home, "bookings": bookings}


class StudentHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    error: str = ""
    competent: int = 0
    total: int = 23
    reviews_passed: int = 0
    map_rows: list[dict[str, str]] = []
    next_up: list[dict[str, str]] = []
    hours: dict[str, str] = {}
    weekly: list[dict] = []
    target: int = 100
    chart_label: str = ""
    next_booking: dict[str, str] = {}
    has_booking: bool = False
    has_bridge: bool = False
    bridge: dict[str, str] = {}
    bridge_skills: list[str] = []
    certificate_ready: bool = False
    certificate_lines: list[str] = []
    upcoming: list[BookingRow] = []
    parents: int = 0

    @rx.event
    async def load(self):
        self.loaded, self.error = False, ""
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        me = data["me"]
        self.first_name = (me.get("profile") or {}).get("first_name") or ""
        self.parents = len((me.get("student") or {}).get("parent_links") or [])
        self.upcoming = upcoming_bookings(data["bookings"])
        home = data["home"]
        if home is None:
            self.loaded = True
            return
        self.competent, self.total = home["competent"], home["total"]
        self.reviews_passed = len(home["reviews_passed"])
        self.map_rows = map_rows(home["map"])
        by_number = {r["number"]: r for r in self.map_rows}
        self.next_up = [by_number[str(n)] for n in home["next_tasks"] if str(n) in by_number][:3]
        h = home["hours"]
        self.hours = {k: _hours_text(h[k]) for k in (
            "total_hours", "supervised_hours", "supervised_day_hours", "supervised_night_hours", "credited_hours",
            "professional_hours", "night_hours", "remaining_hours", "remaining_night_hours")}
        self.hours.update(target=str(h["target_total_hours"]), night_target=str(h["target_night_hours"]),
                          unconfirmed=str(h["unconfirmed_drives"]))
        self.target = h["target_total_hours"]
        self.weekly = [{"label": w["label"], "cumulative_hours": w["cumulative_hours"]} for w in h["weekly"]]
        self.chart_label = (f"Hours toward your target over time: {h['total_hours']:g} of "
                            f"{h['target_total_hours']} hours so far, over {len(h['weekly'])} weeks.")
        nb = home["next_booking"]
        self.next_booking = {"when": nb["when"], "service": nb["service"], "suburb": nb["suburb"],
                             "id": str(nb["id"])} if nb else {}
        bf = home["latest_bridge_form"]
        self.bridge = {k: str(bf.get(k) or "") for k in ("date", "lesson_number", "positives", "practice_instructions",
                                                           "focus_areas", "next_lesson_recommendation", "page_url",
                                                           "pdf_url")} if bf else {}
        self.bridge_skills = bf["skills"] if bf else []
        self.has_booking, self.has_bridge = bool(nb), bool(bf)
        cert = home["certificate"]
        self.certificate_ready = cert["eligible"]
        lines = []
        if cert["missing_tasks"]:
            lines.append(f"{len(cert['missing_tasks'])} task{'s' if len(cert['missing_tasks']) != 1 else ''} "
                         "still to be signed off")
        names = {101: "Review 1", 102: "Review 2"}
        if cert["missing_reviews"]:
            lines.append(" and ".join(names.get(n, str(n)) for n in cert["missing_reviews"]) + " to pass")
        if not cert["final_drive_done"]:
            lines.append("the final drive (task 23)")
        lines.extend(cert["hours_missing"])
        self.certificate_lines = lines
        self.loaded = True


def _next_panel() -> rx.Component:
    S = StudentHomeState
    return panel(
        "What's next", "next",
        rx.cond(
            S.next_up.length() > 0,
            rx.el.ul(rx.foreach(S.next_up, lambda r: rx.el.li(
                rx.text(r["title"], weight="bold", size="3"),
                rx.cond(r["reason"] != "", rx.text(r["reason"], size="2", color=rx.color("gray", 11)),
                        rx.text(r["badge"], rx.cond(r["when"] != "", " (" + r["when"] + ")", ""), size="2",
                                color=rx.color("gray", 11))),
                padding_y="0.35rem", list_style="none")), id="next-tasks", style={"padding": 0, "margin": 0}),
            rx.text("Every task is done. Well driven!", size="2"),
        ),
        rx.divider(margin_y="0.75rem"),
        rx.cond(
            S.has_booking,
            rx.vstack(
                rx.text("Your next lesson", size="2", color=rx.color("gray", 11)),
                rx.text(S.next_booking["when"], weight="bold", size="3", id="next-booking"),
                rx.text(S.next_booking["service"], " · ",
                        rx.cond(S.next_booking["suburb"] != "", S.next_booking["suburb"], "pick-up to be confirmed"),
                        size="2", color=rx.color("gray", 11)),
                spacing="1",
            ),
            rx.text("No lesson booked yet.", size="2", id="next-booking"),
        ),
        rx.hstack(
            button_link("Book a lesson", brand.ROUTE_BOOK, icon="calendar-plus", size="3"),
            button_link("Log a drive", "/student/logbook", icon="timer", size="3", variant="soft", id="log-drive-link"),
            wrap="wrap", spacing="3", margin_top="1rem",
        ),
    )


def _hours_panel() -> rx.Component:
    H = StudentHomeState.hours
    return panel(
        "Hours toward your licence", "hours",
        rx.text(rx.text(H["total_hours"], as_="span", weight="bold", size="6", id="hours-total"),
                " of ", H["target"], " hours, including ", H["night_hours"], " of ", H["night_target"], " at night",
                as_="p", size="3"),
        rx.grid(
            stat("Supervised (day)", H["supervised_day_hours"] + " h"),
            stat("Supervised (night)", H["supervised_night_hours"] + " h"),
            stat("Lessons, credited", H["credited_hours"] + " h"),
            columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%", margin_y="0.75rem",
        ),
        rx.text("Professional lessons count 3:1 for the first 10 hours (", H["professional_hours"],
                " h with your instructor so far). Still to go: ", H["remaining_hours"], " h, of which ",
                H["remaining_night_hours"], " h at night.", size="2", color=rx.color("gray", 11), as_="p"),
        rx.cond(StudentHomeState.weekly.length() > 1,
                hours_chart(StudentHomeState.weekly, StudentHomeState.target, StudentHomeState.chart_label)),
    )


def _bridge_panel() -> rx.Component:
    B = StudentHomeState.bridge
    return panel(
        "Your latest practice guide", "bridge",
        rx.cond(
            StudentHomeState.has_bridge,
            rx.vstack(
                rx.text("After lesson ", B["lesson_number"], " on ", B["date"], size="2", color=rx.color("gray", 11)),
                rx.cond(StudentHomeState.bridge_skills.length() > 0,
                        rx.text("Covered: ", rx.foreach(StudentHomeState.bridge_skills,
                                                        lambda s: rx.badge(s, variant="soft", margin_right="0.25rem")),
                                size="2")),
                rx.cond(B["positives"] != "", rx.text(rx.text("Went well: ", as_="span", weight="bold"),
                                                      B["positives"], size="2")),
                rx.cond(B["practice_instructions"] != "",
                        rx.text(rx.text("Practise: ", as_="span", weight="bold"), B["practice_instructions"],
                                size="2", id="bridge-practice")),
                rx.cond(B["focus_areas"] != "", rx.text(rx.text("Focus on: ", as_="span", weight="bold"),
                                                        B["focus_areas"], size="2")),
                rx.hstack(
                    route_link_button("Open the guide", B["page_url"], icon="file-text", size="2", id="bridge-open"),
                    file_link("PDF", B["pdf_url"], size="2", id="bridge-pdf"),
                    button_link("All lessons and guides", "/student/lessons", icon="book-open", variant="soft",
                                size="2"),
                    spacing="2", wrap="wrap"),
                spacing="2", align="start",
            ),
            rx.vstack(rx.text("Your instructor's practice guide appears here after a lesson.", size="2"),
                      button_link("Your lessons", "/student/lessons", icon="book-open", variant="soft", size="2"),
                      spacing="2", align="start"),
        ),
    )


def _certificate_panel() -> rx.Component:
    S = StudentHomeState
    return panel(
        "Your certificate", "certificate",
        rx.cond(
            S.certificate_ready,
            rx.callout("You have everything for your CBT&A certificate: your instructor will issue it.",
                       icon="award", color_scheme="green", id="certificate-status"),
            rx.vstack(
                rx.text("Still to do before your certificate:", size="2", id="certificate-status"),
                rx.el.ul(rx.foreach(S.certificate_lines, lambda ln: rx.el.li(rx.text(ln, size="2"))),
                         style={"margin": 0, "paddingLeft": "1.25rem"}),
                spacing="1", align="start",
            ),
        ),
        button_link("Self-assessment", "/student/self-assessment", icon="list-checks", variant="soft", size="2",
                    margin_top="0.75rem", id="self-assessment-link"),
    )


def student_dashboard_page() -> rx.Component:
    S = StudentHomeState
    return layout(
        tap_targets(role_home(
            "Your learner dashboard",
            S.loaded,
            rx.text("Welcome back, ", rx.text(S.first_name, as_="span", weight="bold", id="student-name"), ".",
                    as_="p", size="4"),
            rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red")),
            rx.grid(
                stat("CBT&A tasks competent", S.competent.to_string() + " of " + S.total.to_string(),
                     id="progress-count"),
                stat("Reviews passed", S.reviews_passed.to_string() + " of 2", id="reviews-count"),
                stat("Log-book hours", S.hours["total_hours"] + " of " + S.hours["target"],
                     id="hours-count"),
                columns=rx.breakpoints(initial="1", sm="3"), gap="1rem", width="100%",
            ),
            _next_panel(),
            panel("Your log book map", "map",
                  rx.text("Each task is taught, then assessed in a later lesson. Reviews open 36 hours after the "
                          "tasks they cover are competent.", size="2", color=rx.color("gray", 11), as_="p",
                          margin_bottom="0.75rem"),
                  progress_map(S.map_rows)),
            _hours_panel(),
            _bridge_panel(),
            _certificate_panel(),
            panel("Upcoming lessons", "upcoming",
                  booking_list(S.upcoming, list_id="upcoming-list", manage=True, empty="No lessons booked yet.")),
            loading_text="Loading your dashboard\u2026",
            extra_actions=(
                button_link("Lessons", "/student/lessons", icon="book-open", variant="soft", size="2",
                            id="lessons-link"),
                button_link("Log book", "/student/logbook", icon="notebook-pen", variant="soft", size="2",
                            id="logbook-link"),
                button_link("Payments and packages", "/student/payments", icon="receipt", variant="soft", size="2",
                            id="payments-link"),
                button_link("Family access", "/student/family", icon="users", variant="soft", size="2",
                            id="family-link"),
            ),
        )),
        active=ROUTE,
    )


ON_LOAD = [*require_role("student"), StudentHomeState.load]
