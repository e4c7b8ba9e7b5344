"""The owner's side of the assistant against the real database: the knowledge page's use cases (add, edit,
remove, re-index, validation), the confidence rules, the inbox (handoff queue first, replies through the
outbox), the callback queue and the digest's counts."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, NotFound, ValidationFailed
from nexdrive.services.ai import conversation, knowledge, owner_inbox
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.services.reporting import digest
from tests.factories import make_user

TEXTER = "+61412555001"


def faq_entries(session):
    from nexdrive.pages.admin.knowledge import faq_entries as entries
    return entries(session)


@pytest.fixture
def admin(engine):
    with session_scope(engine) as s:
        user, _ = make_user(s, "admin", "Olive")
        learner, _ = make_user(s, "student", "Sam")
        knowledge.index_documents(s, SYSTEM, knowledge.faq_documents(faq_entries(s)))
    return {"admin": Actor(role="admin", user_id=user.id), "student": Actor(role="student", user_id=learner.id),
            "admin_id": user.id}


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


# ─────────────────────────────────────────────────────────────────────────────
# The knowledge page
# ─────────────────────────────────────────────────────────────────────────────

GIFT = ("Gift vouchers for driving lessons can be bought for any amount and are valid for three years. "
        "A gift voucher is emailed to the buyer to print or forward.")


def test_an_admin_adds_edits_reindexes_and_removes_their_own_document(engine, admin):
    with session_scope(engine) as s:
        saved = knowledge.save_document(s, admin["admin"], title="Gift vouchers", source_type="faq", text=GIFT,
                                        url="/lessons")
    key = saved["key"]
    assert key == "custom:gift-vouchers" and saved["added"] == 1
    with session_scope(engine) as s:
        doc = knowledge.get_document(s, admin["admin"], key)
        answer = knowledge.answer_question(s, "How long is a gift voucher valid?")
        listed = {d["key"]: d for d in knowledge.list_documents(s, admin["admin"])}
    assert doc["family"] == "custom" and doc["text"] == GIFT
    assert doc["chunks"][0]["content"].startswith("Gift vouchers.")
    assert listed[key]["family"] == "custom" and listed["policy:cancellation"]["family"] == "builtin"
    assert not answer.needs_handoff and "three years" in answer.text and answer.sources[0]["key"] == key
    with session_scope(engine) as s:  # edit: re-chunked in place, same key
        knowledge.save_document(s, admin["admin"], key=key, title="Gift vouchers", source_type="faq",
                                text=GIFT.replace("three years", "five years"))
    with session_scope(engine) as s:  # re-index everything: the admin's document is kept, built-ins rebuilt
        stats = knowledge.reindex_all(s, admin["admin"], faq_entries(s))
        doc = knowledge.get_document(s, admin["admin"], key)
    assert stats["removed"] == 0 and stats["updated"] >= 1 and "five years" in doc["chunks"][0]["content"]
    with session_scope(engine) as s:
        assert knowledge.remove_document(s, admin["admin"], key) is True
    assert count(engine, "SELECT count(*) FROM rag_documents WHERE source_key = :k", k=key) == 0
    assert count(engine, "SELECT count(*) FROM rag_chunks WHERE metadata->>'source_key' = :k", k=key) == 0


@pytest.mark.parametrize("changes, field", [
    ({"text": GIFT + " Call Olive on 0412 345 678."}, "text"),
    ({"text": GIFT + " Email olive@example.com."}, "text"),
    ({"title": "x" * 200}, "title"),
    ({"text": "Too short."}, "text"),
    ({"text": GIFT * 200}, "text"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"source_type": "private_note"}, "source_type"),
    ({"key": "policy:cancellation"}, "key"),
])
def test_a_document_with_personal_data_or_over_the_limits_is_refused_and_nothing_changes(engine, admin, changes,
                                                                                        field):
    before = count(engine, "SELECT count(*) FROM rag_chunks")
    data = {"title": "Gift vouchers", "source_type": "faq", "text": GIFT, "url": "", **changes}
    with pytest.raises(ValidationFailed) as refused:
        with session_scope(engine) as s:
            knowledge.save_document(s, admin["admin"], **data)
    assert refused.value.details["field"] == field
    assert count(engine, "SELECT count(*) FROM rag_chunks") == before


def test_only_an_admin_manages_the_knowledge(engine, admin):
    for actor, error in ((admin["student"], Forbidden), (VISITOR, AuthRequired)):
        with pytest.raises(error):
            with session_scope(engine) as s:
                knowledge.save_document(s, actor, title="Gift vouchers", source_type="faq", text=GIFT)
        with pytest.raises(error):
            with session_scope(engine) as s:
                knowledge.reindex_all(s, actor, [])
        with pytest.raises(error):
            with session_scope(engine) as s:
                knowledge.get_document(s, actor, "policy:cancellation")
    with pytest.raises(NotFound):
        with session_scope(engine) as s:
            knowledge.get_document(s, admin["admin"], "custom:nothing")


# ─────────────────────────────────────────────────────────────────────────────
# Confidence: the passage must cover what the question is about
# ─────────────────────────────────────────────────────────────────────────────

FOOLING = ["Can I get a motorbike licence instead?", "How much is a 60 minute motorcycle lesson?",
           "Do you do lessons for an Uber driver?", "Can my learner licence be used to drive a scooter?",
           "Can I convert my overseas licence?"]


@pytest.mark.parametrize("question", FOOLING)
def test_questions_about_what_the_school_does_not_cover_are_passed_on(engine, admin, question):
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, question)
    assert answer.needs_handoff and answer.sources == [] and "$" not in answer.text, answer


def test_the_first_versions_word_overlap_was_fooled_and_the_rules_are_what_fixed_it(engine, admin, monkeypatch):
    monkeypatch.setattr(knowledge, "CONFIDENCE_RULES", False)
    with session_scope(engine) as s:
        fooled = [q for q in FOOLING if not knowledge.answer_question(s, q).needs_handoff]
    assert len(fooled) >= 3  # answered from the wrong passage (the learner-licence, price or CBT&A ones)


@pytest.mark.parametrize("question, fact", [
    ("Hi, my daughter needs lessons, how much is a 90 minute lesson please?", "$"),
    ("How many hours of night driving does my son need?", "night"),
    ("How old do I have to be to get a learner licence in the ACT?", "15 years and 9 months"),
    ("Do you teach in an automatic car?", "automatic"),
])
def test_ordinary_questions_wrapped_in_generic_words_are_still_answered(engine, admin, question, fact):
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, question)
    assert not answer.needs_handoff and fact in answer.text and answer.sources, answer


# ─────────────────────────────────────────────────────────────────────────────
# The owner's inbox
# ─────────────────────────────────────────────────────────────────────────────

def say(engine, caller, text):
    with session_scope(engine) as s:
        return conversation.handle_message(s, caller, text)


@pytest.fixture
def threads(engine, admin):
    chat = conversation.Caller("web_chat", "chat-" + uuid.uuid4().hex, ip="203.0.113.9")
    sms = conversation.Caller("sms", TEXTER, phone=TEXTER)
    say(engine, chat, "What are your hours?")
    handed = say(engine, sms, "Can I speak to a real person about lessons for my son?")
    assert handed.needs_handoff
    say(engine, chat, "How much is a 60 minute lesson?")  # the chat is the latest, the SMS still comes first
    return {"chat": chat, "sms": sms, "sms_id": str(handed.conversation_id)}


def test_the_handoff_queue_comes_first_and_a_thread_reads_oldest_first(engine, admin, threads):
    with session_scope(engine) as s:
        listed = owner_inbox.list_conversations(s, admin["admin"])
        one = owner_inbox.get_conversation(s, admin["admin"], threads["sms_id"])
        sms_only = owner_inbox.list_conversations(s, admin["admin"], channel="sms")
    assert listed["waiting"] == 1 and listed["total"] == 2
    first, second = listed["items"]
    assert first["id"] == threads["sms_id"] and first["waiting"] and first["channel_label"] == "SMS"
    assert second["channel"] == "web_chat" and not second["waiting"] and second["who"] == "Web visitor"
    assert [i["id"] for i in sms_only["items"]] == [threads["sms_id"]]
    assert one["phone"] == TEXTER and one["waiting"] and one["messages"][0]["inbound"]
    assert one["messages"][0]["text"].startswith("Can I speak") and one["messages"][-1]["from"] == "ai"


def test_the_owner_replies_by_sms_through_the_outbox_and_the_handoff_is_answered(engine, admin, threads):
    with session_scope(engine) as s:
        sent = owner_inbox.reply(s, admin["admin"], threads["sms_id"], text="Hi, yes we teach teenagers. Olive",
                                 channel="sms")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT channel, recipient, body, status, related_id FROM outbox_messages "
                                   "WHERE id = :i"), {"i": sent["outbox_id"]}).one()
        conv = conn.execute(sa.text("SELECT status, message_count FROM conversations WHERE id = :i"),
                            {"i": threads["sms_id"]}).one()
        staff = conn.execute(sa.text("SELECT content FROM messages WHERE conversation_id = :i AND "
                                     "sender_type = 'staff'"), {"i": threads["sms_id"]}).scalars().all()
    assert (row.channel, row.recipient, row.status) == ("sms", TEXTER, "pending")
    assert row.body == "NexDrive Academy: Hi, yes we teach teenagers. Olive"
    assert str(row.related_id) == threads["sms_id"]
    assert conv.status == "active" and staff == ["Hi, yes we teach teenagers. Olive"]
    with pytest.raises(ValidationFailed):  # a double click sends once
        with session_scope(engine) as s:
            owner_inbox.reply(s, admin["admin"], threads["sms_id"], text="Hi, yes we teach teenagers. Olive",
                              channel="sms")
    assert count(engine, "SELECT count(*) FROM outbox_messages WHERE template = 'owner_reply'") == 1


def test_a_reply_needs_an_address_words_within_limits_and_an_admin(engine, admin, threads):
    with session_scope(engine) as s:  # the anonymous web chat has neither a mobile nor an email
        chat_id = owner_inbox.list_conversations(s, admin["admin"], channel="web_chat")["items"][0]["id"]
    cases = [(admin["admin"], chat_id, "Hello", "sms", ValidationFailed),
             (admin["admin"], chat_id, "Hello", "email", ValidationFailed),
             (admin["admin"], threads["sms_id"], "", "sms", ValidationFailed),
             (admin["admin"], threads["sms_id"], "x" * 700, "sms", ValidationFailed),
             (admin["admin"], threads["sms_id"], "Hello", "fax", ValidationFailed),
             (admin["admin"], str(uuid.uuid4()), "Hello", "sms", NotFound),
             (admin["student"], threads["sms_id"], "Hello", "sms", Forbidden),
             (VISITOR, threads["sms_id"], "Hello", "sms", AuthRequired)]
    for actor, cid, text, channel, error in cases:
        with pytest.raises(error):
            with session_scope(engine) as s:
                owner_inbox.reply(s, actor, cid, text=text, channel=channel)
    assert count(engine, "SELECT count(*) FROM outbox_messages WHERE template = 'owner_reply'") == 0
    assert count(engine, "SELECT count(*) FROM messages WHERE sender_type = 'staff'") == 0
    with pytest.raises(Forbidden):
        with session_scope(engine) as s:
            owner_inbox.list_conversations(s, admin["student"])


def test_a_signed_in_learners_chat_is_answered_by_email(engine, admin):
    with session_scope(engine) as s:
        learner, _ = make_user(s, "student", "Lee")
        email = learner.email
    caller = conversation.Caller("web_chat", "chat-" + uuid.uuid4().hex, actor=Actor(role="student",
                                                                                   user_id=learner.id))
    reply = say(engine, caller, "I want to talk to a real person")
    with session_scope(engine) as s:
        sent = owner_inbox.reply(s, admin["admin"], reply.conversation_id, text="I'll call you tonight.",
                                 channel="email")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT channel, recipient, subject, body FROM outbox_messages WHERE id = :i"),
                           {"i": sent["outbox_id"]}).one()
    assert (row.channel, row.recipient) == ("email", email) and "I'll call you tonight." in row.body
    assert row.subject == "A reply from NexDrive Academy" and row.body.startswith("Hi Lee,")


def test_the_callback_queue_closes_when_called_back_and_the_digest_counts_it_all(engine, admin, threads):
    with session_scope(engine) as s:
        queue = owner_inbox.callback_queue(s, admin["admin"])
        calls = owner_inbox.list_calls(s, admin["admin"])
    [waiting] = queue
    assert waiting["phone"] == TEXTER and waiting["callback"] and not waiting["called_back"]
    assert waiting["conversation_id"] == threads["sms_id"] and [c["id"] for c in calls] == [waiting["id"]]
    with session_scope(engine) as s:
        day = digest.canberra_today(s) + timedelta(days=1)  # the digest of tomorrow morning reports on today
        before = digest.build_daily_digest(s, day)["assistant"]
    assert before == {"conversations": 2, "web_chat": 1, "sms": 1, "voice": 0, "handoffs": 1, "calls": 0,
                      "waiting": 1, "open_callbacks": 1}
    with pytest.raises(Forbidden):
        with session_scope(engine) as s:
            owner_inbox.mark_called_back(s, admin["student"], waiting["id"])
    with session_scope(engine) as s:
        assert owner_inbox.mark_called_back(s, admin["admin"], waiting["id"]) is True
    with session_scope(engine) as s:
        assert owner_inbox.mark_called_back(s, admin["admin"], waiting["id"]) is False  # already closed
        assert owner_inbox.callback_queue(s, admin["admin"]) == []
        d = digest.build_daily_digest(s, day)
        subject, body = digest.render_digest(d)
        summary = digest.digest_summary(d)
    assert d["assistant"]["open_callbacks"] == 0
    assert "ASSISTANT: 2 conversation(s) yesterday (web chat 1, SMS 1, phone 0); 1 handed over to you" in body
    assert "0 callback(s) open" in summary
    with pytest.raises(NotFound):
        with session_scope(engine) as s:
            owner_inbox.mark_called_back(s, admin["admin"], "not-an-id")
