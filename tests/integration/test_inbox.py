"""The in-app inbox against the real database: own-only access, idempotent posts and marks, booking events."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.scheduling import booking
from nexdrive.services.messaging import inbox
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.errors import NotFound, ValidationFailed
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_student, make_user

TUESDAY = weekday_ahead(1)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


@pytest.fixture
def people(engine):
    """Two learners, a parent and an administrator, each with their own actor."""
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        a, b = make_student(s, instructor), make_student(s, instructor)
        parent, _ = make_user(s, "parent", "Pam")
        admin, _ = make_user(s, "admin", "Alex")
        return {
            "service": service.id, "instructor": instructor.id, "instructor_user": instructor.user_id,
            "a": Actor(role="student", user_id=a.user_id, student_id=a.id),
            "b": Actor(role="student", user_id=b.user_id, student_id=b.id),
            "parent": Actor(role="parent", user_id=parent.id),
            "admin": Actor(role="admin", user_id=admin.id),
        }


def _post(engine, actor, n=1, **kw):
    ids = []
    with session_scope(engine) as s:
        for i in range(n):
            row = inbox.post_notification(s, user_id=actor.user_id, notification_type=kw.get("type", "note"),
                                          subject=f"Notice {i}", body=f"Body {i}",
                                          dedupe_key=kw.get("dedupe_key"), related_id=kw.get("related_id"))
            ids.append(str(row.id))
    return ids


def _rows(s, where="true", **params):
    return s.execute(sa.text(f"SELECT id, recipient_id, read_at FROM notifications WHERE {where} ORDER BY id"),
                     params).all()


def test_a_post_is_an_in_app_delivered_row_and_a_repeated_dedupe_key_adds_nothing(engine, people):
    first = _post(engine, people["a"], dedupe_key="reminder:1")
    again = _post(engine, people["a"], dedupe_key="reminder:1")
    other = _post(engine, people["a"], dedupe_key="reminder:2")
    same_key_other_person = _post(engine, people["b"], dedupe_key="reminder:1")
    assert first == again and other != first and same_key_other_person != first
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT channel, status, read_at, triggered_by, delivered_at IS NOT NULL AS d "
                                "FROM notifications WHERE id = :i"), {"i": first[0]}).one()
        assert (row.channel, row.status, row.read_at, row.triggered_by, row.d) == (
            "in_app", "delivered", None, "reminder:1", True)
        assert s.execute(sa.text("SELECT count(*) FROM notifications")).scalar() == 3


def test_a_post_rolled_back_with_its_transaction_leaves_nothing(engine, people):
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        inbox.post_notification(s, user_id=people["a"].user_id, notification_type="note", subject="x", body="y")
        raise RuntimeError("the change that caused it failed")
    with session_scope(engine) as s:
        assert _rows(s) == []


def test_everyone_sees_only_their_own_notifications(engine, people):
    _post(engine, people["a"], 3)
    _post(engine, people["b"], 2)
    _post(engine, people["parent"], 1)
    with session_scope(engine) as s:
        mine = inbox.list_notifications(s, people["a"])
        theirs = inbox.list_notifications(s, people["b"])
        parents = inbox.list_notifications(s, people["parent"])
        admins = inbox.list_notifications(s, people["admin"])
        owners = {r.id: r.recipient_id for r in _rows(s)}
    assert len(mine["items"]) == 3 and all(owners[uuid.UUID(i["id"])] == people["a"].user_id for i in mine["items"])
    assert len(theirs["items"]) == 2 and len(parents["items"]) == 1
    assert admins["items"] == []  # the administrator does not read learners' inboxes either
    assert {i["id"] for i in mine["items"]}.isdisjoint({i["id"] for i in theirs["items"]})
    assert all(isinstance(i, dict) and i["read"] is False for i in mine["items"])


def test_signed_out_callers_and_the_system_have_no_inbox(engine, people):
    with session_scope(engine) as s:
        with pytest.raises(AuthRequired):
            inbox.list_notifications(s, VISITOR)
        with pytest.raises(AuthRequired):
            inbox.unread_count(s, VISITOR)
        with pytest.raises(NotFound):
            inbox.list_notifications(s, SYSTEM)


def test_pages_follow_the_cursor_newest_first(engine, people):
    posted = _post(engine, people["a"], 5)
    with session_scope(engine) as s:
        seen, cursor = [], None
        while True:
            page = inbox.list_notifications(s, people["a"], limit=2, cursor=cursor)
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(posted) and len(seen) == 5
        stamps = [i["created_at"] for i in inbox.list_notifications(s, people["a"], limit=5)["items"]]
        assert stamps == sorted(stamps, reverse=True)
        with pytest.raises(ValidationFailed):
            inbox.list_notifications(s, people["a"], cursor="not-a-cursor")


def test_mark_read_is_own_only_and_idempotent(engine, people):
    [mine] = _post(engine, people["a"])
    [theirs] = _post(engine, people["b"])
    with session_scope(engine) as s:
        assert inbox.unread_count(s, people["a"]) == 1
        item = inbox.mark_read(s, people["a"], mine)
        assert item["read"] is True and item["id"] == mine
    with session_scope(engine) as s:
        first_read = _rows(s, "id = :i", i=mine)[0].read_at
        again = inbox.mark_read(s, people["a"], uuid.UUID(mine))  # marking it again changes nothing
        assert again["read_at"] == first_read.isoformat()
        assert inbox.unread_count(s, people["a"]) == 0
    for actor, ident in [(people["a"], theirs), (people["parent"], mine), (people["admin"], theirs),
                         (people["a"], str(uuid.uuid4())), (people["a"], "not-an-id"), (people["a"], "")]:
        with pytest.raises(NotFound), session_scope(engine) as s:
            inbox.mark_read(s, actor, ident)
    with session_scope(engine) as s:
        assert _rows(s, "id = :i", i=theirs)[0].read_at is None  # nobody else could touch it
        assert _rows(s, "id = :i", i=mine)[0].read_at == first_read


def test_unread_only_and_mark_all_read(engine, people):
    ids = _post(engine, people["a"], 3)
    _post(engine, people["b"], 2)
    with session_scope(engine) as s:
        inbox.mark_read(s, people["a"], ids[0])
        unread = inbox.list_notifications(s, people["a"], unread_only=True)
        assert {i["id"] for i in unread["items"]} == set(ids[1:])
        assert inbox.mark_all_read(s, people["a"]) == 2
    with session_scope(engine) as s:
        assert inbox.mark_all_read(s, people["a"]) == 0
        assert inbox.unread_count(s, people["a"]) == 0
        assert inbox.unread_count(s, people["b"]) == 2  # someone else's stay unread


def _student_books(engine, people, actor, start):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, actor, service_id=people["service"], start_time=start,
                                pickup_address="12 Example St", suburb="Belconnen")
        booking.confirm_booking(s, actor, r.booking.id, manage_token=r.manage_token)
        return r.booking.id, r.manage_token


def _notices(s, user_id):
    return s.execute(sa.text("SELECT notification_type, subject, body, related_id FROM notifications "
                             "WHERE recipient_id = :u ORDER BY created_at, notification_type"),
                     {"u": user_id}).all()


def test_a_learner_gets_in_app_notices_for_booked_moved_and_cancelled(engine, people):
    learner = people["a"]
    booking_id, token = _student_books(engine, people, learner, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        booking.confirm_booking(s, learner, booking_id, manage_token=token)  # a replay posts nothing more
        booking.reschedule_booking(s, learner, booking_id, at(TUESDAY, "14:00"))
    with session_scope(engine) as s:
        booking.cancel_booking(s, learner, booking_id, reason="Sick")
        booking.cancel_booking(s, learner, booking_id, reason="Sick")  # retried
    with session_scope(engine) as s:
        notices = _notices(s, learner.user_id)
        assert [n.notification_type for n in notices] == ["booking_confirmation", "booking_rescheduled",
                                                          "booking_cancelled"]
        assert all(n.related_id == booking_id for n in notices)
        assert "There is no charge" in notices[2].body and "NXD-" in notices[0].body
        items = inbox.list_notifications(s, learner)["items"]
        assert {i["link"] for i in items} == {f"/booking/manage?id={booking_id}"}
        assert _notices(s, people["b"].user_id) == []


def test_a_new_online_booking_tells_the_instructor_and_the_administrators_once(engine, people):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=people["service"], start_time=at(TUESDAY, "09:00"), **DETAILS)
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
    with session_scope(engine) as s:
        for user_id in (people["instructor_user"], people["admin"].user_id):
            [notice] = _notices(s, user_id)
            assert notice.notification_type == "booking_new" and notice.subject == "New online booking"
            assert "Ava Nguyen" in notice.body and "Belconnen" in notice.body
        # The visitor has no account: nothing in-app for them (their SMS and email are in the outbox).
        assert s.execute(sa.text("SELECT count(*) FROM notifications")).scalar() == 2


def test_a_booking_made_by_the_school_does_not_alert_the_school(engine, people):
    with session_scope(engine) as s:
        b = booking.reserve_slot(s, SYSTEM, service_id=people["service"], start_time=at(TUESDAY, "11:00"),
                                 student_id=people["b"].student_id, booked_via="phone",
                                 pickup_address="1 Road", suburb="Kambah")
        booking.confirm_booking(s, SYSTEM, b.id)
    with session_scope(engine) as s:
        assert _notices(s, people["instructor_user"]) == [] and _notices(s, people["admin"].user_id) == []
        assert [n.notification_type for n in _notices(s, people["b"].user_id)] == ["booking_confirmation"]


def test_the_me_notifications_api_is_own_only(engine, people):
    from fastapi.testclient import TestClient

    from nexdrive.http_app import build_api

    [theirs] = _post(engine, people["b"])
    with TestClient(build_api()) as client:
        assert client.get("/api/v1/me/notifications").status_code == 401
        r = client.post("/api/v1/auth/sign-up", json={"email": "api-learner@example.com",
                                                      "password": "kangaroo paddock sunrise",
                                                      "first_name": "Lee", "last_name": "Learner"})
        assert r.status_code == 202, r.text
        assert client.post("/api/v1/auth/sign-in", json={"email": "api-learner@example.com",
                                                         "password": "kangaroo paddock sunrise"}).status_code == 200
        with session_scope(engine) as s:
            me = s.execute(sa.text("SELECT id FROM users WHERE email = 'api-learner@example.com'")).scalar_one()
            mine = [str(inbox.post_notification(s, user_id=me, notification_type="note", subject=f"S{i}",
                                                body=f"B{i}").id) for i in range(2)]
        listed = client.get("/api/v1/me/notifications").json()["data"]
        assert {i["id"] for i in listed["items"]} == set(mine) and listed["unread_count"] == 2
        assert client.patch(f"/api/v1/me/notifications/{theirs}", json={"read": True}).status_code == 404
        assert client.patch("/api/v1/me/notifications/nonsense", json={"read": True}).status_code == 404
        marked = client.patch(f"/api/v1/me/notifications/{mine[0]}", json={"read": True})
        assert marked.status_code == 200 and marked.json()["data"]["read"] is True
        assert client.post("/api/v1/me/notifications/read-all").json()["data"] == {"marked": 1}
        # Another site's page cannot mark them with the learner's cookie.
        assert client.post("/api/v1/me/notifications/read-all",
                           headers={"Origin": "https://evil.example"}).status_code == 403
    with session_scope(engine) as s:
        assert _rows(s, "id = :i", i=theirs)[0].read_at is None
