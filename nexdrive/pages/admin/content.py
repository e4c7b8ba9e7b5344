"""``/admin/content``: the website's content — the FAQ (also what the assistant answers from), testimonials
with the person's consent, and blog posts in Markdown with a live preview.

Rules (access, validation, consent, audit, re-indexing the FAQ): ``services.content``. The views are in
``views/content_views.py``.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

from nexdrive.errors import ServiceError
from nexdrive.pages.admin.views.content_views import content_view
from nexdrive.services.content import blog, faq, testimonials
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/content"
TITLE = "Website content | NexDrive Academy admin"
DESCRIPTION = "The FAQ, testimonials and blog posts of the NexDrive Academy website."

EMPTY_FAQ = {"id": "", "category": "", "question": "", "answer": "", "position": "", "published": "on"}
EMPTY_TESTIMONIAL = {"id": "", "quote": "", "display_name": "", "suburb": "", "role": "", "highlight": "",
                     "rating": "", "consent_given_by": "", "consent_date": "", "consent_method": "",
                     "published": "", "withdrawn": ""}
EMPTY_POST = {"id": "", "title": "", "slug": "", "summary": "", "category": "", "author_name": "",
              "status": "draft", "url": ""}


def _s(d: dict[str, Any]) -> dict[str, str]:
    return {k: ("on" if v is True else "" if v is False or v is None else str(v)) for k, v in d.items()}


class ContentState(rx.State):
    loaded: bool = False
    tab: str = "blog"
    error: str = ""
    notice: str = ""
    busy: bool = False

    faqs: list[dict[str, str]] = []
    faq_form: dict[str, str] = dict(EMPTY_FAQ)
    faq_errors: dict[str, str] = {}
    faq_version: int = 0

    quotes: list[dict[str, str]] = []
    quote_form: dict[str, str] = dict(EMPTY_TESTIMONIAL)
    quote_errors: dict[str, str] = {}
    quote_version: int = 0

    posts: list[dict[str, str]] = []
    post_form: dict[str, str] = dict(EMPTY_POST)
    post_body: str = ""
    post_errors: dict[str, str] = {}
    post_version: int = 0

    async def _fetch(self):
        def work(session, actor):
            return (faq.list_entries(session, actor), testimonials.list_testimonials(session, actor),
                    blog.list_posts(session, actor))
        try:
            entries, quotes, posts = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.faqs = [_s({k: e[k] for k in ("id", "key", "category", "question", "answer", "position",
                                            "published")}) for e in entries]
        self.quotes = [_s({k: q[k] for k in ("id", "quote", "name", "suburb", "role", "highlight", "rating",
                                              "published", "sample", "consent_given_by", "consent_date",
                                              "consent_when", "consent_method", "consent_withdrawn",
                                              "has_consent")}) for q in quotes]
        self.posts = [_s({k: p[k] for k in ("id", "slug", "title", "category", "status", "published", "url")})
                      for p in posts]
        self.loaded = True

    @rx.event
    async def load(self):
        self.error, self.notice = "", ""
        await self._fetch()

    @rx.event
    def set_tab(self, value: str):
        self.tab, self.notice, self.error = value, "", ""

    # ── FAQ ──

    @rx.event
    def new_faq(self):
        self.faq_form, self.faq_errors, self.notice = dict(EMPTY_FAQ), {}, ""
        self.faq_version += 1

    @rx.event
    def edit_faq(self, entry_id: str):
        entry = next((e for e in self.faqs if e["id"] == entry_id), None)
        if entry is not None:
            self.faq_form = {k: entry.get(k, "") for k in EMPTY_FAQ}
            self.faq_errors, self.notice = {}, ""
            self.faq_version += 1

    @rx.event
    async def save_faq(self, form: dict):
        entry_id = self.faq_form.get("id") or None
        data = {"category": form.get("faq_category", ""), "question": form.get("faq_question", ""),
                "answer": form.get("faq_answer", ""), "position": form.get("faq_position", ""),
                "published": bool(form.get("faq_published"))}
        self.busy, self.faq_errors, self.notice = True, {}, ""
        yield
        try:
            saved = await run_as_actor(self, lambda s, a: faq.save_entry(s, a, entry_id=entry_id, **data))
        except ServiceError as exc:
            self.busy, self.faq_errors = False, {str(exc.details.get("field") or "form"): exc.message}
            return
        self.busy = False
        self.faq_form = {k: _s(saved).get(k, "") for k in EMPTY_FAQ}
        self.faq_version += 1
        self.notice = "Saved: the FAQ page and the assistant use the new text now."
        await self._fetch()

    @rx.event
    async def delete_faq(self):
        entry_id = self.faq_form.get("id")
        if not entry_id:
            return
        try:
            await run_as_actor(self, lambda s, a: faq.delete_entry(s, a, entry_id))
        except ServiceError as exc:
            self.error = exc.message
            return
        self.faq_form, self.notice = dict(EMPTY_FAQ), "The question was removed from the FAQ."
        self.faq_version += 1
        await self._fetch()

    # ── Testimonials ──

    @rx.event
    def new_quote(self):
        self.quote_form, self.quote_errors, self.notice = dict(EMPTY_TESTIMONIAL), {}, ""
        self.quote_version += 1

    @rx.event
    def edit_quote(self, testimonial_id: str):
        self._edit_quote(testimonial_id)

    def _edit_quote(self, testimonial_id: str):
        q = next((t for t in self.quotes if t["id"] == testimonial_id), None)
        if q is not None:
            self.quote_form = {**dict(EMPTY_TESTIMONIAL), **{k: q.get(k, "") for k in EMPTY_TESTIMONIAL},
                               "display_name": q.get("name", ""), "withdrawn": q.get("consent_withdrawn", "")}
            self.quote_errors, self.notice = {}, ""
            self.quote_version += 1

    @rx.event
    async def save_quote(self, form: dict):
        testimonial_id = self.quote_form.get("id") or None
        data = {k: form.get(f"t_{k}", "") for k in ("quote", "display_name", "suburb", "role", "highlight",
                                                      "rating", "consent_given_by", "consent_date",
                                                      "consent_method")}
        data["published"] = bool(form.get("t_published"))
        self.busy, self.quote_errors, self.notice = True, {}, ""
        yield
        try:
            saved = await run_as_actor(self, lambda s, a: testimonials.save_testimonial(
                s, a, testimonial_id=testimonial_id, **data))
        except ServiceError as exc:
            self.busy, self.quote_errors = False, {str(exc.details.get("field") or "form"): exc.message}
            return
        self.busy = False
        self.notice = "Saved." + (" It shows on the website now." if saved["published"] else
                                  " It is not published.")
        await self._fetch()
        self._edit_quote(saved["id"])

    @rx.event
    async def withdraw_consent(self):
        testimonial_id = self.quote_form.get("id")
        if not testimonial_id:
            return
        try:
            saved = await run_as_actor(self, lambda s, a: testimonials.withdraw_consent(s, a, testimonial_id))
        except ServiceError as exc:
            self.error = exc.message
            return
        self.notice = "Consent withdrawn: the testimonial is no longer on the website."
        await self._fetch()
        self._edit_quote(saved["id"])

    # ── Blog ──

    @rx.event
    def new_post(self):
        self._new_post()

    def _new_post(self):
        self.post_form, self.post_body, self.post_errors, self.notice = dict(EMPTY_POST), "", {}, ""
        self.post_version += 1

    @rx.event
    async def edit_post(self, post_id: str):
        try:
            post = await run_as_actor(self, lambda s, a: blog.get_post(s, a, post_id))
        except ServiceError as exc:
            self.error = exc.message
            return
        self._show_post(post)

    def _show_post(self, post: dict):
        self.post_form = {**dict(EMPTY_POST), **{k: str(post.get(k) or "") for k in EMPTY_POST},
                          "author_name": post.get("author", "")}
        self.post_body = post.get("body", "")
        self.post_errors, self.notice = {}, ""
        self.post_version += 1

    @rx.event
    def set_post_body(self, value: str):
        self.post_body = value

    @rx.event
    async def save_post(self, form: dict):
        post_id = self.post_form.get("id") or None
        publish = (form.get("post_status") or "draft") == "published"
        data = {"title": form.get("post_title", ""), "slug": form.get("post_slug", ""),
                "summary": form.get("post_summary", ""), "category": form.get("post_category", ""),
                "author_name": form.get("post_author", ""), "body": self.post_body}
        self.busy, self.post_errors, self.notice = True, {}, ""
        yield
        try:
            saved = await run_as_actor(self, lambda s, a: blog.save_post(s, a, post_id=post_id, publish=publish,
                                                                           **data))
        except ServiceError as exc:
            self.busy, self.post_errors = False, {str(exc.details.get("field") or "form"): exc.message}
            return
        self.busy = False
        self._show_post(saved)
        self.notice = (f"Published: the post is on the blog at {saved['url']}." if saved["status"] == "published"
                       else "Saved as a draft: it is not on the website.")
        await self._fetch()

    @rx.event
    async def delete_post(self):
        post_id = self.post_form.get("id")
        if not post_id:
            return
        try:
            await run_as_actor(self, lambda s, a: blog.delete_post(s, a, post_id))
        except ServiceError as exc:
            self.error = exc.message
            return
        self._new_post()
        self.notice = "The post was deleted."
        await self._fetch()


def content_page() -> rx.Component:
    return content_view(ContentState)


ON_LOAD = [*require_role("admin"), ContentState.load]
