"""Hold release, the waitlist matcher and the callback follow-up: each does its work once."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import CallLog, Contact, WaitlistEntry
from nexdrive.services.crm import callbacks
from nexdrive.services.identity import housekeeping
from nexdrive.services.scheduling import waitlist
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_student
from tests.jobs_helpers import CANBERRA, lesson, make_admin


def _db_now(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT now()")).scalar()


def test_lapsed_holds_are_released_once_and_live_ones_kept(engine):
    now = _db_now(engine)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        student = make_student(s, instructor)
        start = now + timedelta(days=10)
        lapsed = lesson(s, instructor, service, start, student=student, status="held",
                        hold_expires_at=now - timedelta(minutes=1))
        live = lesson(s, instructor, service, start + timedelta(hours=2), student=student, status="held",
                      hold_expires_at=now + timedelta(minutes=30))
        confirmed = lesson(s, instructor, service, start + timedelta(hours=4), student=student)
    with session_scope(engine) as s:
        assert housekeeping.release_lapsed_holds(s) == 1
    with session_scope(engine) as s:
        assert housekeeping.release_lapsed_holds(s) == 0  # a re-run changes nothing
        statuses = dict(s.execute(sa.text("SELECT id, status FROM bookings")).all())
    assert statuses == {lapsed.id: "expired", live.id: "held", confirmed.id: "confirmed"}
    with session_scope(engine) as s:  # half an hour later the other hold has lapsed too
        assert housekeeping.release_lapsed_holds(s, now + timedelta(minutes=31)) == 1


def test_the_waitlist_matcher_offers_matching_open_times_once(engine):
    now = at(weekday_ahead(0), "10:00")  # a Monday morning, weeks ahead (the matcher takes the clock as given)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s, days=(3,))  # Wednesdays only
        only_instructor(s, instructor.id)
        student = make_student(s, instructor)
        afternoons = WaitlistEntry(student_id=student.id, service_id=service.id, preferred_day=3,
                                   preferred_time_start=time(14), preferred_time_end=time(16))
        s.add(afternoons)
        s.flush()
        contact = Contact(first_name="Pat", phone="+61455555555", email="pat@example.com")
        s.add(contact)
        s.flush()
        fridays = WaitlistEntry(contact_id=contact.id, service_id=service.id, preferred_day=5)
        s.add(fridays)
        s.flush()
        anytime = WaitlistEntry(contact_id=contact.id, service_id=service.id)
        s.add(anytime)

    with session_scope(engine) as s:
        first = waitlist.match_waitlist(s, now)
    with session_scope(engine) as s:
        second = waitlist.match_waitlist(s, now)  # the daily re-run offers nothing twice
        entries = {e.id: e for e in s.exec(sa.select(WaitlistEntry)).scalars()}
        messages = s.execute(sa.text("SELECT channel, recipient, related_id, body FROM outbox_messages "
                                     "ORDER BY related_id, channel")).all()
    assert (first["offered"], first["waiting"], second["offered"], second["waiting"]) == (2, 1, 0, 1)
    offer = entries[afternoons.id].offered_start_time.astimezone(CANBERRA)
    assert entries[afternoons.id].status == "notified"
    assert (offer.isoweekday(), offer.strftime("%H:%M")) == (3, "14:00")
    assert offer - now.astimezone(CANBERRA) >= timedelta(hours=24)  # the online booking notice applies
    assert entries[fridays.id].status == "waiting"  # the instructor doesn't work Fridays
    any_offer = entries[anytime.id].offered_start_time.astimezone(CANBERRA)
    assert (any_offer.isoweekday(), any_offer.strftime("%H:%M")) == (3, "08:00")
    assert sorted((m.channel, m.related_id) for m in messages) == sorted(
        [("sms", afternoons.id), ("email", afternoons.id), ("sms", anytime.id), ("email", anytime.id)])
    assert all("NexDrive Academy" in m.body for m in messages)  # the sender is named

    # The offered times pass: the student booked theirs; the other entry waits again and gets a later time.
    with session_scope(engine) as s:
        lesson(s, instructor, service, entries[afternoons.id].offered_start_time, student=student)
    later = entries[anytime.id].offered_start_time + timedelta(hours=1)
    with session_scope(engine) as s:
        third = waitlist.match_waitlist(s, later)
        entries = {e.id: e for e in s.exec(sa.select(WaitlistEntry)).scalars()}
    assert (third["booked"], third["waiting_again"]) == (0, 1)  # only the 08:00 offer had passed by then
    assert entries[anytime.id].status == "notified" and entries[anytime.id].offered_start_time > later
    with session_scope(engine) as s:
        fourth = waitlist.match_waitlist(s, entries[afternoons.id].offered_start_time + timedelta(hours=1))
        status = s.get(WaitlistEntry, afternoons.id).status
    assert fourth["booked"] == 1 and status == "booked"


def test_open_callbacks_are_followed_up_once_a_day_and_when_a_new_caller_joins(engine):
    now = at(weekday_ahead(1), "10:00")
    with session_scope(engine) as s:
        admin = make_admin(s)
        s.add(CallLog(caller_phone="+61466666661", caller_name="Alex", caller_reason="price of 10 lessons",
                      started_at=now - timedelta(hours=3), requires_callback=True))
        s.add(CallLog(caller_phone="+61466666662", caller_name="Done", started_at=now - timedelta(hours=5),
                      requires_callback=True, callback_completed_at=now - timedelta(hours=1)))
        s.add(CallLog(caller_phone="+61466666663", started_at=now - timedelta(hours=2)))

    def follow_up(at):
        with session_scope(engine) as s:
            return callbacks.follow_up_callbacks(s, at)

    assert follow_up(now) == {"open": 1, "alerts_queued": 2}  # an e-mail and an in-app note
    assert follow_up(now + timedelta(hours=2)) == {"open": 1, "alerts_queued": 0}  # not every 2 hours
    with session_scope(engine) as s:
        s.add(CallLog(caller_phone="+61466666664", caller_name="Bo", started_at=now, requires_callback=True,
                      callback_scheduled_at=now + timedelta(hours=3)))
    assert follow_up(now + timedelta(hours=4)) == {"open": 2, "alerts_queued": 2}  # a new caller
    assert follow_up(now + timedelta(days=1)) == {"open": 2, "alerts_queued": 2}  # the next day's reminder
    with session_scope(engine) as s:
        rows = s.execute(sa.text("SELECT subject, body, recipient FROM outbox_messages ORDER BY created_at")).all()
        bells = s.execute(sa.text("SELECT recipient_id FROM notifications WHERE channel = 'in_app'")).scalars().all()
    assert [r.subject for r in rows] == ["1 caller waiting for a call back", "2 callers waiting for a call back",
                                         "2 callers waiting for a call back"]
    assert "Alex (+61466666661)" in rows[1].body and "price of 10 lessons" in rows[1].body
    assert "Bo (+61466666664)" in rows[1].body and "Asked to be called at" in rows[1].body
    assert "Done" not in rows[1].body and {r.recipient for r in rows} == {admin.email}
    assert bells == [admin.id] * 3
