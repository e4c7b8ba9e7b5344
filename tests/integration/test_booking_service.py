"""The booking use cases against the real database: availability, reserve → confirm, change, cancel, waitlist."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import AvailabilityOverride
from nexdrive.services.scheduling import booking
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.errors import (
    BookingTooFar,
    BookingTooLate,
    Forbidden,
    NotEligible,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from nexdrive.services.scheduling.holidays import act_public_holidays
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.reference import today
from tests.factories import make_student

TUESDAY = weekday_ahead(1)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        student = make_student(s, instructor)
        return {"instructor": instructor.id, "service": service.id, "student": student.id,
                "student_user": student.user_id}


def _count(s, table, where="true", **params):
    return s.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar()


def _book(engine, school, start, actor=VISITOR, **details):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, actor, service_id=school["service"], start_time=start, **{**DETAILS, **details})
        return r.booking.id, r.manage_token


def _confirmed(engine, school, start, **kw):
    booking_id, token = _book(engine, school, start, **kw)
    with session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
    return booking_id, token


def _student(school):
    return Actor(role="student", user_id=school["student_user"], student_id=school["student"])


def test_availability_follows_the_weekly_hours_in_canberra_time(engine, school):
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=TUESDAY - timedelta(days=2),
                                           date_to=TUESDAY)
    days = {d["date"]: d for d in view["slots"]}
    assert (TUESDAY - timedelta(days=2)).isoformat() not in days  # Sunday: no hours
    times = [t["start"] for t in days[TUESDAY.isoformat()]["times"]]
    assert times[0] == "08:00" and times[-1] == "17:00"  # a 60-minute lesson must end by 18:00
    assert times[:3] == ["08:00", "08:30", "09:00"]
    assert days[TUESDAY.isoformat()]["times"][0]["start_at"] == at(TUESDAY, "08:00").isoformat().replace("+00:00", "Z")


def test_a_public_holiday_is_closed_unless_the_instructor_opens_it(engine, school):
    year = TUESDAY.year + 1
    holiday = next(d for d in act_public_holidays(year) if d.weekday() < 5)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = 800 WHERE id = 1"))
        closed = booking.availability_by_day(s, service_ref=school["service"], date_from=holiday, date_to=holiday)
        s.add(AvailabilityOverride(instructor_id=school["instructor"], date=holiday, override_type="available",
                                   start_time=at(holiday, "10:00").astimezone(booking.BUSINESS_TZ).time(),
                                   end_time=at(holiday, "12:00").astimezone(booking.BUSINESS_TZ).time()))
        s.flush()
        opened = booking.availability_by_day(s, service_ref=school["service"], date_from=holiday, date_to=holiday)
    assert closed["slots"] == []
    assert [t["start"] for t in opened["slots"][0]["times"]] == ["10:00", "10:30", "11:00"]


def test_a_visitor_books_and_confirms_and_the_contact_is_recorded(engine, school):
    booking_id, token = _book(engine, school, at(TUESDAY, "10:00"), utm=None)
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT status, contact_id, hold_expires_at > now() AS live FROM bookings "
                                "WHERE id = :i"), {"i": booking_id}).one()
        assert row.status == "held" and row.live
        contact = s.execute(sa.text("SELECT phone, email, lifecycle_stage FROM contacts WHERE id = :c"),
                            {"c": row.contact_id}).one()
        assert contact == ("+61412345678", "ava@example.com", "qualified")
        confirmed = booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
        assert confirmed.status == "confirmed" and confirmed.payment_status == "unpaid"
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT lifecycle_stage FROM contacts WHERE id = :c"),
                         {"c": row.contact_id}).scalar() == "enrolled"
        messages = s.execute(sa.text("SELECT channel, recipient, body FROM outbox_messages WHERE booking_id = :i "
                                     "ORDER BY channel"), {"i": booking_id}).all()
        assert [(m.channel, m.recipient) for m in messages] == [("email", "ava@example.com"), ("sms", "+61412345678")]
        assert all("NexDrive Academy" in m.body and token in m.body for m in messages)
        # A replayed confirmation changes nothing and sends nothing more.
        booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
        assert _count(s, "outbox_messages", "booking_id = :i", i=booking_id) == 2
        assert _count(s, "audit_log", "subject_id = :i AND event_type = 'booking.confirmed'", i=booking_id) == 1


def test_a_retried_reservation_returns_the_same_hold(engine, school):
    # Only the same caller retries: the same idempotency key (a matching email or phone proves nothing).
    first, first_token = _book(engine, school, at(TUESDAY, "10:00"), idempotency_key="retry-0123456789abcdef")
    again, token = _book(engine, school, at(TUESDAY, "10:00"), idempotency_key="retry-0123456789abcdef")
    assert again == first and token == first_token
    with session_scope(engine) as s:
        assert _count(s, "bookings") == 1 and _count(s, "contacts", "phone = '+61412345678'") == 1
        assert booking.get_booking(s, VISITOR, first, manage_token=token)["status"] == "held"


def test_the_second_visitor_gets_a_conflict_with_the_nearest_alternatives(engine, school):
    _book(engine, school, at(TUESDAY, "10:00"))
    with pytest.raises(SlotUnavailable) as exc:
        _book(engine, school, at(TUESDAY, "10:00"), name="Ben Lee", phone="0498 765 432", email="ben@example.com")
    alternatives = exc.value.details["suggested_alternatives"]
    assert len(alternatives) == 3
    starts = [a["start"] for a in alternatives]
    # 09:30-10:45 and 10:00-11:15 are blocked by the 10:00 lesson and its 15-minute buffer.
    assert all(a["date"] == TUESDAY.isoformat() for a in alternatives)
    assert "10:00" not in starts and "10:30" not in starts and "09:30" not in starts
    assert set(starts) <= {"08:30", "11:30", "08:00", "12:00", "09:00"}
    with session_scope(engine) as s:
        assert _count(s, "bookings") == 1
        assert _count(s, "contacts", "phone = '+61498765432'") == 0  # the failed request left nothing behind


@pytest.mark.parametrize("when, error", [
    ("07:00", SlotUnavailable),  # before the working day
    ("17:30", SlotUnavailable),  # would end after 18:00
    ("10:15", SlotUnavailable),  # not on the half-hour grid
])
def test_times_that_are_not_offered_are_refused(engine, school, when, error):
    with pytest.raises(error):
        _book(engine, school, at(TUESDAY, when))
    with session_scope(engine) as s:
        assert _count(s, "bookings") == 0 and _count(s, "contacts") == 0


def test_notice_and_horizon_are_enforced(engine, school):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET min_booking_notice_hours = 24, booking_horizon_days = 30"))
    tomorrowish = today() + timedelta(days=1)
    with pytest.raises((BookingTooLate, SlotUnavailable)):
        _book(engine, school, at(today(), "23:00"))
    far = weekday_ahead(1, weeks=6)
    with pytest.raises(BookingTooFar):
        _book(engine, school, at(far, "10:00"))
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=today(),
                                           date_to=tomorrowish + timedelta(days=40))
    assert max(d["date"] for d in view["slots"]) <= (today() + timedelta(days=30)).isoformat()
    assert min(t["start_at"] for d in view["slots"] for t in d["times"]) > at(today(), "00:00").isoformat()


def test_bad_details_are_refused_and_change_nothing(engine, school):
    for bad, field in [({"phone": "12345"}, "phone"), ({"email": "not-an-email"}, "email"),
                       ({"pickup_address": " "}, "pickup_address"), ({"name": ""}, "name")]:
        with pytest.raises(ValidationFailed) as exc:
            _book(engine, school, at(TUESDAY, "10:00"), **bad)
        assert exc.value.details["field"] == field
    with session_scope(engine) as s:
        assert _count(s, "bookings") == 0 and _count(s, "contacts") == 0


def test_the_daily_limit_closes_the_day(engine, school):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET max_lessons_per_day = 1 WHERE id = :i"), {"i": school["instructor"]})
    _confirmed(engine, school, at(TUESDAY, "08:00"))
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=TUESDAY, date_to=TUESDAY)
    assert view["slots"] == []
    with pytest.raises(SlotUnavailable):
        _book(engine, school, at(TUESDAY, "14:00"), name="Ben Lee", phone="0498765432", email="ben@example.com")


def test_no_slots_after_the_accreditation_lapses(engine, school):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET accreditation_expiry = :d WHERE id = :i"),
                  {"d": TUESDAY - timedelta(days=1), "i": school["instructor"]})
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=TUESDAY - timedelta(days=3),
                                           date_to=TUESDAY + timedelta(days=3))
    assert view["slots"] and max(d["date"] for d in view["slots"]) < TUESDAY.isoformat()


def test_reschedule_moves_the_same_booking_and_frees_the_old_time(engine, school):
    booking_id, token = _confirmed(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        moved = booking.reschedule_booking(s, VISITOR, booking_id, at(TUESDAY, "14:00"), manage_token=token)
        assert moved.id == booking_id and moved.reschedule_count == 1 and moved.status == "confirmed"
    other, _ = _book(engine, school, at(TUESDAY, "10:00"), name="Ben Lee", phone="0498765432",
                     email="ben@example.com")
    with session_scope(engine) as s:
        assert _count(s, "bookings", "status IN ('held','confirmed')") == 2
        assert _count(s, "outbox_messages", "template = 'booking_rescheduled' AND booking_id = :i", i=booking_id) == 2
        assert booking.overlapping_pairs(s, school["instructor"]) == 0
    # Moving onto a taken time is refused and the booking stays where it was.
    with pytest.raises(SlotUnavailable):
        with session_scope(engine) as s:
            booking.reschedule_booking(s, VISITOR, booking_id, at(TUESDAY, "10:00"), manage_token=token)
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT start_time FROM bookings WHERE id = :i"),
                         {"i": booking_id}).scalar() == at(TUESDAY, "14:00")


def test_a_lesson_can_move_within_its_own_buffer(engine, school):
    booking_id, token = _confirmed(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        assert booking.reschedule_booking(s, VISITOR, booking_id, at(TUESDAY, "10:30"),
                                          manage_token=token).start_time == at(TUESDAY, "10:30")


def test_cancelling_is_free_outside_the_window_and_charged_inside_it(engine, school):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET cancellation_notice_hours = 24, "
                          "late_cancellation_fee_cents = 4250, min_booking_notice_hours = 2"))
    early, token = _confirmed(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, early, manage_token=token, reason="Sick")
        assert outcome.fee_cents == 0 and outcome.free
    late, token2 = _confirmed(engine, school, at(TUESDAY, "13:00"), name="Ben Lee", phone="0498765432",
                              email="ben@example.com")
    with session_scope(engine) as s:
        # Bring the lesson inside the 24-hour window (as if time had passed).
        s.execute(sa.text("UPDATE bookings SET start_time = now() + interval '5 hours', "
                          "end_time = now() + interval '6 hours' WHERE id = :i"), {"i": late})
    with session_scope(engine) as s:
        with pytest.raises(BookingTooLate):
            booking.reschedule_booking(s, VISITOR, late, at(TUESDAY, "15:00"), manage_token=token2)
    with session_scope(engine) as s:
        terms = booking.get_booking(s, VISITOR, late, manage_token=token2)["cancellation_terms"]
        assert terms["free"] is False and terms["fee"] == "$42.50"
        with pytest.raises(Forbidden):
            booking.cancel_booking(s, VISITOR, late, manage_token=token2, waive_fee=True)
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, late, manage_token=token2)
        assert outcome.fee_cents == 4250 and "$42.50" in outcome.message
    with session_scope(engine) as s:
        again = booking.cancel_booking(s, VISITOR, late, manage_token=token2)  # a retry changes nothing
        assert again.fee_cents == 4250
        instructor = Actor(role="instructor", instructor_id=school["instructor"])
        waived = booking.waive_cancellation_fee(s, instructor, late)
        assert waived.cancellation_fee_cents == 0 and waived.fee_waived_at is not None
        assert _count(s, "audit_log", "subject_id = :i AND event_type = 'booking.fee_waived'", i=late) == 1


def test_only_the_owner_of_a_booking_may_change_it(engine, school):
    booking_id, token = _confirmed(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        with pytest.raises(NotFound):
            booking.cancel_booking(s, VISITOR, booking_id, manage_token="wrong-token")
        with pytest.raises(Forbidden):
            booking.cancel_booking(s, _student(school), booking_id)
        other_instructor = Actor(role="instructor", instructor_id=school["student"])  # not this booking's
        with pytest.raises(Forbidden):
            booking.reschedule_booking(s, other_instructor, booking_id, at(TUESDAY, "14:00"))
        with pytest.raises(Forbidden):
            booking.mark_no_show(s, _student(school), booking_id)
    with session_scope(engine) as s:
        assert (
            s.execute(sa.text("SELECT status FROM bookings WHERE id = :i"), {"i": booking_id}).scalar() == "confirmed"
        )


def test_a_signed_in_student_books_without_typing_details_and_sees_it(engine, school):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, _student(school), service_id=school["service"], start_time=at(TUESDAY, "09:00"),
                                pickup_address="1 Home St", suburb="Kambah")
        booking.confirm_booking(s, _student(school), r.booking.id)
    with session_scope(engine) as s:
        mine = booking.list_my_bookings(s, _student(school), upcoming=True)
        assert [b["start"] for b in mine["bookings"]] == ["09:00"]
        assert mine["bookings"][0]["student_id"] == str(school["student"])
        contact = s.execute(sa.text("SELECT user_id FROM contacts WHERE id = (SELECT contact_id FROM bookings "
                                    "WHERE id = :i)"), {"i": r.booking.id}).scalar()
        assert contact == school["student_user"]  # the contact is linked to the student's account


def test_bookings_list_pages_with_a_cursor(engine, school):
    for hhmm in ("08:00", "10:00", "12:00", "14:00", "16:00"):
        with session_scope(engine) as s:
            r = booking.book_lesson(s, _student(school), service_id=school["service"], start_time=at(TUESDAY, hhmm),
                                    pickup_address="1 Home St", suburb="Kambah")
            booking.confirm_booking(s, _student(school), r.booking.id)
    seen, cursor = [], None
    while True:
        with session_scope(engine) as s:
            page = booking.list_my_bookings(s, _student(school), limit=2, cursor=cursor)
        seen += [b["start"] for b in page["bookings"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["08:00", "10:00", "12:00", "14:00", "16:00"]


def _make_competent(s, student_id, instructor_id, task_numbers, hours_ago=72):
    s.execute(sa.text("""
        INSERT INTO student_competencies (student_id, task_id, instructor_id, status, transmission, status_changed_at)
        SELECT :s, t.id, :i, 'competent', 'auto', now() - make_interval(hours => :h)
        FROM competency_tasks t WHERE t.task_number = ANY(:n) ORDER BY t.task_number"""),
        {"s": student_id, "i": instructor_id, "n": list(task_numbers), "h": hours_ago})


def test_review_1_needs_tasks_1_to_17_and_the_36_hour_gap(engine, school):
    with session_scope(engine) as s:
        review = s.execute(sa.text("SELECT id FROM services WHERE slug = 'review-1'")).scalar()
        with pytest.raises(NotEligible, match="sign in"):
            booking.book_lesson(s, VISITOR, service_id=review, start_time=at(TUESDAY, "10:00"), **DETAILS)
    student = _student(school)
    with session_scope(engine) as s:
        _make_competent(s, school["student"], school["instructor"], range(1, 17))  # 16 of 17
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            booking.book_lesson(s, student, service_id=review, start_time=at(TUESDAY, "10:00"),
                                pickup_address="1 Home St", suburb="Kambah")
        assert exc.value.details["missing"] == [17] and "task 17" in exc.value.message
    with session_scope(engine) as s:
        _make_competent(s, school["student"], school["instructor"], [17], hours_ago=0)
    with session_scope(engine) as s:
        # Tuesday is weeks away, so the 36-hour gap is met.
        r = booking.book_lesson(s, student, service_id=review, start_time=at(TUESDAY, "10:00"),
                                pickup_address="1 Home St", suburb="Kambah")
        assert r.booking.status == "held"


def test_final_drive_needs_review_2(engine, school):
    with session_scope(engine) as s:
        final = s.execute(sa.text("SELECT id FROM services WHERE slug = 'final-drive'")).scalar()
        with pytest.raises(NotEligible, match="Review 2"):
            booking.book_lesson(s, _student(school), service_id=final, start_time=at(TUESDAY, "10:00"),
                                pickup_address="1 Home St", suburb="Kambah")


def test_a_cancellation_offers_the_time_to_the_waitlist(engine, school):
    with session_scope(engine) as s:
        entry = booking.join_waitlist(s, VISITOR, preferred_day=2, time_start=at(TUESDAY, "09:00").astimezone(
            booking.BUSINESS_TZ).time(), time_end=at(TUESDAY, "12:00").astimezone(booking.BUSINESS_TZ).time(),
            name="Wendy Wait", phone="0400 111 222", email="wendy@example.com")
        other = booking.join_waitlist(s, VISITOR, preferred_day=5, name="Fri Only", phone="0400 333 444",
                                      email="fri@example.com")
    booking_id, token = _confirmed(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    with session_scope(engine) as s:
        rows = dict(s.execute(sa.text("SELECT id, status FROM waitlist")).all())
        assert rows == {entry.id: "notified", other.id: "waiting"}
        sms = s.execute(
            sa.text("SELECT recipient, body FROM outbox_messages WHERE template = 'waitlist_available'")
        ).all()
        assert [m.recipient for m in sms] == ["+61400111222"] and "NexDrive Academy" in sms[0].body


def test_no_show_only_after_the_start(engine, school):
    booking_id, _ = _confirmed(engine, school, at(TUESDAY, "10:00"))
    instructor = Actor(role="instructor", instructor_id=school["instructor"])
    with session_scope(engine) as s:
        with pytest.raises(Exception, match="start time has passed"):
            booking.mark_no_show(s, instructor, booking_id)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET start_time = now() - interval '2 hours', "
                          "end_time = now() - interval '1 hour' WHERE id = :i"), {"i": booking_id})
    with session_scope(engine) as s:
        assert booking.mark_no_show(s, instructor, booking_id).status == "no_show"
        assert booking.mark_no_show(s, SYSTEM, booking_id).cancellation_fee_cents == 8500


def test_letting_go_of_a_hold_sends_no_cancellation(engine, school):
    booking_id, token = _book(engine, school, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
        assert outcome.fee_cents == 0
    with session_scope(engine) as s:
        assert _count(s, "outbox_messages", "booking_id = :i", i=booking_id) == 0
