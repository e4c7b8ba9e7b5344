"""The booking widget's state (``/book``): lesson type → day and time → your details → confirm.

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

from nexdrive.pages.auth._forms import go_to
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
    signed_in: bool = False
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
                    "student": actor.is_student, "signed_in": actor.user_id is not None,
                    "learners": parent_centre.bookable_learners(session, actor),
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
        self.signed_in = data["signed_in"]
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
            # Its alternatives completed in a transaction of its own, now that the instructor's lock is released.
            if exc.alternatives_wanted is not None:
                await run_anonymous(lambda session, refusal=exc: booking.complete_alternatives(session, refusal))
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

