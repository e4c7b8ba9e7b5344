"""Lesson reminders go out at the right Canberra time, across daylight saving, once each."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import Contact, NotificationPreference
from nexdrive.services.scheduling import reminders
from tests.factories import make_instructor, make_service, make_student
from tests.jobs_helpers import CANBERRA, UTC, first_sunday, lesson, local

# The first Sunday of April (clocks back 3:00 -> 2:00) and of October (2:00 -> 3:00), 2026-2028.
CHANGES = [first_sunday(y, m) for y in (2026, 2027, 2028) for m in (4, 10)]
STEP = timedelta(minutes=15)  # the job's period


def _run_every_15_minutes(engine, first: datetime, last: datetime) -> dict[str, datetime]:
    """Drive the job as the scheduler would; record when each reminder was queued (key -> simulated now)."""
    queued_at: dict[str, datetime] = {}
    now = first
    while now <= last:
        with session_scope(engine) as s:
            for q in reminders.queue_due_reminders(s, now):
                assert q.key not in queued_at, f"{q.key} queued twice"
                queued_at[q.key] = now
        now += STEP
    return queued_at


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        instructor = make_instructor(s)
        service = make_service(s, minutes=60)
        student = make_student(s, instructor)
    return instructor, service, student


def test_nine_oclock_lessons_around_every_daylight_saving_change_are_reminded_at_the_right_local_time(engine, school):
    instructor, service, student = school
    lessons = {}  # booking id -> (change day, offset in days)
    with session_scope(engine) as s:
        for change in CHANGES:
            for offset in (-1, 0, 1):
                b = lesson(s, instructor, service, local(change + timedelta(days=offset), "09:00"), student=student)
                lessons[b.id] = (change, offset, b.start_time)

    queued_at: dict[str, datetime] = {}
    for change in CHANGES:
        queued_at |= _run_every_15_minutes(engine, local(change - timedelta(days=3), "00:00"),
                                           local(change + timedelta(days=1), "10:00"))

    assert len(queued_at) == 2 * len(lessons)
    for booking_id, (change, offset, start) in lessons.items():
        day = change + timedelta(days=offset)
        day_before = queued_at[reminders.reminder_key(reminders.DAY_BEFORE, booking_id, start)].astimezone(CANBERRA)
        # Same wall-clock time, the previous Canberra day...
        assert (day_before.date(), day_before.hour, day_before.minute) == (day - timedelta(days=1), 9, 0)
        # ...which is 23 real hours before a lesson on the October change day, 25 on the April one.
        hours = (start - day_before).total_seconds() / 3600
        expected = 24 if offset != 0 else (23 if change.month == 10 else 25)
        assert hours == expected, (day, hours)
        two_hours = queued_at[reminders.reminder_key(reminders.TWO_HOURS, booking_id, start)]
        assert start - two_hours == timedelta(hours=2)  # exactly 2 real hours
        assert two_hours.astimezone(CANBERRA).strftime("%H:%M") == "07:00"

    with session_scope(engine) as s:
        rows = s.execute(sa.text(
            "SELECT channel, template, recipient, body, idempotency_key FROM outbox_messages")).all()
    assert {r.channel for r in rows} == {"sms"}  # SMS only, as the spec says
    assert len({r.idempotency_key for r in rows}) == len(rows) == 2 * len(lessons)
    oct_2026 = next(r for r in rows if r.template == reminders.DAY_BEFORE and "Sun 4 October 2026" in r.body)
    assert oct_2026.body.startswith("NexDrive Academy: reminder of your Lesson 60 min on Sun 4 October 2026 at "
                                    "9:00 am (Canberra time) with Ian Instructor.")
    assert "Reply Y to confirm." in oct_2026.body and "Pick-up: 1 Example St, Belconnen." in oct_2026.body


def test_a_missed_run_is_caught_up_and_late_bookings_cancellations_and_opt_outs_get_no_reminder(engine, school):
    instructor, service, student = school
    start = local(CHANGES[0] + timedelta(days=30), "15:30")
    with session_scope(engine) as s:
        on_time = lesson(s, instructor, service, start, student=student)
        booked_late = lesson(s, instructor, service, start + timedelta(hours=2),
                             student=student, created_at=start - timedelta(hours=5))  # after its day-before time
        lesson(s, instructor, service, start + timedelta(hours=4), student=student, status="cancelled")
        contact = Contact(first_name="Pat", phone="+61411111111", email="pat@example.com")
        s.add(contact)
        s.flush()
        prospect = lesson(s, instructor, service, start + timedelta(hours=6), contact_id=contact.id)
        opted_out_student = make_student(s, instructor)
        s.add(NotificationPreference(user_id=opted_out_student.user_id, notification_type=reminders.DAY_BEFORE,
                                     channel="sms", enabled=False))
        opted_out = lesson(s, instructor, service, start + timedelta(hours=8), student=opted_out_student)

    # The scheduler was down from the day-before times until 3 hours later: the next run catches up.
    with session_scope(engine) as s:
        first = reminders.queue_due_reminders(s, start - timedelta(hours=21))
    assert {(q.booking_id, q.kind) for q in first} == {(on_time.id, reminders.DAY_BEFORE)}
    with session_scope(engine) as s:
        later = reminders.queue_due_reminders(s, start + timedelta(hours=6) - timedelta(hours=21))
    assert {(q.booking_id, q.kind) for q in later} == {(prospect.id, reminders.DAY_BEFORE)}

    queued = _run_every_15_minutes(engine, start - timedelta(hours=20), start + timedelta(hours=9))
    kinds = {}
    for key in queued:
        kind, _, booking_id, _ = key.split(":", 3)
        kinds.setdefault(booking_id, set()).add(kind)
    assert kinds == {
        str(on_time.id): {reminders.TWO_HOURS},
        str(booked_late.id): {reminders.TWO_HOURS},  # booked after its day-before time: only the 2-hour one
        str(prospect.id): {reminders.TWO_HOURS},
        str(opted_out.id): {reminders.TWO_HOURS},  # opted out of the day-before SMS only
    }
    with session_scope(engine) as s:
        to_contact = s.execute(sa.text("SELECT recipient FROM outbox_messages WHERE booking_id = :b"),
                               {"b": prospect.id}).scalars().all()
    assert to_contact == ["+61411111111", "+61411111111"]


def test_a_moved_lesson_is_reminded_of_its_new_time(engine, school):
    instructor, service, student = school
    start = local(CHANGES[1] + timedelta(days=20), "10:00")
    with session_scope(engine) as s:
        b = lesson(s, instructor, service, start, student=student)
    with session_scope(engine) as s:
        assert reminders.send_due_reminders(s, start - timedelta(hours=24)) == 1
        assert reminders.send_due_reminders(s, start - timedelta(hours=24)) == 0  # a re-run sends nothing
    new_start = start + timedelta(days=1)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET start_time = :s, end_time = :e, scheduled_date = :d WHERE id = :id"),
                  {"s": new_start, "e": new_start + timedelta(hours=1),
                   "d": new_start.astimezone(CANBERRA).date(), "id": b.id})
    with session_scope(engine) as s:
        assert reminders.send_due_reminders(s, new_start - timedelta(hours=24)) == 1
        keys = s.execute(sa.text("SELECT idempotency_key FROM outbox_messages ORDER BY created_at")).scalars().all()
    assert keys == [reminders.reminder_key(reminders.DAY_BEFORE, b.id, start),
                    reminders.reminder_key(reminders.DAY_BEFORE, b.id, new_start)]
    assert new_start.astimezone(UTC).isoformat() in keys[1]
