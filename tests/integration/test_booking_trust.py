"""Whose booking is it: a booking belongs to the person who made it, never to whoever shares a detail."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexdrive.adapters import override
from nexdrive.adapters.payments import LocalGateway
from nexdrive.db import session_scope
from nexdrive.models import Instructor
from nexdrive.services.core import access
from nexdrive.services.scheduling import booking
from nexdrive.services.crm import contacts
from nexdrive.services.money import payments
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.settings import Settings
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_student, make_user

TUESDAY = weekday_ahead(1)
VISITOR_DETAILS = dict(name="Vera Visitor", phone="0400 000 000", email="vera@example.com",
                       pickup_address="5 Other St", suburb="Kambah")


@pytest.fixture(autouse=True)
def local_gateway():
    override("payments", LocalGateway(Settings(stripe_secret_key="")))
    yield
    override("payments", None)


@pytest.fixture
def school(engine):
    """A learner with an account (mobile +61400000000) and their CRM contact linked to it."""
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        learner = make_student(s, s.get(Instructor, instructor.id))
        profile = s.execute(sa.text("SELECT first_name, last_name, email, phone FROM profiles p JOIN students st "
                                    "ON st.profile_id = p.id WHERE st.id = :s"), {"s": learner.id}).one()
        contact = contacts.record_contact(s, SYSTEM, name=f"{profile.first_name} {profile.last_name}",
                                          phone=profile.phone, email=profile.email, user_id=learner.user_id,
                                          stage="active")
        admin_user, _ = make_user(s, "admin", "Ada")
        return {"instructor": instructor.id, "service": service.id, "student": learner.id,
                "student_user": learner.user_id, "learner_email": profile.email, "learner_phone": profile.phone,
                "learner_name": f"{profile.first_name} {profile.last_name}", "contact": contact.id,
                "admin": Actor(role="admin", user_id=admin_user.id)}


def _snapshot(s, school):
    contact = s.execute(sa.text("SELECT first_name, last_name, phone, email, user_id, source_detail "
                                "FROM contacts WHERE id = :c"), {"c": school["contact"]}).one()
    account = s.execute(sa.text("SELECT u.email, u.updated_at, p.first_name, p.last_name, p.phone, p.email, "
                                "p.updated_at FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = :u"),
                        {"u": school["student_user"]}).one()
    return tuple(contact), tuple(account)


def test_a_visitor_typing_a_learners_mobile_books_for_themselves(engine, school):
    with session_scope(engine) as s:
        before = _snapshot(s, school)
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "10:00"),
                                **VISITOR_DETAILS)
        booking_id, token = r.booking.id, r.manage_token
        assert r.summary["learner_first_name"] == "Vera"
    with session_scope(engine) as s:  # pays by card (local gateway): confirmation, manage link and receipt
        payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token)

    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT student_id, contact_id, status, payment_status, booked_by FROM bookings "
                                "WHERE id = :b"), {"b": booking_id}).one()
        assert row.student_id is None and row.booked_by is None
        assert row.status == "confirmed" and row.payment_status == "paid"
        assert row.contact_id != school["contact"]
        assert _snapshot(s, school) == before  # the learner's account, email and contact row untouched
        contact_user = s.execute(sa.text("SELECT user_id FROM contacts WHERE id = :c"), {"c": row.contact_id}).scalar()
        assert contact_user is None
        mail = s.execute(sa.text("SELECT template, recipient, body FROM outbox_messages WHERE channel = 'email'"
                                 )).all()
        to_visitor = {m.template for m in mail if m.recipient == "vera@example.com"}
        assert {"booking_confirmation", "payment_received"} <= to_visitor
        confirmation = next(m for m in mail if m.template == "booking_confirmation")
        assert confirmation.recipient == "vera@example.com" and "/booking/manage?token=" in confirmation.body
        assert not [m for m in mail if m.recipient == school["learner_email"]]
        everything = s.execute(sa.text("SELECT recipient FROM outbox_messages")).scalars().all()
        assert school["learner_email"] not in everything
        assert not s.execute(sa.text("SELECT count(*) FROM notifications WHERE recipient_id = :u"),
                             {"u": school["student_user"]}).scalar()
        staff_notice = s.execute(sa.text("SELECT body FROM notifications WHERE recipient_id = :u AND "
                                         "notification_type = 'booking_new'"),
                                 {"u": school["admin"].user_id}).scalar()
        assert staff_notice.startswith("Vera Visitor booked") and "Sam" not in staff_notice
        buyer = s.execute(sa.text("SELECT i.buyer_snapshot FROM invoices i JOIN payments p ON p.id = i.payment_id "
                                  "WHERE p.booking_id = :b"), {"b": booking_id}).scalar()
        assert (buyer["name"], buyer["email"]) == ("Vera Visitor", "vera@example.com")
        # The learner's own views don't show it; staff see the likely match, nothing merged.
        learner = Actor(role="student", user_id=school["student_user"], student_id=school["student"])
        assert booking.list_my_bookings(s, learner)["bookings"] == []
        listed = {b["id"]: b for b in access.list_bookings(s, school["admin"])}
        assert listed[booking_id]["possible_match"] == f"possibly the same person as {school['learner_name']}"


def test_an_unauthenticated_booking_never_fills_or_changes_an_existing_contact(engine, school):
    """A prospect contact with only an email: a visitor typing that email plus a mobile gets their own contact."""
    with session_scope(engine) as s:
        prospect = contacts.record_contact(s, SYSTEM, name="Pat Prospect", phone=None, email="pat@example.com")
        prospect_id = prospect.id
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "12:00"),
                                name="Someone Else", phone="0411 111 111", email="pat@example.com",
                                pickup_address="1 A St", suburb="Kambah")
        booking_id = r.booking.id
    with session_scope(engine) as s:
        pat = s.execute(sa.text("SELECT first_name, phone, email, total_interactions FROM contacts WHERE id = :c"),
                        {"c": prospect_id}).one()
        assert tuple(pat) == ("Pat", None, "pat@example.com", 1)
        row = s.execute(sa.text("SELECT b.contact_id, c.first_name, c.phone, c.email FROM bookings b "
                                "JOIN contacts c ON c.id = b.contact_id WHERE b.id = :b"), {"b": booking_id}).one()
        assert row.contact_id != prospect_id
        assert (row.first_name, row.phone, row.email) == ("Someone", "+61411111111", None)


def test_an_enquiry_with_a_learners_email_is_not_filed_under_the_learner(engine, school):
    with session_scope(engine) as s:
        before = _snapshot(s, school)
        contact = contacts.record_enquiry(s, VISITOR, name="Ella Enquirer", phone="0422 222 222",
                                          email=school["learner_email"], message="Do you teach manual?")
        contact_id = contact.id
    with session_scope(engine) as s:
        assert _snapshot(s, school) == before
        assert contact_id != school["contact"]
        assert s.execute(sa.text("SELECT user_id FROM contacts WHERE id = :c"), {"c": contact_id}).scalar() is None
        body = s.execute(sa.text("SELECT body FROM outbox_messages WHERE template = 'enquiry_received'")).scalar()
        assert "0422 222 222" in body and school["learner_email"] in body
        assert f"Possibly the same person as {school['learner_name']}" in body


def test_a_new_number_texting_in_does_not_take_over_a_contact(engine, school):
    from nexdrive.services.crm import sms_replies
    with session_scope(engine) as s:
        before = _snapshot(s, school)
        sms_replies.handle_inbound_sms(s, from_number="+61433333333", body="Hi, do you have Saturday lessons?",
                                       message_sid="SM-trust-1")
    with session_scope(engine) as s:
        assert _snapshot(s, school) == before
        new = s.execute(sa.text("SELECT user_id, phone FROM contacts WHERE phone = '+61433333333'")).one()
        assert new.user_id is None


# ------------------------------------------------------------------ held-booking takeover (B)

def _reserve(s, school, actor=VISITOR, start="10:00", **kw):
    details = {**VISITOR_DETAILS, **kw}
    return booking.book_lesson(s, actor, service_id=school["service"], start_time=at(TUESDAY, start), **details)


def _token_works(engine, booking_id, token) -> bool:
    from nexdrive.errors import NotFound
    with session_scope(engine) as s:
        try:
            booking.get_booking(s, VISITOR, booking_id, manage_token=token)
            return True
        except NotFound:
            return False


def test_knowing_the_holders_email_does_not_take_over_a_hold(engine, school):
    from nexdrive.errors import SlotUnavailable
    with session_scope(engine) as s:
        first = _reserve(s, school, phone="0455 555 555")
        held_id, held_token, token_hash = first.booking.id, first.manage_token, first.booking.manage_token_hash
    with session_scope(engine) as s:
        with pytest.raises(SlotUnavailable):
            _reserve(s, school, name="Mallory", phone="0499 999 999")  # same email, another phone
    with session_scope(engine) as s:
        with pytest.raises(SlotUnavailable):  # knows the email and the phone
            _reserve(s, school, name="Mallory", phone="0455 555 555", pickup_address="1 Elsewhere Rd")
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT manage_token_hash, status, pickup_address FROM bookings WHERE id = :b"),
                        {"b": held_id}).one()
        assert row.manage_token_hash == token_hash and row.status == "held" and row.pickup_address == "5 Other St"
        assert s.execute(sa.text("SELECT count(*) FROM bookings")).scalar() == 1
    assert _token_works(engine, held_id, held_token)


def test_a_signed_in_learners_hold_cannot_be_taken_over_by_their_email(engine, school):
    from nexdrive.errors import SlotUnavailable
    learner = Actor(role="student", user_id=school["student_user"], student_id=school["student"])
    with session_scope(engine) as s:
        mine = booking.book_lesson(s, learner, service_id=school["service"], start_time=at(TUESDAY, "09:00"),
                                   pickup_address="1 Home St", suburb="Kambah")
        held_id, held_token = mine.booking.id, mine.manage_token
    with session_scope(engine) as s:
        with pytest.raises(SlotUnavailable):
            _reserve(s, school, start="09:00", name="Mallory", phone="0499 999 999", email=school["learner_email"])
        with pytest.raises(SlotUnavailable):
            _reserve(s, school, start="09:00", name="Mallory", phone=school["learner_phone"],
                     email=school["learner_email"])
    assert _token_works(engine, held_id, held_token)
    # The learner's own retry (signed in) returns the same hold and hands out no link again.
    with session_scope(engine) as s:
        again = booking.book_lesson(s, learner, service_id=school["service"], start_time=at(TUESDAY, "09:00"),
                                    pickup_address="1 Home St", suburb="Kambah")
        assert again.booking.id == held_id and again.manage_token is None
    assert _token_works(engine, held_id, held_token)


def test_the_same_caller_retrying_gets_the_same_hold_and_link(engine, school):
    with session_scope(engine) as s:
        first = _reserve(s, school, idempotency_key="retry-key-0123456789")
        held_id, token = first.booking.id, first.manage_token
    with session_scope(engine) as s:  # the response was lost: the same key again
        again = _reserve(s, school, idempotency_key="retry-key-0123456789")
        assert (again.booking.id, again.manage_token) == (held_id, token)
    with session_scope(engine) as s:  # or the caller's own manage token
        again = _reserve(s, school, manage_token=token)
        assert (again.booking.id, again.manage_token) == (held_id, token)
    assert _token_works(engine, held_id, token)
    from nexdrive.errors import SlotUnavailable, ValidationFailed
    with session_scope(engine) as s:  # someone else's key is not this caller's
        with pytest.raises(SlotUnavailable):
            _reserve(s, school, idempotency_key="another-key-0123456789")
    with session_scope(engine) as s:  # a used key for another time is refused, not a second hold
        with pytest.raises(ValidationFailed):
            _reserve(s, school, start="13:00", idempotency_key="retry-key-0123456789")


def test_api_reserve_with_the_holders_email_is_refused_and_the_holders_link_still_works(engine, school):
    import httpx
    from tests.api_server import serve_api
    body = {"service_id": str(school["service"]), "date": TUESDAY.isoformat(), "start_time": "10:00",
            "contact": {"name": "Vera Visitor", "phone": "0400 000 000", "email": "vera@example.com"},
            "pickup_address": "5 Other St", "suburb": "Kambah"}
    with serve_api() as api:
        first = httpx.post(api + "/api/v1/booking/reserve", json=body, headers={"Idempotency-Key": "k" * 20})
        assert first.status_code == 201, first.text
        held = first.json()["data"]
        probe = {**body, "contact": {**body["contact"], "name": "Mallory", "phone": "0499 999 999"}}
        taken = httpx.post(api + "/api/v1/booking/reserve", json=probe)
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "BOOKING_CONFLICT"
        assert held["reservation_id"] not in taken.text and "5 Other St" not in taken.text
        assert "manage_token" not in taken.text
        mine = httpx.get(api + f"/api/v1/bookings/{held['reservation_id']}",
                         headers={"X-Manage-Token": held["manage_token"]})
        assert mine.status_code == 200 and mine.json()["data"]["pickup_address"] == "5 Other St"
        retry = httpx.post(api + "/api/v1/booking/reserve", json=body, headers={"Idempotency-Key": "k" * 20})
        assert retry.status_code == 201
        assert (retry.json()["data"]["reservation_id"], retry.json()["data"]["manage_token"]) == (
            held["reservation_id"], held["manage_token"])
        retry = httpx.post(api + "/api/v1/booking/reserve", json=body,
                           headers={"X-Manage-Token": held["manage_token"]})
        assert retry.status_code == 201 and retry.json()["data"]["manage_token"] == held["manage_token"]


# ------------------------------------------------------------------ book-for is not read (C)

def _parent(s, student_id, **flags) -> Actor:
    from datetime import datetime, timezone
    from nexdrive.models import Parent, ParentStudentLink
    from nexdrive.services.identity.accounts import PARENT_PERMISSIONS
    user, profile = make_user(s, "parent", "Pat")
    parent = Parent(user_id=user.id, profile_id=profile.id)
    s.add(parent)
    s.flush()
    s.add(ParentStudentLink(parent_id=parent.id, student_id=student_id, status="active",
                            accepted_at=datetime.now(timezone.utc),
                            **{p: flags.get(p, True) for p in PARENT_PERMISSIONS}))
    s.flush()
    return Actor(role="parent", user_id=user.id, parent_id=parent.id)


def test_a_parent_who_may_book_but_not_see_bookings_cannot_read_them_by_id(engine, school):
    from nexdrive.errors import Forbidden
    learner = Actor(role="student", user_id=school["student_user"], student_id=school["student"])
    with session_scope(engine) as s:
        booker = _parent(s, school["student"], can_view_bookings=False, can_book_lessons=True)
        viewer = _parent(s, school["student"], can_view_bookings=True, can_book_lessons=False)
        own = booking.book_lesson(s, learner, service_id=school["service"], start_time=at(TUESDAY, "09:00"),
                                  pickup_address="1 Home St", suburb="Kambah")
        booking.confirm_booking(s, learner, own.booking.id)
        learners_booking = own.booking.id
    with session_scope(engine) as s:
        with pytest.raises(Forbidden):
            booking.get_booking(s, booker, learners_booking)  # the API's detail and .ics
        with pytest.raises(Forbidden):
            access.get_booking(s, booker, learners_booking)
        with pytest.raises(Forbidden):
            booking.cancel_booking(s, booker, learners_booking)
        assert booking.get_booking(s, viewer, learners_booking)["id"] == str(learners_booking)
    with session_scope(engine) as s:  # book-for still books, and the parent sees what they booked
        made = booking.book_lesson(s, booker, service_id=school["service"], start_time=at(TUESDAY, "13:00"),
                                   student_id=school["student"], pickup_address="1 Home St", suburb="Kambah")
        made_id = made.booking.id
    with session_scope(engine) as s:
        assert booking.get_booking(s, booker, made_id)["student_id"] == str(school["student"])
        start = payments.start_booking_checkout(s, booker, booking_id=made_id)
        assert start.covered_by == "card"
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT status FROM bookings WHERE id = :b"), {"b": learners_booking}).scalar() \
            == "confirmed"


def test_the_ics_by_id_refuses_a_book_only_parent(engine, school):
    import httpx
    from nexdrive.services.identity import accounts as accounts_svc
    from tests.api_server import serve_api
    learner = Actor(role="student", user_id=school["student_user"], student_id=school["student"])
    with session_scope(engine) as s:
        booker = _parent(s, school["student"], can_view_bookings=False, can_book_lessons=True)
        own = booking.book_lesson(s, learner, service_id=school["service"], start_time=at(TUESDAY, "09:00"),
                                  pickup_address="1 Home St", suburb="Kambah")
        booking.confirm_booking(s, learner, own.booking.id)
        from nexdrive.models import User
        session_token = accounts_svc._issue_session(s, s.get(User, booker.user_id), None, None).token
    with serve_api() as api:
        auth = {"Authorization": f"Bearer {session_token}"}
        ics = httpx.get(api + f"/api/v1/bookings/{own.booking.id}/calendar.ics", headers=auth)
        detail = httpx.get(api + f"/api/v1/bookings/{own.booking.id}", headers=auth)
    assert ics.status_code == 403 and "BEGIN:VCALENDAR" not in ics.text
    assert detail.status_code == 403


# ------------------------------------------------------------------ one lock order (D)

def test_checkout_completion_and_reserve_on_one_instructor_never_deadlock(engine, school):
    """Card checkouts (the local gateway completes them at once) race new reservations for the same
    instructor. Before one lock order, the checkout held the audit chain head and booking rows while
    waiting for the instructor lock that a reservation held while waiting for them: DeadlockDetected."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from nexdrive.errors import ServiceError
    days = [weekday_ahead(d) for d in (1, 2, 3)]
    held = []
    for n, day in enumerate(days * 3):
        hhmm = ["08:00", "11:00", "14:00"][n // 3]
        with session_scope(engine) as s:
            r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(day, hhmm),
                                    name=f"Payer {n}", phone=f"0410{n:06d}", email=f"payer{n}@example.com",
                                    pickup_address="1 A St", suburb="Kambah")
            held.append((r.booking.id, r.manage_token))
    wanted = [(day, hhmm) for day in days for hhmm in ("09:30", "12:30", "15:30", "17:00")]
    barrier = threading.Barrier(2)
    unexpected: list[BaseException] = []

    def pay_all():
        barrier.wait()
        for booking_id, token in held:
            try:
                with session_scope(engine) as s:
                    payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token)
            except ServiceError:
                pass
            except BaseException as exc:  # noqa: BLE001 - a deadlock (or anything else) fails the test
                unexpected.append(exc)

    def reserve_all():
        barrier.wait()
        for n, (day, hhmm) in enumerate(wanted):
            try:
                with session_scope(engine) as s:
                    booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(day, hhmm),
                                        name=f"Booker {n}", phone=f"0420{n:06d}", email=f"booker{n}@example.com",
                                        pickup_address="2 B St", suburb="Kambah")
            except ServiceError:
                pass  # the expected domain refusals (time taken, daily limit)
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(exc)

    with ThreadPoolExecutor(2) as pool:
        for f in [pool.submit(pay_all), pool.submit(reserve_all)]:
            f.result()
    assert unexpected == []
    with session_scope(engine) as s:
        paid = s.execute(sa.text("SELECT count(*) FROM bookings WHERE status = 'confirmed' AND payment_status = 'paid'"
                                 )).scalar()
        assert paid == len(held)
        assert booking.overlapping_pairs(s, school["instructor"]) == 0


