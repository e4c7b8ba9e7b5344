"""The confirmation's messages written with less work (issue 17, throughput): ``notify.booking_message`` writes the
outbox's SMS and email, the learner's in-app notice and the staff's in at most two statements. The rows must be
exactly the ones the earlier path wrote (kept below as the reference: ``queue_keyed`` for the outbox,
``post_notification`` and the staff post for the notices, one after the other), a retry must write nothing twice,
and a failure must leave nothing."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from sqlalchemy.dialects.postgresql import insert as pg_insert

from nexdrive.db import row_values, session_scope
from nexdrive.models import Contact, Notification, OutboxMessage
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.messaging import inbox, notify
from nexdrive.services.messaging.message_templates import render
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, only_instructor, open_instructor, statements_of, weekday_ahead
from tests.factories import make_student, make_user

TUESDAY = weekday_ahead(1)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


# ── The reference: the path before this change, as it was (services/messaging/notify.py, inbox.py) ──

def _old_post_notification(session, *, user_id, notification_type, subject, body, related_id, dedupe_key):
    body = (body or "").strip()
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                    {"k": f"inbox:{user_id}:{dedupe_key}"})
    existing = session.execute(sa.select(Notification).where(
        Notification.recipient_id == user_id, Notification.channel == "in_app",
        Notification.triggered_by == dedupe_key)).first()
    if existing is not None:
        return
    now = clock.database_now(session)
    session.add(Notification(recipient_id=user_id, channel="in_app", notification_type=notification_type.strip(),
                             subject=(subject or "").strip()[:200] or None, body=body[:2000], status="delivered",
                             sent_at=now, delivered_at=now, triggered_by=dedupe_key, related_id=related_id))
    session.flush()


def _old_post_to_staff(session, instructor_id, *, notification_type, subject, body, related_id, dedupe_key):
    body = (body or "").strip()
    rows = session.execute(sa.text(
        "WITH staff AS (SELECT u.id, 0 AS k, u.created_at FROM instructors i JOIN users u ON u.id = i.user_id "
        "WHERE i.id = :i AND u.status = 'active' "
        "UNION ALL SELECT u.id, 1, u.created_at FROM users u WHERE u.role = 'admin' AND u.status = 'active') "
        "SELECT id, pg_advisory_xact_lock(hashtextextended('inbox:' || id::text || ':' || :k, 0)) "
        "FROM staff ORDER BY k, created_at"), {"i": instructor_id, "k": dedupe_key}).all()
    ids = list(dict.fromkeys(r[0] for r in rows))
    if not ids:
        return
    session.execute(sa.text(
        "INSERT INTO notifications (recipient_id, channel, notification_type, subject, body, status, sent_at, "
        "delivered_at, triggered_by, related_id) "
        "SELECT u, :ch, :t, :s, :b, 'delivered', now(), now(), :k, :r FROM unnest(CAST(:ids AS uuid[])) AS u "
        "WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.recipient_id = u AND n.channel = :ch "
        "AND n.triggered_by = :k)"),
        {"ids": ids, "ch": "in_app", "t": notification_type.strip(), "s": (subject or "").strip()[:200] or None,
         "b": body[:2000], "k": dedupe_key, "r": related_id})


def _old_queue_keyed(session, messages):
    table = OutboxMessage.__table__
    rows = [row_values(OutboxMessage, m) for m in messages]
    names = {name for row in rows for name in row}
    rows = [{name: row.get(name) for name in names} for row in rows]
    if session.new or session.dirty:
        session.flush()
    if rows:
        session.execute(pg_insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
                        .returning(table.c.id), rows).all()


def _old_booking_message(session, kind, *, booking, summary, recipient, **extra):
    texts = render(kind, {**notify.business_facts(session), **summary, "book_url": notify.public_url("/book"),
                          **extra})
    version = f"{booking.reschedule_count}:{booking.status}"
    common = dict(template=kind, booking_id=booking.id, user_id=recipient.get("user_id"),
                  contact_id=booking.contact_id, related_type="booking", related_id=booking.id,
                  template_data={"booking_id": str(booking.id), "reference": summary["reference"]})
    messages = []
    if recipient.get("phone"):
        messages.append(dict(channel="sms", recipient=recipient["phone"], body=texts.sms,
                             idempotency_key=f"{kind}:sms:{booking.id}:{version}", **common))
    if recipient.get("email"):
        messages.append(dict(channel="email", recipient=recipient["email"], subject=texts.subject, body=texts.text,
                             idempotency_key=f"{kind}:email:{booking.id}:{version}", **common))
    _old_queue_keyed(session, messages)


def _old_booking_event(session, kind, *, booking, summary, recipient, **extra):
    version = f"{booking.reschedule_count}:{booking.status}"
    text = render(kind, {**summary, **extra})
    if text and recipient.get("user_id"):
        _old_post_notification(session, user_id=recipient["user_id"], notification_type=kind,
                               subject=text.in_app_subject, body=text.in_app, related_id=booking.id,
                               dedupe_key=f"{kind}:{booking.id}:{version}")
    if kind == "booking_confirmation" and booking.booked_via in ("website", "sms", "voice_agent"):
        if booking.student_id is None and booking.booker_name:
            who = booking.booker_name
        else:
            contact = session.get(Contact, booking.contact_id) if booking.contact_id else None
            who = " ".join(p for p in ((contact.first_name, contact.last_name) if contact else ()) if p)
        who = who or recipient.get("first_name") or "A learner"
        notice = render("booking_new", {**summary, "booker": who})
        _old_post_to_staff(session, booking.instructor_id, notification_type="booking_new", subject=notice.subject,
                           body=notice.in_app, related_id=booking.id, dedupe_key=f"booking_new:{booking.id}")


def _old_notify(session, b, kind, **extra):
    who = booking.booking_recipient(session, b)
    summary = booking.booking_summary(session, b)
    _old_booking_message(session, kind, booking=b, summary=summary, recipient=who, **extra)
    _old_booking_event(session, kind, booking=b, summary=summary, recipient=who, **extra)


# ── Fixtures and helpers ──

@pytest.fixture
def people(engine):
    """An instructor with an account, a learner, two administrators (one suspended: told nothing)."""
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        learner = make_student(s, instructor)
        admin, _ = make_user(s, "admin", "Alex")
        retired, _ = make_user(s, "admin", "Rita")
        s.execute(sa.text("UPDATE users SET status = 'suspended' WHERE id = :u"), {"u": retired.id})
        return {"service": service.id, "instructor": instructor.id, "instructor_user": instructor.user_id,
                "admin": admin.id, "learner": Actor(role="student", user_id=learner.user_id, student_id=learner.id)}


def _written(s, booking_id) -> dict:
    """Every column of every row written about this booking, besides the booking (ordered, comparable)."""
    outbox = [dict(r._mapping) for r in s.execute(sa.text(
        "SELECT * FROM outbox_messages WHERE booking_id = :b ORDER BY idempotency_key"), {"b": booking_id})]
    notices = [dict(r._mapping) for r in s.execute(sa.text(
        "SELECT * FROM notifications WHERE related_id = :b ORDER BY triggered_by, recipient_id"), {"b": booking_id})]
    return {"outbox": outbox, "notices": notices, "now": s.execute(sa.text("SELECT now()")).scalar_one()}


# Columns whose values are made fresh by each write: a random id, or the Python clock (the model's defaults).
# Compared by where they come from: the same in both paths, the transaction's now() or the writer's clock.
_FRESH = ("id", "created_at", "updated_at", "next_attempt_at")


def _comparable(written: dict) -> dict:
    now = written["now"]

    def strip(row):
        out = {k: v for k, v in row.items() if k not in _FRESH}
        for k in _FRESH[1:]:
            if k in row:
                value = row[k]
                assert value is not None and abs(value - now) < timedelta(minutes=5), (k, value, now)
                out[k] = "the transaction's now()" if value == now else "the writer's clock"
        return out

    return {"outbox": [strip(r) for r in written["outbox"]], "notices": [strip(r) for r in written["notices"]]}


def _both_ways(engine, monkeypatch, booking_id, change) -> tuple[dict, dict]:
    """``change(session)`` run twice on the same database state in one transaction (each in a savepoint rolled
    back after its rows are read): with this code, then with the reference path; the rows each wrote."""
    results = []
    with session_scope(engine) as s:
        for reference in (False, True):
            if reference:
                monkeypatch.setattr(booking, "_notify", _old_notify)
            savepoint = s.begin_nested()
            change(s)
            s.flush()
            results.append(_written(s, booking_id))
            savepoint.rollback()
            s.expire_all()
        monkeypatch.undo()
        s.rollback()
    return results[0], results[1]


def _hold(engine, actor, people, start, **details):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, actor, service_id=people["service"], start_time=start, **details)
        return r.booking.id, r.manage_token



# ── The rows: column by column the same as the reference path ──

def test_a_visitors_confirmation_writes_the_same_rows_as_before(engine, people, monkeypatch):
    booking_id, token = _hold(engine, VISITOR, people, at(TUESDAY, "09:00"), **DETAILS)
    new, old = _both_ways(engine, monkeypatch, booking_id,
                          lambda s: booking.confirm_booking(s, VISITOR, booking_id, manage_token=token))
    assert [r["channel"] for r in new["outbox"]] == ["email", "sms"]
    assert {r["recipient_id"] for r in new["notices"]} == {people["instructor_user"], people["admin"]}
    assert new["notices"][0]["created_at"] == new["now"]  # the staff's notices: the database's defaults
    assert _comparable(new) == _comparable(old)


def test_a_learners_confirmation_reschedule_and_cancellation_write_the_same_rows_as_before(engine, people,
                                                                                             monkeypatch):
    learner = people["learner"]
    booking_id, token = _hold(engine, learner, people, at(TUESDAY, "10:00"), pickup_address="3 Road",
                              suburb="Kambah")
    new, old = _both_ways(engine, monkeypatch, booking_id,
                          lambda s: booking.confirm_booking(s, learner, booking_id, manage_token=token))
    assert {r["recipient_id"] for r in new["notices"]} == {learner.user_id, people["instructor_user"],
                                                           people["admin"]}
    mine = [r for r in new["notices"] if r["recipient_id"] == learner.user_id]
    assert mine[0]["created_at"] != new["now"] and mine[0]["sent_at"] == new["now"]  # as Notification(...) wrote
    assert _comparable(new) == _comparable(old)

    with session_scope(engine) as s:
        booking.confirm_booking(s, learner, booking_id, manage_token=token)
    new, old = _both_ways(engine, monkeypatch, booking_id,
                          lambda s: booking.reschedule_booking(s, learner, booking_id, at(TUESDAY, "14:00")))
    assert sum(r["notification_type"] == "booking_rescheduled" for r in new["notices"]) == 1
    assert _comparable(new) == _comparable(old)
    new, old = _both_ways(engine, monkeypatch, booking_id,
                          lambda s: booking.cancel_booking(s, learner, booking_id, reason="Sick"))
    assert sum(r["template"] == "booking_cancelled" for r in new["outbox"]) == 2
    assert _comparable(new) == _comparable(old)


def test_a_booking_made_by_the_school_tells_only_the_learner_as_before(engine, people, monkeypatch):
    from nexdrive.services.core.actors import SYSTEM
    learner = people["learner"]
    with session_scope(engine) as s:
        b = booking.reserve_slot(s, SYSTEM, service_id=people["service"], start_time=at(TUESDAY, "11:00"),
                                 student_id=learner.student_id, booked_via="phone", pickup_address="1 Road",
                                 suburb="Kambah")
        booking_id = b.id
    monkeypatch.setattr(booking, "new_token", lambda: "the-same-fresh-token-for-both-paths-0123456789")
    new, old = _both_ways(engine, monkeypatch, booking_id, lambda s: booking.confirm_booking(s, SYSTEM, booking_id))
    assert [r["recipient_id"] for r in new["notices"]] == [learner.user_id]
    assert _comparable(new) == _comparable(old)


# ── Fewer statements, nothing twice, nothing half-written ──

@pytest.mark.parametrize("who", ["visitor", "learner"])
def test_a_confirmation_sends_fewer_statements_than_before(engine, people, monkeypatch, who):
    actor = VISITOR if who == "visitor" else people["learner"]
    details = DETAILS if who == "visitor" else dict(pickup_address="3 Road", suburb="Kambah")
    counts = {}
    for n, reference in enumerate((True, False)):
        booking_id, token = _hold(engine, actor, people, at(TUESDAY, "09:00") + timedelta(hours=2 * n), **details)
        if reference:
            monkeypatch.setattr(booking, "_notify", _old_notify)

        def confirm(booking_id=booking_id, token=token):
            with session_scope(engine) as s:
                booking.confirm_booking(s, actor, booking_id, manage_token=token)

        counts[reference] = statements_of(engine, confirm)
        monkeypatch.undo()
    old, new = len(counts[True]), len(counts[False])
    assert new < old, (counts[False], counts[True])
    # Besides the booking's two (the read with its context, the compare-and-swap): the outbox rows with the
    # notices' locks, then the notices.
    # A learner's: also their address (once: the summary's recipient is kept for the transaction, it was read
    # twice: 11 statements before this change) and their contact's name for the staff's notice.
    assert new == (4 if who == "visitor" else 6), counts[False]
    assert old == (5 if who == "visitor" else 10), counts[True]


def test_a_retried_confirmation_and_a_repeated_write_add_nothing(engine, people):
    learner = people["learner"]
    booking_id, token = _hold(engine, learner, people, at(TUESDAY, "10:00"), pickup_address="3 Road",
                              suburb="Kambah")
    with session_scope(engine) as s:
        booking.confirm_booking(s, learner, booking_id, manage_token=token)
    with session_scope(engine) as s:
        first = _comparable(_written(s, booking_id))
        assert len(first["outbox"]) == 2 and len(first["notices"]) == 3
    with session_scope(engine) as s:
        booking.confirm_booking(s, learner, booking_id, manage_token=token)  # a replay
        b = s.get(booking.Booking, booking_id)
        booking._notify(s, b, "booking_confirmation", manage_url="ignored")  # the same event written again
    with session_scope(engine) as s:
        assert _comparable(_written(s, booking_id))["notices"] == first["notices"]
        assert [r["body"] for r in _written(s, booking_id)["outbox"]] == [r["body"] for r in first["outbox"]]


def test_concurrent_writes_of_one_event_each_land_once(engine, people):
    """The second writer waits for the first (the outbox's key, the notices' locks) and then sees its rows: the
    notices' INSERT is a statement of its own, after the locks."""
    learner = people["learner"]
    booking_id, token = _hold(engine, learner, people, at(TUESDAY, "10:00"), pickup_address="3 Road",
                              suburb="Kambah")
    with session_scope(engine) as s:
        booking.confirm_booking(s, learner, booking_id, manage_token=token)
        s.execute(sa.text("DELETE FROM notifications"))
        s.execute(sa.text("DELETE FROM outbox_messages"))
    done = threading.Event()
    errors = []

    def second():
        try:
            with session_scope(engine) as s2:
                b2 = s2.get(booking.Booking, booking_id)
                booking._notify(s2, b2, "booking_confirmation", manage_url="x")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    with session_scope(engine) as s:
        b = s.get(booking.Booking, booking_id)
        booking._notify(s, b, "booking_confirmation", manage_url="x")
        t = threading.Thread(target=second)
        t.start()
        assert not done.wait(1.0)  # blocked behind this transaction
    t.join(10)
    assert done.is_set() and not errors, errors
    with session_scope(engine) as s:
        written = _written(s, booking_id)
        assert len(written["outbox"]) == 2
        assert sorted(str(r["recipient_id"]) for r in written["notices"]) == sorted(
            str(u) for u in (learner.user_id, people["instructor_user"], people["admin"]))


