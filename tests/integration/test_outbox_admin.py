"""The admin Outbox against the real database: admin only, filters, detail, retry of failed messages only."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.messaging import notify
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from tests.booking_helpers import open_instructor
from tests.factories import make_student, make_user


@pytest.fixture
def outbox(engine):
    """An administrator, other roles, and five messages in every interesting state."""
    with session_scope(engine) as s:
        instructor, _ = open_instructor(s)
        student = make_student(s, instructor)
        parent, _ = make_user(s, "parent")
        admin, _ = make_user(s, "admin")
        ids = {}
        for key, channel, recipient, status in [
            ("sms_sent", "sms", "+61412555101", "sent"),
            ("email_sent", "email", "ava.visitor@example.com", "sent"),
            ("sms_failed", "sms", "+61498000111", "failed"),
            ("email_pending", "email", "ben@example.com", "pending"),
            ("sms_suppressed", "sms", "+61412555101", "suppressed"),
        ]:
            m = notify.queue(s, channel=channel, recipient=recipient, template="booking_confirmation",
                             subject="Lesson booked" if channel == "email" else None,
                             body="NexDrive Academy: your lesson is booked. " + "More detail. " * 20,
                             idempotency_key=f"test:{key}")
            m.status = status
            if status == "failed":
                m.attempts, m.last_error = 5, "Twilio 21610: unsubscribed recipient"
            if status == "sent":
                m.provider_message_id, m.sent_at = "SM123", sa.func.now()
            s.add(m)
            s.flush()
            ids[key] = str(m.id)
        return {
            "ids": ids,
            "admin": Actor(role="admin", user_id=admin.id),
            "others": [Actor(role="student", user_id=student.user_id, student_id=student.id),
                       Actor(role="instructor", user_id=instructor.user_id, instructor_id=instructor.id),
                       Actor(role="parent", user_id=parent.id)],
        }


def _status(s, message_id):
    return s.execute(sa.text("SELECT status, attempts, last_error FROM outbox_messages WHERE id = :i"),
                     {"i": message_id}).one()


def test_only_the_administrator_reads_or_retries_the_outbox(engine, outbox):
    failed = outbox["ids"]["sms_failed"]
    with session_scope(engine) as s:
        for actor in outbox["others"]:
            for call in (lambda a: outbox_admin.list_outbox(s, a), lambda a: outbox_admin.outbox_counts(s, a),
                         lambda a: outbox_admin.get_outbox_message(s, a, failed),
                         lambda a: outbox_admin.retry_outbox_message(s, a, failed)):
                with pytest.raises(Forbidden):
                    call(actor)
        with pytest.raises(AuthRequired):
            outbox_admin.list_outbox(s, VISITOR)
        assert _status(s, failed).status == "failed"


def test_the_list_is_newest_first_with_plain_fields_and_counts(engine, outbox):
    with session_scope(engine) as s:
        page = outbox_admin.list_outbox(s, outbox["admin"])
        counts = outbox_admin.outbox_counts(s, outbox["admin"])
    assert counts == {"pending": 1, "sending": 0, "sent": 2, "failed": 1, "suppressed": 1}
    items = page["items"]
    assert len(items) == 5 and page["next_cursor"] is None
    assert [i["id"] for i in items] == list(reversed(outbox["ids"].values()))
    sms = next(i for i in items if i["id"] == outbox["ids"]["sms_sent"])
    assert sms["recipient"] == "+61412555101" and sms["recipient_display"] == "0412 555 101"
    assert sms["status_label"] == "Sent" and sms["provider_message_id"] == "SM123" and sms["sent"]
    assert len(sms["preview"]) <= outbox_admin.PREVIEW_CHARS and sms["preview"].endswith("\u2026")
    assert "body" not in sms  # the list carries previews; the detail carries the body
    failed = next(i for i in items if i["id"] == outbox["ids"]["sms_failed"])
    assert failed["can_retry"] and failed["attempts"] == 5 and "21610" in failed["last_error"]
    assert not sms["can_retry"]


def test_filters_by_status_channel_and_recipient(engine, outbox):
    ids = outbox["ids"]
    with session_scope(engine) as s:
        def found(**kw):
            return {i["id"] for i in outbox_admin.list_outbox(s, outbox["admin"], **kw)["items"]}
        assert found(status="sent") == {ids["sms_sent"], ids["email_sent"]}
        assert found(channel="sms") == {ids["sms_sent"], ids["sms_failed"], ids["sms_suppressed"]}
        assert found(status="sent", channel="email") == {ids["email_sent"]}
        # A mobile typed the Australian way finds the stored +61 form; part of an address finds the email.
        assert found(search="0412 555 101") == {ids["sms_sent"], ids["sms_suppressed"]}
        assert found(search="AVA.VISITOR") == {ids["email_sent"]}
        assert found(search="100%_") == set()  # wildcards are searched for literally
        for bad in ({"status": "lost"}, {"channel": "fax"}, {"cursor": "nonsense"}):
            with pytest.raises(ValidationFailed):
                outbox_admin.list_outbox(s, outbox["admin"], **bad)


def test_pages_follow_the_cursor(engine, outbox):
    with session_scope(engine) as s:
        seen, cursor = [], None
        while True:
            page = outbox_admin.list_outbox(s, outbox["admin"], limit=2, cursor=cursor)
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert seen == list(reversed(outbox["ids"].values()))


def test_the_detail_has_the_whole_body_and_bad_ids_are_not_found(engine, outbox):
    with session_scope(engine) as s:
        detail = outbox_admin.get_outbox_message(s, outbox["admin"], outbox["ids"]["email_sent"])
        assert detail["body"].startswith("NexDrive Academy: your lesson is booked.") and len(detail["body"]) > 200
        assert detail["subject"] == "Lesson booked" and detail["idempotency_key"] == "test:email_sent"
        for bad in ("nope", "", str(uuid.uuid4())):
            with pytest.raises(NotFound):
                outbox_admin.get_outbox_message(s, outbox["admin"], bad)


def test_retry_queues_a_failed_message_again_and_is_audited(engine, outbox):
    failed = outbox["ids"]["sms_failed"]
    with session_scope(engine) as s:
        result = outbox_admin.retry_outbox_message(s, outbox["admin"], failed)
        assert result["status"] == "pending" and result["can_retry"] is False
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT status, attempts, claimed_at, next_attempt_at <= now() AS due "
                                "FROM outbox_messages WHERE id = :i"), {"i": failed}).one()
        assert (row.status, row.attempts, row.claimed_at, row.due) == ("pending", 0, None, True)
        event = s.execute(sa.text("SELECT actor_role, details FROM audit_log WHERE event_type = 'outbox.retried' "
                                  "AND subject_id = :i"), {"i": failed}).one()
        assert event.actor_role == "admin" and event.details["attempts"] == 5
        # Now pending: a second retry is refused and changes nothing.
        with pytest.raises(InvalidState):
            outbox_admin.retry_outbox_message(s, outbox["admin"], failed)


@pytest.mark.parametrize("key", ["sms_sent", "email_pending", "sms_suppressed"])
def test_only_failed_messages_can_be_retried(engine, outbox, key):
    message_id = outbox["ids"][key]
    with session_scope(engine) as s:
        before = _status(s, message_id)
    with pytest.raises(InvalidState) as exc, session_scope(engine) as s:
        outbox_admin.retry_outbox_message(s, outbox["admin"], message_id)
    assert "Only a failed message can be retried" in exc.value.message
    with session_scope(engine) as s:
        assert _status(s, message_id) == before
        assert s.execute(sa.text("SELECT count(*) FROM audit_log WHERE event_type = 'outbox.retried'")).scalar() == 0


def test_retrying_an_unknown_message_is_not_found(engine, outbox):
    for bad in ("12345", str(uuid.uuid4())):
        with pytest.raises(NotFound), session_scope(engine) as s:
            outbox_admin.retry_outbox_message(s, outbox["admin"], bad)
