"""The owner's content (issue 16 item 6): FAQ, testimonials with consent, blog posts — use cases against the
real database (access, audit, validation leaves the database unchanged, drafts never public by any path,
the FAQ re-indexed into the assistant), the content API in the envelope, RSS parsed with xml.etree."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.http_app import build_api
from nexdrive.models import User
from nexdrive.services.ai import knowledge
from nexdrive.services.content import blog, faq, testimonials
from nexdrive.services.content._common import render_markdown
from nexdrive.services.core import clock
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.services.identity import accounts
from tests.factories import make_user

BASE = "https://nexdrive.example"
NOW = datetime.fromisoformat("2026-03-10T10:00:00+11:00")


@pytest.fixture
def people(engine):
    with session_scope(engine) as s:
        owner, _ = make_user(s, "admin", "Olive", "Owner")
        teacher, _ = make_user(s, "instructor", "Ian")
        learner, _ = make_user(s, "student", "Sam")
        ids = {"admin": owner.id, "instructor": teacher.id, "student": learner.id}
    return {role: Actor(role=role, user_id=uid) for role, uid in ids.items()} | {"ids": ids}


def audit_count(engine, prefix: str) -> int:
    with session_scope(engine) as s:
        return s.execute(sa.text("SELECT count(*) FROM audit_log WHERE event_type LIKE :p"),
                         {"p": prefix + "%"}).scalar_one()


def table_counts(engine) -> dict:
    with session_scope(engine) as s:
        return {t: tuple(s.execute(sa.text(f"SELECT count(*), coalesce(max({c})::text, '') FROM {t}")).one())
                for t, c in (("faq_entries", "updated_at"), ("testimonials", "updated_at"),
                             ("blog_posts", "updated_at"), ("audit_log", "seq"), ("rag_documents", "updated_at"))}


POST = {"title": "Your first lesson: a checklist", "summary": "What to bring and what happens on the day.",
        "body": "# Before you start\n\nBring your **learner licence**.\n\n<script>alert(1)</script>\n\n"
                "[bad](javascript:alert(1)) and [good](/faq).",
        "category": "Learning to drive"}


# ── Access ──

@pytest.mark.parametrize("who", ["instructor", "student", "visitor"])
def test_only_the_administrator_writes_content(engine, people, who):
    actor = VISITOR if who == "visitor" else people[who]
    expected = AuthRequired if who == "visitor" else Forbidden
    before = table_counts(engine)
    calls = [
        lambda s: faq.save_entry(s, actor, category="Lessons", question="Is this allowed?", answer="No, it is not."),
        lambda s: faq.list_entries(s, actor),
        lambda s: testimonials.save_testimonial(s, actor, quote="Great lessons, thank you.", display_name="Amy"),
        lambda s: testimonials.list_testimonials(s, actor),
        lambda s: blog.save_post(s, actor, **POST),
        lambda s: blog.list_posts(s, actor),
    ]
    for call in calls:
        with pytest.raises(expected):
            with session_scope(engine) as s:
                call(s)
    assert table_counts(engine) == before


# ── FAQ ──

def test_the_migrated_faq_is_public_and_indexed_for_the_assistant(engine):
    with session_scope(engine) as s:
        groups = faq.public_groups(s)
        entries = faq.knowledge_entries(s)
    assert [g["title"] for g in groups][:2] == ["Log book and supervised hours", "The CBT&A scheme"]
    assert sum(len(g["items"]) for g in groups) == len(entries) == 19
    assert entries[0]["key"] == "logbook-0" and entries[0]["url"] == "/faq#faq-log-book-and-supervised-hours"
    assert any(e["key"] == faq.CANCELLATION_KEY for e in entries)


def test_an_faq_edit_is_audited_and_reindexed_so_the_assistant_answers_from_the_new_text(engine, people):
    admin = people["admin"]
    with session_scope(engine) as s:
        knowledge.index_documents(s, SYSTEM, knowledge.faq_documents(faq.knowledge_entries(s)))
    with session_scope(engine) as s:
        first = next(e for e in faq.list_entries(s, admin) if e["key"] == "lessons-0")
        faq.save_entry(s, admin, entry_id=first["id"], category=first["category"], question=first["question"],
                       answer="Bring your learner licence and a water bottle; we supply the zebrafish cushion.")
        added = faq.save_entry(s, admin, category="Lessons", question="Do you teach on weekends?",
                               answer="Yes: Saturday mornings, with our quokka-friendly timetable.")
    with session_scope(engine) as s:
        hits = knowledge.search(s, "zebrafish cushion")
        assert hits and hits[0].source_key == "faq:lessons-0"
        new_hits = knowledge.search(s, "quokka timetable")
        assert new_hits and new_hits[0].source_key == f"faq:{added['key']}"
        faq.save_entry(s, admin, entry_id=added["id"], category="Lessons", question="Do you teach on weekends?",
                       answer="Yes: Saturday mornings, with our quokka-friendly timetable.", published=False)
    with session_scope(engine) as s:
        assert not knowledge.search(s, "quokka timetable")
        assert all(e["key"] != added["key"] for e in faq.knowledge_entries(s))
        faq.delete_entry(s, admin, first["id"])
    with session_scope(engine) as s:
        assert not knowledge.search(s, "zebrafish cushion")
        events = s.execute(sa.text("SELECT event_type, details FROM audit_log WHERE subject_type = 'faq_entry' "
                                   "ORDER BY seq")).all()
    assert [e for e, _ in events] == ["FAQ_ENTRY_UPDATED", "FAQ_ENTRY_CREATED", "FAQ_ENTRY_UPDATED",
                                      "FAQ_ENTRY_DELETED"]
    assert "zebrafish" in events[0][1]["after"]["answer"] and "zebrafish" not in events[0][1]["before"]["answer"]


@pytest.mark.parametrize("fields, field", [
    ({"question": ""}, "question"),
    ({"answer": "short"}, "answer"),
    ({"category": "x" * 61}, "category"),
    ({"answer": "Call us on 0412 345 678 any time."}, "answer"),
    ({"answer": "Email hello@nexdrive.example for anything."}, "answer"),
    ({"position": "first"}, "position"),
])
def test_a_refused_faq_entry_leaves_the_database_unchanged(engine, people, fields, field):
    before = table_counts(engine)
    data = {"category": "Lessons", "question": "A fine question?", "answer": "A perfectly fine answer.", **fields}
    with pytest.raises(ValidationFailed) as refused:
        with session_scope(engine) as s:
            faq.save_entry(s, people["admin"], **data)
    assert refused.value.details["field"] == field and refused.value.message
    assert table_counts(engine) == before


# ── Testimonials ──

def test_testimonials_are_published_only_with_consent_and_withdrawal_unpublishes_at_once(engine, people):
    admin = people["admin"]
    with session_scope(engine) as s:
        samples = testimonials.published(s)
    assert len(samples) == 8 and all(t["sample"] for t in samples)
    with pytest.raises(ValidationFailed) as refused:
        with session_scope(engine) as s:
            testimonials.save_testimonial(s, admin, quote="Patient and clear, passed first go.",
                                          display_name="Priya", suburb="Ainslie", rating=5, published=True)
    assert refused.value.details["field"] == "consent_given_by"
    with pytest.raises(ValidationFailed) as partial:
        with session_scope(engine) as s:
            testimonials.save_testimonial(s, admin, quote="Patient and clear, passed first go.",
                                          display_name="Priya", consent_given_by="Priya Shah", published=True)
    assert partial.value.details["field"] == "consent_date"
    with clock.pinned(NOW):
        with session_scope(engine) as s:
            saved = testimonials.save_testimonial(
                s, admin, quote="Patient and clear, passed first go.", display_name="Priya", suburb="Ainslie",
                rating=5, consent_given_by="Priya Shah", consent_date="03/03/2026",
                consent_method="email 3 Mar 2026", published=True)
    assert saved["has_consent"] and saved["consent_when"] == "3 March 2026"
    with session_scope(engine) as s:
        shown = testimonials.published(s)
        assert any(t["id"] == saved["id"] and t["name"] == "Priya" for t in shown)
        assert "consent_given_by" not in shown[0]  # the consent record is the office's
        testimonials.withdraw_consent(s, admin, saved["id"], note="asked by phone")
    with session_scope(engine) as s:
        assert all(t["id"] != saved["id"] for t in testimonials.published(s))
        row = s.execute(sa.text("SELECT is_published, consent_withdrawn_at FROM testimonials WHERE id = :i"),
                        {"i": saved["id"]}).one()
        assert row[0] is False and row[1] is not None
    with pytest.raises(ValidationFailed):
        with session_scope(engine) as s:
            testimonials.save_testimonial(
                s, admin, testimonial_id=saved["id"], quote="Patient and clear, passed first go.",
                display_name="Priya", consent_given_by="Priya Shah", consent_date="03/03/2026",
                consent_method="email 3 Mar 2026", published=True)
    with pytest.raises(InvalidState):
        with session_scope(engine) as s:
            testimonials.withdraw_consent(s, admin, saved["id"])
    events = audit_count(engine, "TESTIMONIAL_")
    assert events == 2  # created, consent withdrawn
    # The database refuses a published testimonial without consent even if the code were wrong.
    with pytest.raises(sa.exc.IntegrityError):
        with session_scope(engine) as s:
            s.execute(sa.text("UPDATE testimonials SET is_published = true WHERE id = :i"), {"i": saved["id"]})


def test_a_consent_date_in_the_future_is_refused(engine, people):
    with clock.pinned(NOW):
        with pytest.raises(ValidationFailed) as refused:
            with session_scope(engine) as s:
                testimonials.save_testimonial(s, people["admin"], quote="Lovely lessons every week.",
                                              display_name="Tom", consent_given_by="Tom", consent_date="11/03/2026",
                                              consent_method="email")
    assert refused.value.details["field"] == "consent_date"


# ── Blog ──

def test_a_draft_is_never_public_by_any_path(engine, people):
    admin = people["admin"]
    with clock.pinned(NOW):
        with session_scope(engine) as s:
            draft = blog.save_post(s, admin, **POST)
            published = blog.save_post(s, admin, title="Night driving hours", slug="night-driving-hours",
                                       summary="How the 10 night hours work.", body="Night hours count after "
                                       "sunset: log them in your book.", category="Log book", publish=True)
    assert draft["status"] == "draft" and draft["slug"] == "your-first-lesson-a-checklist"
    assert draft["author"] == "Olive Owner" and published["published_when"].startswith("Tue 10 March 2026")
    with clock.pinned(NOW + timedelta(hours=1)):
        with session_scope(engine) as s:
            listing = blog.public_posts(s)
            assert [p["slug"] for p in listing] == ["night-driving-hours"]
            assert blog.public_posts(s, "log-book") and not blog.public_posts(s, "learning-to-drive")
            assert [c["slug"] for c in blog.public_categories(s)] == ["log-book"]
            with pytest.raises(NotFound):
                blog.public_post(s, draft["slug"])
            assert blog.public_post(s, "night-driving-hours")["body"].startswith("Night hours")
            assert [e["path"] for e in blog.sitemap_entries(s)] == ["/blog/night-driving-hours"]
            feed = blog.rss_feed(s, BASE)
        client = TestClient(build_api())
        api_list = client.get("/api/v1/content/blog").json()["data"]
        api_draft = client.get(f"/api/v1/content/blog/{draft['slug']}")
        rss = client.get("/blog/rss.xml")
        sitemap = client.get("/sitemap.xml")
    assert [p["slug"] for p in api_list["posts"]] == ["night-driving-hours"]
    assert api_draft.status_code == 404 and api_draft.json()["error"]["code"] == "NOT_FOUND"
    assert rss.status_code == 200 and rss.headers["content-type"].startswith("application/rss+xml")
    assert "your-first-lesson" not in rss.text and "your-first-lesson" not in sitemap.text
    assert "/blog/night-driving-hours</loc>" in sitemap.text
    ET.fromstring(sitemap.content)  # well-formed
    root = ET.fromstring(feed.encode())
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    assert [i.findtext("link") for i in items] == [f"{BASE}/blog/night-driving-hours"]
    pub = parsedate_to_datetime(items[0].findtext("pubDate"))
    assert pub == NOW and items[0].findtext("pubDate").endswith("+1100")


def test_publishing_is_audited_and_the_post_then_appears_in_the_feed(engine, people):
    admin = people["admin"]
    with clock.pinned(NOW):
        with session_scope(engine) as s:
            post = blog.save_post(s, admin, **POST)
            blog.set_status(s, admin, post["id"], True)
        with session_scope(engine) as s:
            feed = ET.fromstring(blog.rss_feed(s, BASE).encode())
            with pytest.raises(InvalidState):
                blog.set_status(s, admin, post["id"], True)
    item = feed.find("./channel/item")
    assert item.findtext("title") == POST["title"] and item.findtext("category") == "Learning to drive"
    html = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert "<strong>learner licence</strong>" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="/faq"' in html
    with session_scope(engine) as s:
        events = [r[0] for r in s.execute(sa.text("SELECT event_type FROM audit_log WHERE subject_type = "
                                                  "'blog_post' ORDER BY seq"))]
    assert events == ["BLOG_POST_CREATED", "BLOG_POST_PUBLISHED"]
    with session_scope(engine) as s:
        blog.set_status(s, admin, post["id"], False)
        assert blog.public_posts(s) == [] and "<item>" not in blog.rss_feed(s, BASE)


@pytest.mark.parametrize("fields, field", [
    ({"title": ""}, "title"),
    ({"slug": "Not A Slug!"}, "slug"),
    ({"slug": "rss"}, "slug"),
    ({"body": "too short"}, "body"),
    ({"summary": "x" * 301}, "summary"),
    ({"category": ""}, "category"),
])
def test_a_refused_post_leaves_the_database_unchanged(engine, people, fields, field):
    before = table_counts(engine)
    with pytest.raises(ValidationFailed) as refused:
        with session_scope(engine) as s:
            blog.save_post(s, people["admin"], **{**POST, **fields})
    assert refused.value.details["field"] == field
    assert table_counts(engine) == before


def test_slugs_are_unique(engine, people):
    with session_scope(engine) as s:
        blog.save_post(s, people["admin"], **POST)
    before = table_counts(engine)
    with pytest.raises(ValidationFailed) as refused:
        with session_scope(engine) as s:
            blog.save_post(s, people["admin"], **{**POST, "title": "Another"}, slug="your-first-lesson-a-checklist")
    assert refused.value.details["field"] == "slug" and "already" in refused.value.message
    assert table_counts(engine) == before


def test_markdown_is_rendered_without_raw_html():
    html = render_markdown('<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1)) <a href="y">z</a>')
    assert "<img" not in html and "<a href=\"y\"" not in html and "<strong>bold</strong>" in html
    assert 'href="javascript' not in html


# ── The content API ──

def bearer(engine, user_id) -> dict:
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, user_id), None, None)
    return {"Authorization": f"Bearer {issued.token}"}


def test_the_content_api_reads_publicly_and_writes_for_the_administrator_only(engine, people):
    client = TestClient(build_api())
    faq_list = client.get("/api/v1/content/faq")
    assert faq_list.status_code == 200 and faq_list.json()["data"][0]["items"][0]["key"] == "logbook-0"
    assert len(client.get("/api/v1/content/testimonials").json()["data"]) == 8
    body = {**POST, "status": "published"}
    anonymous = client.post("/api/v1/content/blog/posts", json=body)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "AUTH_REQUIRED"
    teacher = client.post("/api/v1/content/blog/posts", json=body, headers=bearer(engine, people["ids"]["instructor"]))
    assert teacher.status_code == 403 and teacher.json()["error"]["code"] == "FORBIDDEN"
    owner = bearer(engine, people["ids"]["admin"])
    bad = client.post("/api/v1/content/blog/posts", json={**body, "slug": "Bad Slug"}, headers=owner)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "slug"
    made = client.post("/api/v1/content/blog/posts", json=body, headers=owner)
    assert made.status_code == 201, made.text
    slug = made.json()["data"]["slug"]
    assert client.get(f"/api/v1/content/blog/{slug}").json()["data"]["title"] == POST["title"]
    draft = client.put(f"/api/v1/content/blog/posts/{made.json()['data']['id']}", json={**body, "status": "draft"},
                       headers=owner)
    assert draft.status_code == 200 and draft.json()["data"]["status"] == "draft"
    assert client.get(f"/api/v1/content/blog/{slug}").status_code == 404
    assert client.get("/api/v1/content/blog/posts").status_code == 401
    assert [p["slug"] for p in client.get("/api/v1/content/blog/posts", headers=owner).json()["data"]] == [slug]
    entry = client.post("/api/v1/content/faq", headers=owner, json={
        "category": "Lessons", "question": "Can I bring a friend?", "answer": "Only a supervising driver, please."})
    assert entry.status_code == 201 and entry.json()["data"]["key"] == "can-i-bring-a-friend"