# ------------------------------------------------------------------ no gateway call under row locks (E)

class _LockProbingGateway(LocalGateway):
    """A local gateway that, whenever it is called, checks from another connection that nothing
    the call is about is locked: the payment and booking rows (FOR UPDATE NOWAIT), the
    instructor's advisory lock and the audit chain head."""

    def __init__(self, engine, *, complete: bool = True):
        super().__init__(Settings(stripe_secret_key=""))
        self.engine, self.complete, self.calls = engine, complete, []

    def _probe(self, call: str, payment_id) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SET lock_timeout = '200ms'"))
            booking_id = conn.execute(sa.text("SELECT booking_id FROM payments WHERE id = :p"),
                                      {"p": payment_id}).scalar()
            conn.execute(sa.text("SELECT id FROM payments WHERE id = :p FOR UPDATE NOWAIT"), {"p": payment_id})
            conn.execute(sa.text("SELECT id FROM bookings WHERE id = :b FOR UPDATE NOWAIT"), {"b": booking_id})
            free = conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(i.lock_key) FROM bookings b "
                                        "JOIN instructors i ON i.id = b.instructor_id WHERE b.id = :b"),
                                {"b": booking_id}).scalar()
            conn.execute(sa.text("SELECT 1 FROM chain_heads FOR UPDATE NOWAIT"))
            conn.rollback()
        self.calls.append((call, bool(free)))

    def create_checkout(self, **kw):
        self._probe("create_checkout", kw["metadata"]["payment_id"])
        return super().create_checkout(**kw)

    def expire_checkout(self, checkout_id):
        with self.engine.connect() as conn:
            payment_id = conn.execute(sa.text("SELECT id FROM payments WHERE gateway_checkout_id = :c"),
                                      {"c": checkout_id}).scalar()
        self._probe("expire_checkout", payment_id)
        return super().expire_checkout(checkout_id)

    def immediate_events(self, checkout):
        return super().immediate_events(checkout) if self.complete else []


