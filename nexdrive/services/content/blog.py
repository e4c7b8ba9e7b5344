"""The blog: posts in Markdown with a title, a unique slug, a summary, a category and an author; a draft
until the owner publishes it.

Only published posts (``status = 'published'`` and ``published_at`` not in the future) are public — by
``/blog``, ``/blog/<slug>``, the RSS feed, the sitemap and the content API alike: every public reader goes
through ``_public_query``. Writes are the administrator's, validated and audited. Dates are shown in
Canberra time; the feed's dates are RFC 822.
"""
from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from sqlmodel import Session, select

from nexdrive.errors import InvalidState, NotFound, ValidationFailed
from nexdrive.formats import au_date, au_time, local
from nexdrive.models import BlogPost, Profile
from nexdrive.services.content._common import block, one_line, render_markdown, slugify
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event

ROUTE = "/blog"
RSS_PATH = "/blog/rss.xml"
MAX_TITLE = 120
MAX_SUMMARY = 300
MAX_BODY = 60_000
MAX_CATEGORY = 40
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"rss", "rss-xml", "feed", "category", "new", "admin", "posts"}


def _when(dt: datetime | None) -> str:
    return f"{au_date(dt)}, {au_time(dt)}" if dt else ""


def _summary_view(row: BlogPost) -> dict[str, Any]:
    return {"id": str(row.id), "slug": row.slug, "title": row.title, "summary": row.summary,
            "category": row.category, "category_slug": slugify(row.category), "status": row.status,
            "author": row.author_name, "url": f"{ROUTE}/{row.slug}",
            "published_at": row.published_at.isoformat() if row.published_at else "",
            "published": au_date(row.published_at, weekday=False) if row.published_at else "",
            "published_when": _when(row.published_at)}


def _full_view(row: BlogPost) -> dict[str, Any]:
    return {**_summary_view(row), "body": row.body,
            "updated_at": row.updated_at.isoformat() if row.updated_at else ""}


def _public_query(session: Session):
    return (select(BlogPost).where(BlogPost.status == "published", BlogPost.published_at <= clock.now(session))
            .order_by(BlogPost.published_at.desc(), BlogPost.slug))


# ─────────────────────────────────────────────────────────────────────────────
# Public reading
# ─────────────────────────────────────────────────────────────────────────────

def public_posts(session: Session, category: str = "", *, limit: int = 50, offset: int = 0
                 ) -> list[dict[str, Any]]:
    """Published posts, newest first; ``category`` is a category's slug (``road-rules``) or empty for all."""
    rows = session.exec(_public_query(session)).all()
    if category:
        rows = [r for r in rows if slugify(r.category) == category]
    return [_summary_view(r) for r in rows[offset:offset + max(1, min(limit, 100))]]


def public_categories(session: Session) -> list[dict[str, Any]]:
    """The categories of published posts with their counts, alphabetical."""
    counts: dict[str, dict[str, Any]] = {}
    for row in session.exec(_public_query(session)).all():
        entry = counts.setdefault(slugify(row.category), {"slug": slugify(row.category), "name": row.category,
                                                          "count": 0})
        entry["count"] += 1
    return sorted(counts.values(), key=lambda c: c["name"].lower())


def public_post(session: Session, slug: str) -> dict[str, Any]:
    """One published post with its Markdown body; a draft (or unknown slug) is not found."""
    slug = (slug or "").strip().lower()
    row = session.exec(_public_query(session).where(BlogPost.slug == slug)).first() if _SLUG.match(slug) else None
    if row is None:
        raise NotFound("There is no published post at that address.")
    return _full_view(row)


def sitemap_entries(session: Session) -> list[dict[str, str]]:
    """Published posts for the sitemap: path and last change (W3C date)."""
    return [{"path": f"{ROUTE}/{r.slug}", "lastmod": local(r.updated_at or r.published_at).date().isoformat()}
            for r in session.exec(_public_query(session)).all()]


def rss_feed(session: Session, base_url: str, *, title: str = "NexDrive Academy blog",
             description: str = "News and guides for ACT learner drivers and their parents.", limit: int = 20
             ) -> str:
    """An RSS 2.0 document of the newest published posts (RFC 822 dates, HTML bodies rendered safely)."""
    base = base_url.rstrip("/")
    content_ns = "http://purl.org/rss/1.0/modules/content/"
    atom_ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("content", content_ns)
    ET.register_namespace("atom", atom_ns)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = base + ROUTE
    ET.SubElement(channel, "description").text = description
    ET.SubElement(channel, "language").text = "en-AU"
    ET.SubElement(channel, f"{{{atom_ns}}}link", {"href": base + RSS_PATH, "rel": "self",
                                                  "type": "application/rss+xml"})
    rows = session.exec(_public_query(session).limit(limit)).all()
    if rows:
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(local(max(r.published_at for r in rows)))
    for row in rows:
        item = ET.SubElement(channel, "item")
        url = f"{base}{ROUTE}/{row.slug}"
        ET.SubElement(item, "title").text = row.title
        ET.SubElement(item, "link").text = url
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = url
        ET.SubElement(item, "description").text = row.summary
        ET.SubElement(item, f"{{{content_ns}}}encoded").text = render_markdown(row.body)
        ET.SubElement(item, "category").text = row.category
        ET.SubElement(item, "pubDate").text = format_datetime(local(row.published_at))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode")


# ─────────────────────────────────────────────────────────────────────────────
# The office's editor
# ─────────────────────────────────────────────────────────────────────────────