def test_a_failure_after_the_messages_leaves_nothing_written(engine, people):
    booking_id, token = _hold(engine, VISITOR, people, at(TUESDAY, "09:00"), **DETAILS)
    with session_scope(engine) as s:
        audit_before = s.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
        s.execute(sa.text(
            "CREATE FUNCTION refuse_notice() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no notices today'; END $$"))
        s.execute(sa.text("CREATE TRIGGER refuse_notice BEFORE INSERT ON notifications "
                          "FOR EACH ROW EXECUTE FUNCTION refuse_notice()"))
    try:
        with pytest.raises(sa.exc.DBAPIError, match="no notices today"):
            with session_scope(engine) as s:
                booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
        with session_scope(engine) as s:
            assert s.execute(sa.text("SELECT status FROM bookings WHERE id = :b"),
                             {"b": booking_id}).scalar_one() == "held"
            assert _written(s, booking_id)["outbox"] == [] and _written(s, booking_id)["notices"] == []
            assert s.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == audit_before
    finally:
        with session_scope(engine) as s:
            s.execute(sa.text("DROP TRIGGER refuse_notice ON notifications"))
            s.execute(sa.text("DROP FUNCTION refuse_notice()"))
    with session_scope(engine) as s:  # and once the database takes notices again, it goes through whole
        booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
    with session_scope(engine) as s:
        written = _written(s, booking_id)
        assert len(written["outbox"]) == 2 and len(written["notices"]) == 2


def test_the_notice_helpers_refuse_what_post_notification_refuses(people):
    with pytest.raises(ValueError):
        inbox.notice_row(user_id=people["admin"], notification_type=" ", subject="s", body="b", related_id=None,
                         dedupe_key="k")
    with pytest.raises(ValueError):
        inbox.staff_notice(people["instructor"], notification_type="booking_new", subject="s", body="  ",
                           related_id=people["instructor"], dedupe_key="k")