def test_the_gateway_is_called_with_no_row_locked_when_opening_and_expiring_checkouts(engine, school):
    from nexdrive.models import Payment
    gw = _LockProbingGateway(engine)
    override("payments", gw)
    with session_scope(engine) as s:
        r = _reserve(s, school, phone="0466 666 666")
    with session_scope(engine) as s:  # pay now: opened and completed
        payments.start_booking_checkout(s, VISITOR, booking_id=r.booking.id, manage_token=r.manage_token)
    gw.complete = False
    with session_scope(engine) as s:
        other = _reserve(s, school, start="13:00", phone="0477 777 777", email="w@example.com")
    with session_scope(engine) as s:  # left open, then closed by the stale-checkout job
        payments.start_booking_checkout(s, VISITOR, booking_id=other.booking.id, manage_token=other.manage_token)
    with session_scope(engine) as s:
        far = s.execute(sa.text("SELECT now() + interval '2 days'")).scalar()
        assert payments.expire_stale_checkouts(s, now=far) == 1
    assert [c for c, _ in gw.calls] == ["create_checkout", "create_checkout", "expire_checkout"]
    assert all(free for _, free in gw.calls), gw.calls  # the instructor's lock was free too
    with session_scope(engine) as s:
        statuses = sorted(p.status for p in s.exec(sa.select(Payment)).scalars())
        assert statuses == ["completed", "expired"]
        assert s.execute(sa.text("SELECT status, payment_status FROM bookings WHERE id = :b"),
                         {"b": r.booking.id}).one() == ("confirmed", "paid")
