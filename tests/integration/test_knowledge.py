"""The knowledge engine against the real database: indexing sources, hybrid search, answers with live prices."""
from __future__ import annotations

import math
import uuid

import pytest
import sqlalchemy as sa

from nexdrive.adapters import override
from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, ValidationFailed
from nexdrive.services.ai import knowledge
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor


def faq_entries(session):
    from nexdrive.services.content import faq
    return faq.knowledge_entries(session)


@pytest.fixture
def indexed(engine):
    with session_scope(engine) as s:
        stats = knowledge.index_documents(s, SYSTEM, knowledge.faq_documents(faq_entries(s)))
    return stats


def test_indexing_every_source_then_reindexing_changes_nothing(engine, indexed):
    assert indexed["added"] >= 20 and indexed["chunks"] >= indexed["added"]
    with session_scope(engine) as s:
        again = knowledge.index_documents(s, SYSTEM, knowledge.faq_documents(faq_entries(s)))
        keys = set(s.execute(sa.text("SELECT source_key FROM rag_documents")).scalars())
        tsv = s.execute(sa.text("SELECT count(*) FROM rag_chunks WHERE content_tsv IS NULL")).scalar()
    assert again["added"] == again["updated"] == again["removed"] == 0 and again["unchanged"] == indexed["added"]
    assert {"policy:cancellation", "prices:list", "act:learner-hours", "faq:logbook-0"} <= keys
    assert tsv == 0


def test_prices_are_never_copied_into_the_index_and_answers_read_them_live(engine, indexed):
    with session_scope(engine) as s:
        copied = s.execute(sa.text("SELECT count(*) FROM rag_chunks WHERE content ~ '\\$[0-9]'")).scalar()
        service = s.execute(sa.text("SELECT id, name, price_cents FROM services WHERE is_active AND "
                                    "is_bookable_online ORDER BY sort_order LIMIT 1")).one()
        s.execute(sa.text("UPDATE services SET price_cents = 12345 WHERE id = :i"), {"i": service.id})
    assert copied == 0
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, f"How much does the {service.name} cost?", "web_chat")
    assert not answer.needs_handoff and "$123.45" in answer.text, answer
    assert answer.sources and answer.confidence >= knowledge.CONFIDENCE_THRESHOLD


def test_policy_numbers_come_from_business_settings(engine, indexed):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET cancellation_notice_hours = 48, "
                          "late_cancellation_fee_cents = 4000 WHERE id = 1"))
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, "What is your cancellation policy?", "sms")
    assert "48 hours" in answer.text and "$40.00" in answer.text, answer
    assert any(src["key"] == "policy:cancellation" for src in answer.sources)


def test_act_facts_answer_with_their_public_source(engine, indexed):
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, "How many supervised hours does an under 25 learner need?")
    assert "100 hours" in answer.text and any(src["url"].startswith("https://") for src in answer.sources), answer


def test_an_unknown_question_is_handed_off(engine, indexed):
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, "What is the capital of France?")
    assert answer.needs_handoff and answer.confidence < knowledge.CONFIDENCE_THRESHOLD and not answer.sources


def test_personal_data_and_private_sources_are_refused(engine):
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            knowledge.index_documents(s, SYSTEM, [knowledge.SourceDocument(
                "faq:x", "Call Sam", "faq", "Ring Sam on 0412 345 678 about his lesson.")], include_builtin=False)
        with pytest.raises(ValidationFailed):
            knowledge.index_documents(s, SYSTEM, [knowledge.SourceDocument(
                "note:x", "Notes", "private_note", "Struggles with hill starts.")], include_builtin=False)
        with pytest.raises(Forbidden):
            knowledge.index_documents(s, Actor(role="student", user_id=uuid.uuid4()), [], include_builtin=False)
        with pytest.raises(AuthRequired):
            knowledge.index_documents(s, VISITOR, [], include_builtin=False)


def test_a_fresh_database_indexes_the_builtin_sources_on_first_question(engine):
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, "Can a task be taught and assessed in the same lesson?")
        count = s.execute(sa.text("SELECT count(*) FROM rag_documents")).scalar()
    assert count > 5 and not answer.needs_handoff and "later lesson" in answer.text


class FakeVectors:
    """A deterministic stand-in for the embeddings port (at the adapter boundary): hashed bag of words."""

    live = True
    model = "test-hash-1536"

    def embed(self, texts):
        from nexdrive.adapters.llm import terms
        out = []
        for t in texts:
            v = [0.0] * 1536
            for w in terms(t):
                v[hash(w) % 1536] += 1.0
            norm = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / norm for x in v])
        return out


