"""/api/v1/content: the public website's content (architecture §4.2.11): the Competency Hub, the FAQ,
testimonials and the blog. Reading what is published is public; writes are the administrator's (the
session's cookie or bearer token), thin over ``services.content``. Errors in the envelope.

Also, outside /api: ``/blog/rss.xml`` (RSS 2.0 of the published posts) and ``/sitemap.xml`` (the build's
sitemap of the public pages plus every published post)."""
from __future__ import annotations

import re
import uuid
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from nexdrive.api.deps import current_actor, ok
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.api.static_delivery import static_dir
from nexdrive.db import session_scope
from nexdrive.services.compliance import hub
from nexdrive.services.content import blog, faq, testimonials
from nexdrive.settings import get_settings

router = APIRouter(tags=["content"], route_class=EnvelopeRoute)
public_router = APIRouter(include_in_schema=False)

Slug = Path(..., min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")


@router.get("/content/competency-hub")
def competency_hub():
    """Every Hub page (23 tasks and 2 reviews) in catalogue order: number, slug, label, name, title, description."""
    return ok([hub.page_dict(p, full=False) for p in hub.hub_pages()])


@router.get("/content/competency-hub/{task}")
def competency_hub_task(task: str = Path(..., min_length=1, max_length=120, pattern=r"^[A-Za-z0-9-]+$")):
    """One Hub page with its sections (what it is, how it is assessed, common mistakes, how to help) and
    related tasks."""
    return ok(hub.page_dict(hub.hub_page(task)))


# ── FAQ ──

class FaqIn(StrictInput):
    category: str = Field(max_length=200)
    question: str = Field(max_length=500)
    answer: str = Field(max_length=8000)
    position: int | None = Field(None, ge=0, le=100_000)
    published: bool = True


@router.get("/content/faq", summary="The published FAQ, by category")
def faq_listing():
    with session_scope() as session:
        return ok(faq.public_groups(session))


@router.post("/content/faq", summary="Add a question (administrator)")
def faq_add(body: FaqIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(faq.save_entry(session, actor, **body.model_dump()), 201)


@router.put("/content/faq/{entry_id}", summary="Change a question (administrator)")
def faq_change(entry_id: uuid.UUID, body: FaqIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(faq.save_entry(session, actor, entry_id=entry_id, **body.model_dump()))


@router.delete("/content/faq/{entry_id}", summary="Remove a question (administrator)")
def faq_remove(entry_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        faq.delete_entry(session, actor, entry_id)
        return ok({"deleted": str(entry_id)})


# ── Testimonials ──

class TestimonialIn(StrictInput):
    quote: str = Field(max_length=3000)
    display_name: str = Field(max_length=200)
    suburb: str = Field("", max_length=200)
    role: str = Field("", max_length=200)
    highlight: str = Field("", max_length=200)
    rating: int | None = Field(None, ge=1, le=5)
    consent_given_by: str = Field("", max_length=300)
    consent_date: str = Field("", max_length=20, description="dd/mm/yyyy")
    consent_method: str = Field("", max_length=300, description="how, e.g. 'email 3 Dec 2026'")
    published: bool = False


class WithdrawIn(StrictInput):
    note: str = Field("", max_length=300)


@router.get("/content/testimonials", summary="Published testimonials (with consent)")
def testimonial_listing():
    with session_scope() as session:
        return ok(testimonials.published(session))


@router.post("/content/testimonials", summary="Add a testimonial (administrator)")
def testimonial_add(body: TestimonialIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(testimonials.save_testimonial(session, actor, **body.model_dump()), 201)


@router.put("/content/testimonials/{testimonial_id}", summary="Change a testimonial (administrator)")
def testimonial_change(testimonial_id: uuid.UUID, body: TestimonialIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(testimonials.save_testimonial(session, actor, testimonial_id=testimonial_id, **body.model_dump()))


@router.post("/content/testimonials/{testimonial_id}/withdraw-consent",
             summary="Record that consent was withdrawn; unpublishes at once (administrator)")
def testimonial_withdraw(testimonial_id: uuid.UUID, body: WithdrawIn, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(testimonials.withdraw_consent(session, actor, testimonial_id, note=body.note))


@router.delete("/content/testimonials/{testimonial_id}", summary="Remove a testimonial (administrator)")
def testimonial_remove(testimonial_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        testimonials.delete_testimonial(session, actor, testimonial_id)
        return ok({"deleted": str(testimonial_id)})


# ── Blog ──

class PostIn(StrictInput):
    title: str = Field(max_length=500)
    summary: str = Field(max_length=1000)
    body: str = Field(max_length=100_000)
    category: str = Field(max_length=200)
    slug: str = Field("", max_length=200)
    author_name: str = Field("", max_length=200)
    status: Literal["draft", "published"] | None = None


@router.get("/content/blog", summary="Published blog posts, newest first")
def blog_listing(category: str = Query("", max_length=60, pattern=r"^[a-z0-9-]*$"),
                 limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=100_000)):
    with session_scope() as session:
        return ok({"posts": blog.public_posts(session, category, limit=limit, offset=offset),
                   "categories": blog.public_categories(session)})


@router.get("/content/blog/posts", summary="Every post, drafts included (administrator)")
def blog_all(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(blog.list_posts(session, actor))


@router.post("/content/blog/posts", summary="Write a post, a draft unless status is 'published' (administrator)")
def blog_add(body: PostIn, request: Request) -> JSONResponse:
    data = body.model_dump()
    status = data.pop("status")
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(blog.save_post(session, actor, publish=None if status is None else status == "published",
                                 **data), 201)


@router.put("/content/blog/posts/{post_id}", summary="Change a post; status publishes or returns it to draft "
                                                    "(administrator)")
def blog_change(post_id: uuid.UUID, body: PostIn, request: Request) -> JSONResponse:
    data = body.model_dump()
    status = data.pop("status")
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(blog.save_post(session, actor, post_id=post_id,
                                 publish=None if status is None else status == "published", **data))


@router.delete("/content/blog/posts/{post_id}", summary="Delete a post (administrator)")
def blog_remove(post_id: uuid.UUID, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        blog.delete_post(session, actor, post_id)
        return ok({"deleted": str(post_id)})


@router.get("/content/blog/{slug}", summary="One published post (Markdown body)")
def blog_post(slug: str = Slug):
    with session_scope() as session:
        return ok(blog.public_post(session, slug))


# ── Feeds outside /api ──

@public_router.get(blog.RSS_PATH)
def rss() -> Response:
    with session_scope() as session:
        xml = blog.rss_feed(session, get_settings().public_url)
    return Response(xml, media_type="application/rss+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


_URLSET_END = re.compile(r"</urlset>\s*$")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@public_router.get("/sitemap.xml")
def sitemap() -> Response:
    """The build's sitemap (the public pages, from the page registry) with every published post added."""
    base = get_settings().public_url
    built = static_dir() / "sitemap.xml"
    text = built.read_text(encoding="utf-8") if built.is_file() else ""
    if not _URLSET_END.search(text):
        text = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n</urlset>\n'
    with session_scope() as session:
        entries = blog.sitemap_entries(session)
    from xml.sax.saxutils import escape
    extra = "".join(f"<url><loc>{escape(base + e['path'])}</loc><lastmod>{e['lastmod']}</lastmod>"
                    f"<changefreq>monthly</changefreq><priority>0.6</priority></url>\n" for e in entries)
    text = _URLSET_END.sub(extra + "</urlset>\n", text)
    return Response(text, media_type="application/xml", headers={"Cache-Control": "public, max-age=300"})
