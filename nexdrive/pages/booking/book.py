"""The booking widget ``/book``: lesson type → day and time → your details → confirm.

Thin over ``nexdrive.services.scheduling.booking``: the same ``book_lesson`` / ``confirm_booking``
the REST API, SMS bot and voice agent use. The chosen time is held (a real
reservation in the database) when the details are submitted, so a visitor who
reaches the confirm step has the slot; a visitor who loses a race is told
plainly and offered the nearest free times. Signed-in students skip the
details step (their account has them).

The confirm step is also the checkout: pay now by card (Stripe Checkout, or the
offline test-mode gateway), use a package credit (a signed-in student with one
that covers this lesson), or pay later when the school allows it. The amount
shown already has a checked voucher taken off; ``payments.start_booking_checkout``
recomputes it and redeems the voucher, so the page never decides a price.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import reflex as rx
import sqlalchemy as sa

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import container, page_header
from nexdrive.pages.auth._forms import field, message_box
from nexdrive.pages.auth._forms import go_to
from nexdrive.state.policy import PolicyState
from nexdrive.services.compliance import learner_home
from nexdrive.services.scheduling import booking
from nexdrive.services.scheduling import catalogue
from nexdrive.services.crm import contacts
from nexdrive.services.money import payments
from nexdrive.services.core import ratelimit
from nexdrive.services.money import vouchers
from nexdrive.services.compliance import parent_centre
from nexdrive.errors import ServiceError, SlotUnavailable, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, aud
from nexdrive.state.auth import run_anonymous, run_as_visitor_or_user

ROUTE = brand.ROUTE_BOOK
TITLE = "Book a driving lesson online | NexDrive Academy"
DESCRIPTION = (
    "Book a driving lesson with NexDrive Academy in Canberra: choose a lesson, see real free times "
    "in Canberra time, and confirm in a couple of minutes."
)
DAYS_SHOWN = 28
STEPS = ("Lesson", "Day & time", "Your details", "Pay & confirm")
DETAIL_FIELDS = ("name", "phone", "email", "pickup_address", "suburb", "notes")


def _profile_details(session, actor) -> dict:
    if not actor.is_student:
        return {}
    row = session.execute(sa.text(
        "SELECT p.first_name, p.last_name, p.phone, p.email, p.address_line1, p.suburb FROM students s "
        "JOIN profiles p ON p.id = s.profile_id WHERE s.id = :s"), {"s": actor.student_id}).first()
    if row is None:
        return {}
    return {"name": f"{row.first_name} {row.last_name}", "phone": contacts.format_au_phone(row.phone),
            "email": row.email, "pickup_address": row.address_line1 or "", "suburb": row.suburb or ""}


async def _service_gates(state: rx.State, kinds: list[str]) -> dict[str, dict]:
    """kind -> the log book's answer (``learner_home.booking_gate``) for a signed-in learner; a visitor is
    asked to sign in for a review or the final drive (the booking service refuses them anyway)."""
    kinds = sorted({k for k in kinds if k})
    if not kinds:
        return {}

    def work(session, actor):
        if actor.is_student and actor.student_id:
            out = {}
            for kind in kinds:
                gate = learner_home.booking_gate(session, actor, actor.student_id, kind)
                out[kind] = {**gate, "earliest": gate["earliest"].isoformat() if gate["earliest"] else ""}
            return out
        if actor.user_id is None:
            return {k: {"ok": False, "reason": "Sign in first: we check your log book before a review or the "
                                                "final drive is booked."} for k in kinds}
        return {}
    return await run_as_visitor_or_user(state, work)


class BookingWidgetState(rx.State):
    step: int = 0  # index into STEPS; 4 = done
    loading: bool = True
    busy: bool = False
    services: list[dict[str, str]] = []
    service_id: str = ""
    service_name: str = ""
    service_price: str = ""
    service_minutes: str = ""
    eligibility_note: str = ""
    # The log book's answer for a review / final drive, before any time is offered (learner_home.booking_gate)
    gate_reason: str = ""
    gate_blocked: bool = False
    _gate_earliest: str = ""
    days: list[dict[str, str]] = []  # date, weekday, day, month, count
    selected_date: str = ""
    selected_day_label: str = ""
    times: list[dict[str, str]] = []  # start, label, start_at
    selected_start_at: str = ""
    selected_label: str = ""
    slots_loading: bool = False
    # Who is booking
    is_student: bool = False
    student_name: str = ""
    # A parent with "Book lessons" on books for one of their learners (in the learner's name)
    book_for: list[dict[str, str]] = []  # student_id, name
    for_student_id: str = ""
    _for_details: dict[str, dict[str, str]] = {}
    details: dict[str, str] = {k: "" for k in DETAIL_FIELDS}
    name_error: str = ""
    phone_error: str = ""
    email_error: str = ""
    pickup_address_error: str = ""
    suburb_error: str = ""
    notes_error: str = ""
    form_error: str = ""
    conflict: str = ""
    alternatives: list[dict[str, str]] = []
    # The hold
    reservation_id: str = ""
    manage_token: str = ""
    summary: dict[str, str] = {}
    hold_until: str = ""
    voucher_code: str = ""
    voucher_message: str = ""
    voucher_ok: bool = False
    # Paying (the confirm step)
    pay_choice: str = "card"  # card | package | later
    allow_pay_later: bool = False
    test_mode: bool = False
    price_cents: int = 0
    discount_cents: int = 0
    voucher_applied: str = ""  # the code the discount shown belongs to
    package_credits: int = 0  # credits left on the package a credit would come from (0 = none usable)
    package_name: str = ""
    package_expires: str = ""
    utm: dict[str, str] = {}
    waitlist_open: bool = False
    waitlist_done: str = ""
    waitlist_error: str = ""
    # Who teaches: "" = the first instructor available at the chosen time (issue 16, C20)
    instructors: list[dict[str, str]] = []  # id, name, service_ids (comma-separated; empty = every lesson type)
    instructor_id: str = ""
    _slots: dict[str, list[dict[str, str]]] = {}

    # ── loading ──────────────────────────────────────────────────────────────
    @rx.event
    async def load(self):
        self.loading = True
        self.step, self.conflict, self.form_error, self.alternatives = 0, "", "", []
        self.reservation_id = self.manage_token = ""
        params = self.router.url.query_parameters
        self.utm = {k: (params.get(f"utm_{k}") or "")[:100] for k in ("source", "medium", "campaign")}

        def work(session, actor):
            return {"services": catalogue.list_services(session), "me": _profile_details(session, actor),
                    "student": actor.is_student, "learners": parent_centre.bookable_learners(session, actor),
                    "instructors": catalogue.bookable_instructors(session)}
        data = await run_as_visitor_or_user(self, work)
        self.services = [{k: str(v if v is not None else "") for k, v in s.items()} for s in data["services"]]
        gates = await _service_gates(self, [s["eligibility_kind"] for s in self.services])
        for s in self.services:
            s["gate"] = gates.get(s["eligibility_kind"], {}).get("reason", "")
        self.instructors = [{"id": i["id"], "name": i["name"], "service_ids": ",".join(i["service_ids"])}
                            for i in data["instructors"]]
        wanted_instructor = params.get("instructor", "")
        self.instructor_id = wanted_instructor if any(i["id"] == wanted_instructor for i in self.instructors) else ""
        self.is_student = data["student"]
        if data["me"]:
            self.details = {**{k: "" for k in DETAIL_FIELDS}, **data["me"]}
            self.student_name = data["me"]["name"]
        self._for_details = {str(x["student_id"]): {k: str(x[k] or "") for k in
                                                    ("name", "phone", "email", "pickup_address", "suburb")}
                             for x in data["learners"]}
        self.book_for = [{"student_id": k, "name": v["name"]} for k, v in self._for_details.items()]
        self.for_student_id = ""
        if self.book_for:
            chosen = params.get("learner", "")
            self._choose_learner(chosen if chosen in self._for_details else self.book_for[0]["student_id"])
        self.loading = False
        wanted = params.get("service", "")
        match = next((s for s in self.services if wanted and wanted in (s["slug"], s["id"])), None)
        if match:
            return BookingWidgetState.choose_service(match["id"])
        return None

    def _choose_learner(self, student_id: str):
        d = self._for_details.get(student_id)
        if d is None:
            return
        self.for_student_id, self.student_name = student_id, d["name"]
        self.details = {**{k: "" for k in DETAIL_FIELDS}, **d, "phone": contacts.format_au_phone(d["phone"])}

    @rx.event
    def choose_learner(self, student_id: str):
        """A parent picks which of their learners this booking is for (before a time is held)."""
        if self.reservation_id or self.busy:
            return
        self._choose_learner(student_id)

    @rx.event
    async def choose_service(self, service_id: str):
        service = next((s for s in self.services if s["id"] == service_id), None)
        if service is None:
            return
        self.service_id, self.service_name = service["id"], service["name"]
        self.service_price, self.service_minutes = service["price"], service["duration_minutes"]
        self.eligibility_note = service["eligibility_note"]
        self.step, self.conflict, self.alternatives = 1, "", []
        self.selected_start_at = self.selected_label = ""
        gate = (await _service_gates(self, [service["eligibility_kind"]])).get(service["eligibility_kind"], {})
        self.gate_reason, self.gate_blocked = gate.get("reason", ""), not gate.get("ok", True)
        self._gate_earliest = gate.get("earliest") or ""
        if self.gate_blocked:  # not offered in the first place: no day or time to pick
            self.days, self.times, self._slots = [], [], {}
            return
        await self._load_slots()

    async def _load_slots(self, keep_date: str = ""):
        self.slots_loading = True
        yield_date = keep_date
        today = datetime.now(BUSINESS_TZ).date()
        service_id = self.service_id
        if self.instructor_id and self.instructor_id not in {i["id"] for i in self.instructor_options}:
            self.instructor_id = ""  # this instructor doesn't teach the lesson chosen
        chosen = uuid.UUID(self.instructor_id) if self.instructor_id else None

        def work(session):
            return booking.availability_by_day(session, service_ref=service_id, date_from=today,
                                               date_to=today + timedelta(days=DAYS_SHOWN - 1), instructor_id=chosen)
        result = await run_anonymous(work)
        self._slots = {d["date"]: [{"start": t["start"], "label": t["label"], "start_at": t["start_at"]}
                                   for t in d["times"]] for d in result["slots"]}
        if self._gate_earliest:  # a review opens 36 hours after its last task: only times from then on
            earliest = datetime.fromisoformat(self._gate_earliest)
            self._slots = {day: kept for day, times in self._slots.items()
                           if (kept := [t for t in times
                                        if datetime.fromisoformat(t["start_at"].replace("Z", "+00:00")) >= earliest])}
        self.days = []
        for offset in range(DAYS_SHOWN):
            d = today + timedelta(days=offset)
            count = len(self._slots.get(d.isoformat(), []))
            self.days.append({"date": d.isoformat(), "weekday": d.strftime("%a"), "day": str(d.day),
                              "month": d.strftime("%b"), "count": str(count),
                              "label": f"{d.strftime('%A')} {d.day} {d.strftime('%B')}"})
        first = yield_date if yield_date in self._slots else next(iter(sorted(self._slots)), "")
        self._select_date(first)
        self.slots_loading = False

    @rx.var
    def instructor_options(self) -> list[dict[str, str]]:
        """The instructors who teach the chosen lesson type (none chosen for them = every type)."""
        return [i for i in self.instructors
                if not i["service_ids"] or self.service_id in i["service_ids"].split(",")]

    @rx.event
    async def choose_instructor(self, value: str):
        self.instructor_id = value if any(i["id"] == value for i in self.instructor_options) else ""
        self.conflict, self.alternatives = "", []
        self.selected_start_at = self.selected_label = ""
        await self._load_slots(keep_date=self.selected_date)

    def _select_date(self, day: str):
        self.selected_date = day
        self.times = list(self._slots.get(day, []))
        match = next((d for d in self.days if d["date"] == day), None)
        self.selected_day_label = match["label"] if match else ""

    @rx.event
    def choose_date(self, day: str):
        self._select_date(day)

    @rx.event
    async def choose_time(self, start_at: str, label: str):
        self.selected_start_at, self.selected_label = start_at, f"{self.selected_day_label}, {label}"
        self.conflict, self.alternatives = "", []
        if (self.is_student or self.for_student_id) and self.details.get("pickup_address") \
                and self.details.get("suburb"):
            await self._reserve()  # signed-in students skip the details step
        else:
            self.step = 2

    @rx.event
    async def choose_alternative(self, start_at: str):
        alt = next((a for a in self.alternatives if a["start_at"] == start_at), None)
        if alt is None:
            return
        self.selected_start_at = start_at
        self.selected_label = f"{alt['day_label']}, {alt['label']}"
        self.selected_date = alt["date"]
        self.conflict, self.alternatives = "", []
        await self._reserve()

    @rx.event
    def back(self):
        if self.step > 0 and not self.busy:
            self.step = 1 if self.step in (2, 3) else 0
            self.form_error = ""

    # ── reserve (hold) ───────────────────────────────────────────────────────
    def _clear_errors(self):
        for k in DETAIL_FIELDS:
            setattr(self, f"{k}_error", "")
        self.form_error = ""

    @rx.event
    async def submit_details(self, form: dict):
        self._clear_errors()
        self.details = {k: (form.get(k) or "").strip() for k in DETAIL_FIELDS}
        problems = False
        if not self.details["name"]:
            self.name_error, problems = "Please enter your name.", True
        try:
            contacts.normalise_au_mobile(self.details["phone"])
        except ValidationFailed as exc:
            self.phone_error, problems = exc.message, True
        if "@" not in self.details["email"]:
            self.email_error, problems = "Please enter your email address.", True
        if not self.details["pickup_address"]:
            self.pickup_address_error, problems = "Where should we pick you up?", True
        if not self.details["suburb"]:
            self.suburb_error, problems = "Please enter the suburb.", True
        if problems:
            return
        await self._reserve()

    async def _reserve(self):
        self.busy = True
        self.conflict, self.form_error = "", ""
        yield_start = datetime.fromisoformat(self.selected_start_at.replace("Z", "+00:00"))
        details, service_id, utm = dict(self.details), self.service_id, dict(self.utm)
        chosen = uuid.UUID(self.instructor_id) if self.instructor_id else None
        previous = (self.reservation_id, self.manage_token)
        for_student = uuid.UUID(self.for_student_id) if self.for_student_id else None

        def work(session, actor):
            if previous[0]:  # changing the time: let go of the earlier hold first
                try:
                    booking.cancel_booking(session, actor, uuid.UUID(previous[0]), manage_token=previous[1],
                                           reason="Visitor chose another time")
                except ServiceError:
                    pass
            ratelimit.enforce(session, "reserve", ip=actor.ip_address, contacts=(details["email"], details["phone"]))
            r = booking.book_lesson(session, actor, service_id=service_id, start_time=yield_start, instructor_id=chosen,
                                    name=details["name"] or None, phone=details["phone"] or None,
                                    email=details["email"] or None, pickup_address=details["pickup_address"],
                                    suburb=details["suburb"], notes=details["notes"] or None,
                                    utm=contacts.Utm.clean(**utm), student_id=for_student)
            return {"id": str(r.booking.id), "token": r.manage_token or "",
                    "summary": {k: str(v) for k, v in r.summary.items() if not isinstance(v, dict)},
                    "hold": au_time(r.booking.hold_expires_at), "price": r.booking.amount_cents,
                    "options": payments.payment_options(session, actor, booking_id=r.booking.id,
                                                        manage_token=r.manage_token)}
        try:
            result = await run_as_visitor_or_user(self, work)
        except SlotUnavailable as exc:
            self.busy = False
            self.reservation_id = self.manage_token = ""
            self.conflict = ("Sorry, someone has just booked that time. Here are the nearest free times."
                             if "taken" in exc.message else exc.message)
            self.alternatives = [{k: str(v) for k, v in a.items()}
                                 for a in exc.details.get("suggested_alternatives", [])]
            self.step = 1
            await self._load_slots(keep_date=self.selected_date)
            return
        except ValidationFailed as exc:
            self.busy = False
            name = f"{exc.details.get('field', '')}_error"
            if hasattr(self, name) and exc.details.get("field") in DETAIL_FIELDS:
                setattr(self, name, exc.message)
                self.step = 2
            else:
                self.form_error = exc.message
            return
        except ServiceError as exc:
            self.busy = False
            self.form_error = exc.message
            self.step = 2 if not self.is_student else 1
            return
        self.reservation_id, self.manage_token = result["id"], result["token"]
        self.summary, self.hold_until = result["summary"], result["hold"]
        self.price_cents = int(result["price"] or 0)
        self.voucher_message, self.voucher_ok, self.voucher_applied, self.discount_cents = "", False, "", 0
        options = result["options"]
        self.allow_pay_later, self.test_mode = bool(options["allow_pay_later"]), bool(options["test_mode"])
        package = options.get("package") or {}
        self.package_credits = int(package.get("credits_left") or 0) if package.get("usable") else 0
        self.package_name = package.get("name") or ""
        expires = package.get("expires_at")
        self.package_expires = au_date(expires, weekday=False) if expires else ""
        if self.pay_choice == "package" and not self.package_credits:
            self.pay_choice = "card"
        if self.pay_choice == "later" and not self.allow_pay_later:
            self.pay_choice = "card"
        self.step, self.busy = 3, False

    # ── waitlist ─────────────────────────────────────────────────────────────
    @rx.event
    def toggle_waitlist(self):
        self.waitlist_open = not self.waitlist_open
        self.waitlist_error = ""

    @rx.event
    async def join_waitlist(self, form: dict):
        self.waitlist_error = ""
        day = form.get("wl_day") or ""
        start, end = form.get("wl_from") or "", form.get("wl_to") or ""
        service_id = self.service_id
        who = {k: (form.get(f"wl_{k}") or "").strip() or None for k in ("name", "phone", "email")}

        def work(session, actor):
            ratelimit.enforce(session, "waitlist", ip=actor.ip_address, contacts=(who["email"], who["phone"]))
            return booking.join_waitlist(
                session, actor, service_id=service_id or None, preferred_day=int(day) if day != "" else None,
                time_start=datetime.strptime(start, "%H:%M").time() if start else None,
                time_end=datetime.strptime(end, "%H:%M").time() if end else None, **who)
        try:
            await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.waitlist_error = exc.message
            return
        self.waitlist_open = False
        self.waitlist_done = "You're on the waitlist. If a matching time frees up we'll text you straight away."

    # ── voucher, payment choice and confirm ──────────────────────────────────
    @rx.var
    def amount_due_cents(self) -> int:
        if self.pay_choice == "package":
            return 0
        if self.pay_choice == "later":
            return self.price_cents
        return max(0, self.price_cents - (self.discount_cents if self.voucher_ok else 0))

    @rx.var
    def price_text(self) -> str:
        return aud(self.price_cents)

    @rx.var
    def discount_text(self) -> str:
        if self.pay_choice != "card" or not (self.voucher_ok and self.discount_cents):
            return ""
        return "-" + aud(self.discount_cents)

    @rx.var
    def amount_due_text(self) -> str:
        return aud(self.amount_due_cents)

    @rx.var
    def confirm_label(self) -> str:
        if self.pay_choice == "package":
            return "Confirm and use 1 credit"
        if self.pay_choice == "later":
            return "Confirm booking, pay later"
        if self.amount_due_cents == 0:
            return "Confirm booking"
        return f"Pay {aud(self.amount_due_cents)} and confirm"

    @rx.event
    def set_voucher_code(self, value: str):
        self.voucher_code = value[:40]
        if self.voucher_ok and "".join(self.voucher_code.split()).upper() != self.voucher_applied:
            # The discount shown belongs to the code that was checked, not to whatever is typed now.
            self.voucher_ok, self.voucher_message, self.discount_cents, self.voucher_applied = False, "", 0, ""

    @rx.event
    def set_pay_choice(self, value: str):
        if value == "package" and not self.package_credits:
            return
        if value == "later" and not self.allow_pay_later:
            return
        if value in ("card", "package", "later"):
            self.pay_choice = value
            self.form_error = ""

    @rx.event
    async def check_voucher(self):
        code, service_id = self.voucher_code, self.service_id
        for_student = uuid.UUID(self.for_student_id) if self.for_student_id else None

        def work(session, actor):
            ratelimit.enforce(session, "voucher", ip=actor.ip_address)
            return vouchers.check_voucher(session, code, service_id=service_id,
                                          student_id=actor.student_id if actor.is_student else for_student)
        try:
            check = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.voucher_ok, self.voucher_message, self.discount_cents, self.voucher_applied = False, exc.message, 0, ""
            return
        self.voucher_ok, self.voucher_message = check.ok, check.message
        self.discount_cents = check.discount_cents if check.ok else 0
        self.voucher_applied = check.code if check.ok else ""

    @rx.event
    async def confirm(self):
        if not self.reservation_id or self.busy:
            return
        self.busy, self.form_error = True, ""
        yield
        booking_id, token, choice = self.reservation_id, self.manage_token, self.pay_choice
        code = self.voucher_applied if self.voucher_ok and choice == "card" else None  # vouchers: online payments

        def work(session, actor):
            ratelimit.enforce(session, "confirm", ip=actor.ip_address)
            start = payments.start_booking_checkout(
                session, actor, booking_id=uuid.UUID(booking_id), manage_token=token, voucher_code=code,
                use_package=choice == "package", pay_later=choice == "later")
            return start.redirect_url
        try:
            redirect_url = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.busy = False
            self.form_error = exc.message
            self.alternatives = [{k: str(v) for k, v in a.items()}
                                 for a in exc.details.get("suggested_alternatives", [])]
            if self.alternatives:
                self.conflict, self.step, self.reservation_id = exc.message, 1, ""
            elif exc.details.get("field") == "voucher_code":
                self.voucher_ok, self.voucher_message, self.discount_cents = False, exc.message, 0
            return
        self.step = 4
        # Stripe Checkout is another site; the offline gateway sends us straight to the result page.
        yield go_to(redirect_url or f"/book/confirmed?token={token}")


# ─────────────────────────────────────────────────────────────────────────────
# View
# ─────────────────────────────────────────────────────────────────────────────

def stepper() -> rx.Component:
    def item(i: int, label: str) -> rx.Component:
        done = BookingWidgetState.step > i
        current = BookingWidgetState.step == i
        return rx.hstack(
            rx.box(
                rx.cond(done, rx.icon("check", size=14), rx.text(str(i + 1), size="1", weight="bold")),
                width="1.6rem", height="1.6rem", border_radius="999px", display="flex", align_items="center",
                justify_content="center",
                background=rx.cond(done | current, rx.color("accent", 9), rx.color("gray", 4)),
                color=rx.cond(done | current, "white", rx.color("gray", 11)),
            ),
            rx.text(label, size="2", weight=rx.cond(current, "bold", "regular"),
                    color=rx.cond(current, rx.color("gray", 12), rx.color("gray", 11))),
            spacing="2", align="center",
            aria_current=rx.cond(current, "step", "false"),
        )
    return rx.el.nav(
        rx.hstack(*[item(i, label) for i, label in enumerate(STEPS)], spacing="3", wrap="wrap", align="center",
                  row_gap="0.5rem"),
        aria_label="Booking steps", width="100%",
    )


def service_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Choose a lesson", as_="h2", size="5"),
        rx.cond(
            BookingWidgetState.loading,
            rx.vstack(*[rx.skeleton(height="5rem", width="100%") for _ in range(3)], width="100%"),
            rx.grid(
                rx.foreach(BookingWidgetState.services, lambda s: rx.el.button(
                    rx.vstack(
                        rx.hstack(rx.text(s["name"], weight="bold", size="3"), rx.spacer(),
                                  rx.badge(s["price"], size="2", color_scheme="green"), width="100%"),
                        rx.text(s["duration_minutes"] + " minutes · " + s["category_label"], size="2",
                                color=rx.color("gray", 11)),
                        rx.cond(s["gate"] != "",
                                rx.text(s["gate"], size="1", color=rx.color("amber", 11), class_name="service-gate"),
                                rx.cond(s["eligibility_note"] != "",
                                        rx.text(s["eligibility_note"], size="1", color=rx.color("amber", 11)))),
                        spacing="1", align="start", width="100%",
                    ),
                    id="service-" + s["slug"],
                    on_click=BookingWidgetState.choose_service(s["id"]),
                    type="button",
                    style={"text-align": "left", "padding": "1rem", "border-radius": "12px", "width": "100%",
                           "border": f"1px solid {rx.color('gray', 6)}", "background": rx.color("gray", 1),
                           "cursor": "pointer", "_hover": {"border-color": rx.color("accent", 8)}},
                )),
                columns=rx.breakpoints(initial="1", md="2"), gap="0.75rem", width="100%",
            ),
        ),
        spacing="3", width="100%", align="stretch",
    )


def _alternatives() -> rx.Component:
    return rx.cond(
        BookingWidgetState.conflict != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("calendar-x")),
            rx.vstack(
                rx.text(BookingWidgetState.conflict, weight="bold", id="slot-conflict"),
                rx.hstack(
                    rx.foreach(BookingWidgetState.alternatives, lambda a, i: rx.button(
                        a["day_label"] + ", " + a["label"], variant="surface", size="2",
                        id="alt-" + i.to_string(), on_click=BookingWidgetState.choose_alternative(a["start_at"]),
                    )),
                    wrap="wrap", spacing="2",
                ),
                spacing="2",
            ),
            color_scheme="amber", role="alert", width="100%",
        ),
    )


def time_step() -> rx.Component:
    """Day and time; a review or final drive the learner may not book yet shows only why (no times)."""
    return rx.cond(BookingWidgetState.gate_blocked, _gate_blocked_step(), _time_step_open())


def _gate_blocked_step() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=16), "Lessons", variant="ghost", on_click=BookingWidgetState.back,
                  id="back-to-services"),
        rx.text(BookingWidgetState.service_name, weight="bold"),
        rx.callout(BookingWidgetState.gate_reason, icon="lock", color_scheme="amber", id="booking-gate",
                   role="status"),
        rx.button(rx.link("See your log book", href="/student"), as_child=True, variant="soft", size="3",
                  id="booking-gate-link"),
        spacing="3", width="100%", align="start",
    )


def _time_step_open() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("arrow-left", size=16),
                "Lessons",
                variant="ghost",
                on_click=BookingWidgetState.back,
                id="back-to-services",
            ),
            rx.text(BookingWidgetState.service_name + " · " + BookingWidgetState.service_price, weight="bold"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        _alternatives(),
        rx.cond(BookingWidgetState.gate_reason != "",
                rx.callout(BookingWidgetState.gate_reason, icon="info", id="booking-gate", role="status")),
        instructor_choice(),
        rx.heading("Choose a day", as_="h2", size="5"),
        rx.text("All times are Canberra time.", size="2", color=rx.color("gray", 11)),
        rx.cond(
            BookingWidgetState.slots_loading,
            rx.hstack(*[rx.skeleton(height="4.5rem", width="3.8rem") for _ in range(6)], spacing="2"),
            rx.box(
                rx.hstack(
                    rx.foreach(
                        BookingWidgetState.days,
                        lambda d: rx.el.button(
                            rx.vstack(
                                rx.text(d["weekday"], size="1"),
                                rx.text(d["day"], size="5", weight="bold"),
                                rx.text(
                                    rx.cond(d["count"] == "0", "No times", d["count"] + " free"),
                                    size="1",
                                    white_space="nowrap",
                                ),
                                spacing="0",
                                align="center",
                            ),
                            id="day-" + d["date"],
                            type="button",
                            disabled=d["count"] == "0",
                            aria_pressed=rx.cond(BookingWidgetState.selected_date == d["date"], "true", "false"),
                            aria_label=d["label"]
                            + ", "
                            + rx.cond(d["count"] == "0", "no free times", d["count"] + " free times"),
                            on_click=BookingWidgetState.choose_date(d["date"]),
                            style={
                                "min-width": "4rem",
                                "padding": "0.5rem 0.25rem",
                                "border-radius": "10px",
                                "flex": "0 0 auto",
                                "border": rx.cond(
                                    BookingWidgetState.selected_date == d["date"],
                                    f"2px solid {rx.color('accent', 9)}",
                                    f"1px solid {rx.color('gray', 6)}",
                                ),
                                "background": rx.cond(
                                    BookingWidgetState.selected_date == d["date"],
                                    rx.color("accent", 3),
                                    rx.color("gray", 1),
                                ),
                                "opacity": rx.cond(d["count"] == "0", "0.45", "1"),
                                "cursor": rx.cond(d["count"] == "0", "not-allowed", "pointer"),
                            },
                        ),
                    ),
                    spacing="2",
                    padding_bottom="0.5rem",
                ),
                overflow_x="auto",
                width="100%",
                role="group",
                aria_label="Days",
            ),
        ),
        rx.heading(
            rx.cond(
                BookingWidgetState.selected_day_label != "",
                "Times on " + BookingWidgetState.selected_day_label,
                "Times",
            ),
            as_="h2",
            size="5",
        ),
        rx.cond(
            BookingWidgetState.times.length() > 0,
            rx.grid(
                rx.foreach(
                    BookingWidgetState.times,
                    lambda t: rx.button(
                        t["label"],
                        variant="surface",
                        size=rx.breakpoints(initial="2", sm="3"),
                        id="time-" + t["start"].replace(":", ""),
                        white_space="nowrap",
                        on_click=BookingWidgetState.choose_time(t["start_at"], t["label"]),
                        loading=BookingWidgetState.busy,
                        width="100%",
                    ),
                ),
                columns=rx.breakpoints(initial="3", sm="4", md="6"),
                gap="0.5rem",
                width="100%",
            ),
            rx.cond(
                ~BookingWidgetState.slots_loading,
                rx.text(
                    "No free times in the next four weeks for this lesson. Please call us on "
                    + brand.phone_display()
                    + " and we'll find a time.",
                    id="no-times",
                ),
            ),
        ),
        message_box(BookingWidgetState.form_error, id="booking-error"),
        waitlist_panel(),
        spacing="3",
        width="100%",
        align="stretch",
    )


WEEKDAYS = (("", "Any day"), ("1", "Monday"), ("2", "Tuesday"), ("3", "Wednesday"), ("4", "Thursday"),
            ("5", "Friday"), ("6", "Saturday"), ("0", "Sunday"))
HOURS = [f"{h:02d}:00" for h in range(7, 21)]


def instructor_choice() -> rx.Component:
    """"First available" or one instructor (shown when more than one teaches this lesson type)."""
    st = BookingWidgetState
    return rx.cond(st.instructor_options.length() > 1, rx.vstack(
        rx.el.label("Instructor", html_for="instructor-choice", font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(
            rx.el.option("First available", value=""),
            rx.foreach(st.instructor_options, lambda i: rx.el.option(i["name"], value=i["id"])),
            id="instructor-choice", value=st.instructor_id, on_change=st.choose_instructor,
            style={"padding": "0.5rem", "border-radius": "8px", "width": "100%", "max-width": "20rem",
                   "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)}),
        spacing="1", width="100%"))


def _select(label: str, id: str, options, default: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(*[rx.el.option(text, value=value) for value, text in options], id=id, name=id.replace("-", "_"),
                     default_value=default, style={"padding": "0.5rem", "border-radius": "8px", "width": "100%",
                                                   "border": f"1px solid {rx.color('gray', 7)}",
                                                   "background": rx.color("gray", 1)}),
        spacing="1", width="100%",
    )


def waitlist_panel() -> rx.Component:
    d = BookingWidgetState.details
    return rx.vstack(
        rx.divider(),
        message_box(BookingWidgetState.waitlist_done, tone="green", id="waitlist-done", icon="circle-check"),
        rx.button(rx.icon("bell-ring", size=16), "Can't find a time that suits? Join the waitlist", variant="ghost",
                  on_click=BookingWidgetState.toggle_waitlist, id="waitlist-toggle",
                  aria_expanded=rx.cond(BookingWidgetState.waitlist_open, "true", "false")),
        rx.cond(
            BookingWidgetState.waitlist_open,
            rx.form(
                rx.vstack(
                    rx.text("Tell us when suits you. When a lesson at that time is cancelled, we'll text you.",
                            size="2", color=rx.color("gray", 11)),
                    rx.grid(
                        _select("Day", "wl-day", WEEKDAYS, ""),
                        _select("From", "wl-from", [(h, h) for h in HOURS], "15:00"),
                        _select("To", "wl-to", [(h, h) for h in HOURS[1:]], "18:00"),
                        columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
                    ),
                    rx.cond(~BookingWidgetState.is_student, rx.grid(
                        field("Name", id="wl-name", name="wl_name", autocomplete="name", default_value=d["name"]),
                        field("Mobile", id="wl-phone", name="wl_phone", type="tel", autocomplete="tel",
                              default_value=d["phone"]),
                        field("Email", id="wl-email", name="wl_email", type="email", autocomplete="email",
                              required=False, default_value=d["email"]),
                        columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
                    )),
                    message_box(BookingWidgetState.waitlist_error, id="waitlist-error"),
                    rx.button("Join the waitlist", type="submit", variant="soft", id="waitlist-submit"),
                    spacing="3", width="100%", align="stretch",
                ),
                on_submit=BookingWidgetState.join_waitlist, width="100%",
            ),
        ),
        spacing="2", width="100%", align="stretch",
    )


def details_step() -> rx.Component:
    d = BookingWidgetState.details
    return rx.vstack(
        rx.hstack(
            rx.button(rx.icon("arrow-left", size=16), "Change time", variant="ghost", on_click=BookingWidgetState.back,
                      id="back-to-times"),
            rx.text(BookingWidgetState.selected_label, weight="bold", id="chosen-time"),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.heading("Your details", as_="h2", size="5"),
        rx.form(
            rx.vstack(
                message_box(BookingWidgetState.form_error, id="details-error"),
                field("Learner's name", id="bk-name", name="name", autocomplete="name",
                      error=BookingWidgetState.name_error, default_value=d["name"]),
                rx.grid(
                    field("Mobile", id="bk-phone", name="phone", type="tel", autocomplete="tel",
                          hint="For your confirmation and reminder, e.g. 0412 345 678",
                          error=BookingWidgetState.phone_error, default_value=d["phone"]),
                    field("Email", id="bk-email", name="email", type="email", autocomplete="email",
                          error=BookingWidgetState.email_error, default_value=d["email"]),
                    columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%",
                ),
                field("Pick-up address", id="bk-pickup", name="pickup_address", autocomplete="street-address",
                      error=BookingWidgetState.pickup_address_error, default_value=d["pickup_address"]),
                field("Suburb", id="bk-suburb", name="suburb", autocomplete="address-level2",
                      error=BookingWidgetState.suburb_error, default_value=d["suburb"]),
                field("Anything we should know?", id="bk-notes", name="notes", required=False,
                      error=BookingWidgetState.notes_error, default_value=d["notes"]),
                rx.button(rx.cond(BookingWidgetState.busy, "Holding your time…", "Continue"), type="submit",
                          size="3", width="100%", id="details-continue", loading=BookingWidgetState.busy),
                spacing="4", width="100%", align="stretch",
            ),
            on_submit=BookingWidgetState.submit_details, width="100%",
        ),
        spacing="3", width="100%", align="stretch",
    )


def _row(label: str, value) -> rx.Component:
    return rx.hstack(rx.text(label, color=rx.color("gray", 11), min_width="7rem"), rx.text(value, weight="medium"),
                     align="start", width="100%")


def _pay_option(value: str, title: str, description, icon: str, disabled=False) -> rx.Component:
    """One labelled radio card; the whole card is the label of its radio."""
    chosen = BookingWidgetState.pay_choice == value
    return rx.el.label(
        rx.hstack(
            rx.radio_group.item(value=value, id=f"pay-{value}", disabled=disabled, margin_top="0.2rem"),
            rx.icon(icon, size=20, color=rx.color("accent", 11), aria_hidden="true", flex_shrink="0"),
            rx.vstack(
                rx.text(title, weight="bold", size="3"),
                rx.text(description, size="2", color=rx.color("gray", 11)),
                spacing="0", align="start",
            ),
            spacing="3", align="start", width="100%",
        ),
        html_for=f"pay-{value}",
        id=f"pay-option-{value}",
        style={"display": "block", "padding": "0.85rem 1rem", "border-radius": "12px", "cursor": "pointer",
               "border": rx.cond(chosen, f"2px solid {rx.color('accent', 9)}", f"1px solid {rx.color('gray', 6)}"),
               "background": rx.cond(chosen, rx.color("accent", 2), rx.color("gray", 1))},
    )


def payment_choice() -> rx.Component:
    st = BookingWidgetState
    return rx.vstack(
        rx.heading("How would you like to pay?", as_="h3", size="4", id="pay-choice-heading"),
        rx.radio_group.root(
            rx.vstack(
                _pay_option("card", "Pay now by card",
                            rx.cond(st.test_mode, "Test mode: no real card is charged.",
                                    "Secure card payment with Stripe. Your tax invoice is emailed."),
                            "credit-card"),
                rx.cond(st.package_credits > 0, _pay_option(
                    "package", "Use a package credit",
                    st.package_name + ": " + st.package_credits.to_string() + " credit"
                    + rx.cond(st.package_credits == 1, "", "s") + " left"
                    + rx.cond(st.package_expires != "", ", valid until " + st.package_expires, "") + ".",
                    "ticket")),
                rx.cond(st.allow_pay_later, _pay_option(
                    "later", "Pay later", "Pay at or before your lesson. Vouchers come off online payments only.",
                    "clock")),
                spacing="2", width="100%", align="stretch",
            ),
            value=st.pay_choice, on_change=st.set_pay_choice, name="pay_choice",
            aria_labelledby="pay-choice-heading", width="100%",
        ),
        spacing="2", width="100%", align="stretch",
    )


def amount_panel() -> rx.Component:
    st = BookingWidgetState
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Lesson price"), rx.spacer(), rx.text(st.price_text, id="amount-price"), width="100%"),
            rx.cond(st.discount_text != "",
                    rx.hstack(rx.text("Voucher " + st.voucher_applied, color=rx.color("green", 11)), rx.spacer(),
                              rx.text(st.discount_text, id="amount-discount", color=rx.color("green", 11)),
                              width="100%")),
            rx.cond(st.pay_choice == "package",
                    rx.hstack(rx.text("Package credit", color=rx.color("green", 11)), rx.spacer(),
                              rx.text("1 credit", color=rx.color("green", 11)), width="100%")),
            rx.divider(),
            rx.hstack(rx.text(rx.cond(st.pay_choice == "later", "To pay later", "To pay now"), weight="bold"),
                      rx.spacer(),
                      rx.text(st.amount_due_text + " AUD", weight="bold", size="4", id="amount-due"), width="100%",
                      align="center"),
            rx.text(PolicyState.gst_note, size="1", color=rx.color("gray", 11), id="amount-gst-note"),
            spacing="2", width="100%",
        ),
        width="100%", id="amount-panel", variant="surface",
    )


def voucher_box() -> rx.Component:
    st = BookingWidgetState
    return rx.cond(
        st.pay_choice == "card",  # a voucher comes off an online payment
        rx.vstack(
            rx.el.label("Voucher code", html_for="bk-voucher", font_weight="600", font_size="var(--font-size-2)"),
            rx.hstack(
                rx.input(id="bk-voucher", value=st.voucher_code, on_change=st.set_voucher_code,
                         placeholder="Optional", size="3", aria_describedby="voucher-message", flex="1",
                         auto_complete="off"),
                rx.button("Apply", variant="soft", size="3", on_click=st.check_voucher, id="voucher-apply",
                          type="button"),
                width="100%",
            ),
            rx.cond(st.voucher_message != "",
                    rx.text(st.voucher_message, id="voucher-message", size="2", role="status",
                            color=rx.cond(st.voucher_ok, rx.color("green", 11), rx.color("red", 11)))),
            spacing="1", width="100%", align="stretch",
        ),
    )


def review_step() -> rx.Component:
    s = BookingWidgetState.summary
    return rx.vstack(
        rx.heading("Check, pay and confirm", as_="h2", size="5"),
        rx.callout(
            rx.text(
                "We're holding this time for you until ",
                rx.text(BookingWidgetState.hold_until, as_="span", weight="bold"),
                ".",
            ),
            icon="timer",
            color_scheme="blue",
            id="hold-note",
        ),
        rx.card(
            rx.vstack(
                _row("Lesson", s["service_name"]),
                _row("When", s["when"]),
                _row("Instructor", s["instructor_name"]),
                _row("Pick-up", s["pickup_address"] + ", " + s["suburb"]),
                _row("Price", s["price_label"]),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="booking-summary",
        ),
        payment_choice(),
        voucher_box(),
        amount_panel(),
        rx.text(
            "Free cancellation up to the notice period; see the ",
            rx.link("terms", href="/terms", underline="always"),
            ".",
            size="2",
            color=rx.color("gray", 11),
        ),
        message_box(BookingWidgetState.form_error, id="confirm-error"),
        rx.flex(
            rx.button("Change time", variant="soft", size="3", on_click=BookingWidgetState.back, id="review-back"),
            rx.button(
                rx.cond(BookingWidgetState.busy, "One moment…", BookingWidgetState.confirm_label),
                size="3",
                flex="1",
                min_height="44px",
                on_click=BookingWidgetState.confirm,
                id="confirm-booking",
                loading=BookingWidgetState.busy,
            ),
            width="100%",
            gap="0.75rem",
            direction=rx.breakpoints(initial="column-reverse", sm="row"),
        ),
        spacing="4",
        width="100%",
        align="stretch",
    )


def booking_for_picker() -> rx.Component:
    """A parent allowed to book for their learners chooses whose lesson this is (before a time is held)."""
    return rx.cond(
        BookingWidgetState.book_for.length() > 0,
        rx.vstack(
            rx.el.label("Booking for", html_for="booking-for", font_weight="bold", font_size="var(--font-size-2)"),
            rx.el.select(
                rx.foreach(BookingWidgetState.book_for,
                           lambda x: rx.el.option(x["name"], value=x["student_id"])),
                id="booking-for",
                value=BookingWidgetState.for_student_id,
                on_change=BookingWidgetState.choose_learner,
                disabled=BookingWidgetState.reservation_id != "",
                min_height="44px", padding_x="0.75rem", border_radius="var(--radius-2)",
                border=f"1px solid {rx.color('gray', 7)}", background=rx.color("gray", 1),
                font_size="var(--font-size-3)", width="100%", max_width="24rem",
            ),
            rx.text("The lesson is booked in your learner's name.", size="1", color=rx.color("gray", 11)),
            spacing="1", width="100%", id="booking-for-panel",
        ),
    )


def book_page() -> rx.Component:
    return layout(
        page_header(
            "Book a driving lesson",
            "Choose a lesson, pick a free time (Canberra time) and confirm. It takes a couple of minutes.",
            kicker="Online booking",
            icon="calendar-check",
        ),
        container(
            rx.card(
                rx.vstack(
                    stepper(),
                    rx.cond(
                        BookingWidgetState.is_student,
                        rx.text(
                            "Booking as ",
                            rx.text(BookingWidgetState.student_name, as_="span", weight="bold"),
                            ".",
                            size="2",
                            id="booking-as",
                        ),
                    ),
                    booking_for_picker(),
                    rx.match(
                        BookingWidgetState.step,
                        (0, service_step()),
                        (1, time_step()),
                        (2, details_step()),
                        (3, review_step()),
                        rx.center(
                            rx.spinner(size="3"),
                            rx.text("One moment: opening your confirmation…"),
                            padding="2rem",
                            role="status",
                        ),
                    ),
                    spacing="5",
                    width="100%",
                    align="stretch",
                ),
                size=rx.breakpoints(initial="2", sm="4"),
                width="100%",
                max_width="52rem",
                margin_x="auto",
            ),
            padding_top="1.5rem",
            padding_bottom="4rem",
        ),
        active=ROUTE,
    )


ON_LOAD = [BookingWidgetState.load]