def test_hybrid_search_fuses_vectors_and_full_text(engine):
    override("embeddings", FakeVectors())
    try:
        with session_scope(engine) as s:
            knowledge.index_documents(s, SYSTEM)
            with_vectors = s.execute(sa.text("SELECT count(*) FROM rag_chunks WHERE embedding IS NOT NULL")).scalar()
            hits = knowledge.search(s, "night driving hours for learners under 25")
    finally:
        override("embeddings", None)
    assert with_vectors > 0
    assert hits and hits[0].source_key == "act:learner-hours" and hits[0].similarity is not None


# ─── The Competency Hub's pages (issue 14 §6 → issue 15 §1) ───

def test_hub_pages_are_indexed_as_their_own_source_citing_their_public_page(engine, indexed):
    from nexdrive.services.compliance import hub
    with session_scope(engine) as s:
        rows = s.execute(sa.text("SELECT source_key, source_type, source_url, chunk_count FROM rag_documents "
                                 "WHERE source_key LIKE 'hub:%' ORDER BY source_key")).all()
        admin_listing = [d for d in knowledge.list_documents(s, SYSTEM) if d["family"] == "hub"]
    pages = hub.hub_pages()
    assert len(rows) == len(pages) == 25
    assert {r.source_key for r in rows} == {f"hub:{p.slug}" for p in pages}
    assert all(r.source_type == "hub" and r.source_url == f"/hub/{r.source_key[4:]}" and r.chunk_count >= 1
               for r in rows)
    assert len(admin_listing) == 25 and {d["source_label"] for d in admin_listing} == {"Competency Hub"}


def test_reindexing_the_hub_adds_no_duplicates_and_follows_the_data_files(engine, indexed, monkeypatch):
    from nexdrive.services.compliance import hub

    def counts(s):
        return s.execute(sa.text("SELECT count(*), count(DISTINCT source_key), (SELECT count(*) FROM rag_chunks c "
                                 "JOIN rag_documents d ON d.id = c.document_id WHERE d.source_key LIKE 'hub:%') "
                                 "FROM rag_documents WHERE source_key LIKE 'hub:%'")).one()

    with session_scope(engine) as s:
        before = counts(s)
        again = knowledge.reindex_all(s, SYSTEM, faq_entries(s))  # the admin page's button (force)
        twice = knowledge.reindex_all(s, SYSTEM, faq_entries(s))
        assert counts(s) == before and before[0] == before[1] == 25
        assert again["added"] == twice["added"] == 0 and again["removed"] == twice["removed"] == 0
    # The owner corrects one page and removes another: re-indexing re-chunks the one and prunes the other.
    original = hub.hub_documents()
    changed = [(slug, title, text + "\n\nPractise it on a quiet Sunday morning in an empty car park.")
               if slug == hub.hub_slug(11) else (slug, title, text)
               for slug, title, text in original if slug != hub.hub_slug(16)]
    monkeypatch.setattr(hub, "hub_documents", lambda: changed)
    with session_scope(engine) as s:
        stats = knowledge.index_documents(s, SYSTEM, knowledge.faq_documents(faq_entries(s)))
        keys = set(s.execute(sa.text("SELECT source_key FROM rag_documents WHERE source_key LIKE 'hub:%'")).scalars())
        text = s.execute(sa.text("SELECT string_agg(c.content, ' ') FROM rag_chunks c JOIN rag_documents d ON "
                                 "d.id = c.document_id WHERE d.source_key = :k"),
                         {"k": f"hub:{hub.hub_slug(11)}"}).scalar()
    assert stats["updated"] == 1 and stats["removed"] == 1 and stats["added"] == 0
    assert f"hub:{hub.hub_slug(16)}" not in keys and len(keys) == 24 and "empty car park" in text


def test_a_hub_question_is_answered_from_the_hub_page_and_cites_it(engine, indexed):
    from nexdrive.services.compliance import hub
    with session_scope(engine) as s:
        answer = knowledge.answer_question(s, "How can I help my son practise reverse parallel parking?")
        review = knowledge.answer_question(s, "What happens in Review 1?", "sms")
    assert not answer.needs_handoff and "wheelie bins" in answer.text, answer
    assert answer.sources[0]["url"] == hub.hub_path(15) and answer.sources[0]["key"] == f"hub:{hub.hub_slug(15)}"
    assert "tasks 1 to 17" in review.text and any(src["url"] == "/hub/review-1" for src in review.sources), review


def test_hub_is_not_a_kind_the_admin_can_add_and_no_private_table_is_indexed(engine, indexed):
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            knowledge.save_document(s, SYSTEM, title="My own hub page", source_type="hub",
                                    text="Something about hill starts, written by hand.")
        types = set(s.execute(sa.text("SELECT DISTINCT source_type FROM rag_documents")).scalars())
        leaked = s.execute(sa.text("SELECT count(*) FROM rag_chunks WHERE content ~* :p"),
                           {"p": r"[\w.+-]+@[\w-]+\.[a-z]|(\+61|\m0)4\d{2} ?\d{3} ?\d{3}"}).scalar()
    assert types <= set(knowledge.ALLOWED_SOURCE_TYPES) and leaked == 0