def list_posts(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every post, drafts included, newest change first."""
    access.require_edit_content(actor)
    rows = session.exec(select(BlogPost).order_by(BlogPost.updated_at.desc())).all()
    return [_summary_view(r) for r in rows]


def get_post(session: Session, actor: Actor, post_id: uuid.UUID | str) -> dict[str, Any]:
    access.require_edit_content(actor)
    return _full_view(_row(session, post_id))


def _row(session: Session, post_id: uuid.UUID | str, *, lock: bool = False) -> BlogPost:
    try:
        key = uuid.UUID(str(post_id))
    except ValueError:
        raise NotFound("That post doesn't exist.") from None
    row = session.get(BlogPost, key, with_for_update=lock)
    if row is None:
        raise NotFound("That post doesn't exist.")
    return row


def _author_name(session: Session, actor: Actor) -> str:
    if actor.user_id:
        profile = session.exec(select(Profile).where(Profile.user_id == actor.user_id)).first()
        if profile is not None:
            return f"{profile.first_name} {profile.last_name}".strip()
    return "NexDrive Academy"


def _clean(session: Session, title: Any, slug: Any, summary: Any, body: Any, category: Any,
           author_name: Any, post_id: uuid.UUID | None) -> dict[str, Any]:
    clean = {
        "title": one_line(title, "title", "title", limit=MAX_TITLE),
        "summary": one_line(summary, "summary", "summary", limit=MAX_SUMMARY),
        "body": block(body, "body", "post", limit=MAX_BODY, minimum=20),
        "category": one_line(category, "category", "category", limit=MAX_CATEGORY),
    }
    if not slugify(clean["category"]):
        raise ValidationFailed("The category needs some letters or numbers.", field="category")
    name = one_line(author_name, "author_name", "author's name", limit=80, required=False)
    if name:
        clean["author_name"] = name
    text = str(slug or "").strip().lower()
    text = text or slugify(clean["title"])[:80].strip("-")
    if not _SLUG.match(text) or len(text) > 80:
        raise ValidationFailed("The address may use lower-case letters, numbers and single hyphens "
                               "(for example: first-lesson-checklist), up to 80 characters.", field="slug")
    if text in RESERVED_SLUGS:
        raise ValidationFailed("That address is reserved; please choose another.", field="slug")
    taken = session.exec(select(BlogPost.id).where(BlogPost.slug == text)).first()
    if taken is not None and taken != post_id:
        raise ValidationFailed("Another post already uses that address; please choose another.", field="slug")
    clean["slug"] = text
    return clean


def _audit_view(row: BlogPost) -> dict[str, Any]:
    return {"slug": row.slug, "title": row.title, "summary": row.summary, "category": row.category,
            "status": row.status, "author_name": row.author_name,
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "body_chars": len(row.body)}


def save_post(session: Session, actor: Actor, *, title: Any, summary: Any, body: Any, category: Any,
              slug: Any = "", author_name: Any = "", post_id: uuid.UUID | str | None = None,
              publish: bool | None = None) -> dict[str, Any]:
    """Create a post (a draft unless ``publish``) or change one; ``publish`` True/False also publishes or
    returns it to draft. Audited with what changed."""
    access.require_edit_content(actor)
    row = _row(session, post_id, lock=True) if post_id else None
    clean = _clean(session, title, slug, summary, body, category, author_name, row.id if row else None)
    if row is None:
        clean.setdefault("author_name", _author_name(session, actor))
        row = BlogPost(author_id=actor.user_id, status="draft", **clean)
        before = None
    else:
        before = _audit_view(row)
        for name, value in clean.items():
            setattr(row, name, value)
    if publish is True and row.status != "published":
        row.status, row.published_at = "published", row.published_at or clock.now(session)
    elif publish is False and row.status != "draft":
        row.status = "draft"
    session.add(row)
    session.flush()
    after = _audit_view(row)
    if before is None:
        record_event(session, actor, "BLOG_POST_CREATED", subject_type="blog_post", subject_id=row.id,
                     details={"after": after})
    else:
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed:
            event = ("BLOG_POST_PUBLISHED" if changed.get("status") == "published" else
                     "BLOG_POST_UNPUBLISHED" if changed.get("status") == "draft" else "BLOG_POST_UPDATED")
            record_event(session, actor, event, subject_type="blog_post", subject_id=row.id,
                         details={"before": {k: before[k] for k in changed}, "after": changed})
    return _full_view(row)


def set_status(session: Session, actor: Actor, post_id: uuid.UUID | str, published: bool) -> dict[str, Any]:
    """Publish a draft (dated now, or its first publication date) or return a published post to draft."""
    access.require_edit_content(actor)
    row = _row(session, post_id, lock=True)
    want = "published" if published else "draft"
    if row.status == want:
        raise InvalidState("That post is already published." if published else "That post is already a draft.")
    before = _audit_view(row)
    row.status = want
    if published:
        row.published_at = row.published_at or clock.now(session)
    session.add(row)
    session.flush()
    record_event(session, actor, "BLOG_POST_PUBLISHED" if published else "BLOG_POST_UNPUBLISHED",
                 subject_type="blog_post", subject_id=row.id,
                 details={"before": {"status": before["status"]}, "after": {"status": want,
                                                                            "published_at": _audit_view(row)
                                                                            ["published_at"]}})
    return _full_view(row)


def delete_post(session: Session, actor: Actor, post_id: uuid.UUID | str) -> None:
    access.require_edit_content(actor)
    row = _row(session, post_id, lock=True)
    record_event(session, actor, "BLOG_POST_DELETED", subject_type="blog_post", subject_id=row.id,
                 details={"before": _audit_view(row)})
    session.delete(row)
    session.flush()


def render_html(markdown: str) -> str:
    """A post's (or preview's) Markdown as HTML, raw HTML escaped."""
    return render_markdown(markdown)
